/**
 * Registration storm: how fast a FreeSWITCH image (FREESWITCH_IMAGE) registers extensions whose
 * credentials come from the config API (mod_xml_curl, the deployed path), with FreeSWITCH's user
 * cache on (the stack's default freeswitch.directoryCacheSeconds) and off (0), against the same
 * image with the same users in a static XML directory (the floor: no HTTP, no API).
 *
 * A bench stack (the real-FreeSWITCH suite's test stack plus 500 extensions) runs in the suite's
 * network namespaces; sipp (Debian's sip-tester) on the phone's IPv4 sends REGISTERs with digest
 * auth. For each path it finds the highest rate with under 1% failed registrations to within 3%
 * (doubling from BENCH_RATE_START until a step fails, then bisecting), and reports p50/p99
 * registration time, the CPU FreeSWITCH and the API used per registration (their containers'
 * cgroups: steadier than a rate on a shared machine), and for the API path the config API's CPU
 * time and peak memory. Targets for the deployed path (cache on): at least 0.95× the static
 * directory's rate and at most 1.1× its CPU per registration. Each user registers once per pass
 * over the 500, so a step longer than one pass is served mostly from FreeSWITCH's cache, as a
 * host's phones re-registering within the TTL are.
 * This is a benchmark: it measures and reports, it asserts nothing.
 *
 * Usage: FREESWITCH_IMAGE=<image> npm run bench:register (as root; the image must be in the local Docker store)
 *   BENCH_RATE_START=25, BENCH_RATE_MAX=3200   the search's first rate and ceiling (registrations/s)
 *   BENCH_STEP_SECONDS=4                      length of each step
 *   BENCH_PRECISION=0.03                      how close the search gets (0.03: to within 3%)
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "xmlbuilder2";
import { HOST_PATHS } from "../sip/hostLayout";
import type { RenderedFile } from "../sip/renderedFile";
import type { ExtensionRecord } from "../sip/apiContract";
import { docker } from "../test/support/exec";
import { TEST_NETWORK } from "../test/support/namespaces";
import { startStack, stopStack, type RunningStack, type StackOptions } from "../test/support/freeswitchStack";
import { scenario, sipp } from "../test/support/sipp";
import { highestPassingRate, roundAgainst } from "./stats";

const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** The search's first rate and ceiling (registrations per second), and how close it gets to the limit. */
const RATES_START = Number(process.env.BENCH_RATE_START ?? 25);
const RATE_MAX = Number(process.env.BENCH_RATE_MAX ?? 3200);
// 3%: finer than the 5% the rate target leaves (0.95×), so the search can tell a path that meets
// it from one that misses it; 10% could not (one step either way is 0.91× or 1.1×).
const PRECISION = Number(process.env.BENCH_PRECISION ?? 0.03);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 4);
const EXTENSIONS = 500;
const FIRST_ID = 1000;
const DOMAIN = "sip.example.com";
const MAX_FAILURE_RATIO = 0.01;
/** Cache on against the static directory: rate at least, CPU per registration at most. */
const TARGET_RATE_RATIO = 0.95;
const TARGET_CPU_RATIO = 1.1;

interface Step {
  readonly rate: number;
  readonly attempted: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
}

interface PathResult {
  readonly name: string;
  readonly steps: (Step & { readonly cpuMsPerRegistration: number })[];
  /** Highest rate with under 1% failures (0 when even the first step failed). */
  readonly sustained: number;
  /** Lowest rate that failed: the limit lies between the two. */
  readonly failedAt?: number;
  readonly api?: { readonly cpuSeconds: number; readonly wallSeconds: number; readonly peakMemoryMb: number };
}

/** The bench stack: the test stack plus EXTENSIONS extensions. */
const withExtensions: StackOptions["mutate"] = (config) => {
  for (let i = 0; i < EXTENSIONS; i++) config.extensions[String(FIRST_ID + i)] = { displayName: `Bench ${i}` };
};
/** The same with FreeSWITCH's user cache off: every REGISTER asks the API. */
const withExtensionsUncached: StackOptions["mutate"] = (config) => {
  withExtensions(config);
  config.freeswitch = { ...config.freeswitch, directoryCacheSeconds: 0 };
};

/**
 * The floor: the same users as a static directory in freeswitch.xml, and no xml_curl directory
 * binding, so FreeSWITCH answers REGISTERs from memory.
 */
function staticDirectory(
  files: RenderedFile[],
  stack: { readonly extensions: readonly ExtensionRecord[] },
): RenderedFile[] {
  const section = create().ele("section", { name: "directory", description: "Static users (benchmark floor)" });
  const domain = section.ele("domain", { name: DOMAIN });
  for (const e of stack.extensions) {
    const user = domain.ele("user", { id: e.id });
    user.ele("params").ele("param", { name: "password", value: e.password });
    user.ele("variables").ele("variable", { name: "user_context", value: e.context });
  }
  const directory = section.end({ headless: true });
  return files.map((f) => {
    if (f.path === `${HOST_PATHS.freeswitchConf}/freeswitch.xml`)
      return { ...f, content: f.content.replace(/<section name="directory"[^>]*\/>/, directory) };
    if (f.path === `${HOST_PATHS.freeswitchConf}/autoload_configs/xml_curl.conf.xml`)
      return {
        ...f,
        content:
          '<configuration name="xml_curl.conf" description="none (benchmark floor)"><bindings/></configuration>\n',
      };
    return f;
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** One sipp run at `rate` REGISTERs per second; registration times from its -trace_rtt file. */
async function step(stack: RunningStack, users: string, rate: number, port: number): Promise<Step> {
  const dir = await mkdtemp(join(tmpdir(), "fsimg-bench-"));
  const count = rate * STEP_SECONDS;
  const result = await sipp(
    stack,
    "phone",
    [
      `${TEST_NETWORK.server.ipv4}:5080`,
      "-sf",
      scenario("uac-register.xml"),
      "-inf",
      users,
      "-set",
      "domain",
      DOMAIN,
      "-i",
      TEST_NETWORK.phone.ipv4,
      "-p",
      String(port),
      "-r",
      String(rate),
      "-m",
      String(count),
      "-l",
      String(count),
      "-recv_timeout",
      "5000",
      "-timeout",
      String(STEP_SECONDS * 4 + 20),
      "-trace_rtt",
      "-rtt_freq",
      "1",
      "-nostdin",
    ],
    (STEP_SECONDS * 4 + 40) * 1000,
    dir,
  );
  const successful = Number(/Successful call\s+\|\s+\d+\s+\|\s+(\d+)/.exec(result.stdout)?.[1] ?? 0);
  if (successful < count && process.env.BENCH_DEBUG) console.error(result.stderr.slice(0, 3000));
  const rttFile = readdirSync(dir).find((f) => f.endsWith("_rtt.csv"));
  const times = rttFile
    ? readFileSync(join(dir, rttFile), "utf8")
        .split("\n")
        .slice(1)
        .map((line) => Number(line.split(";")[1]))
        .filter((x) => Number.isFinite(x))
        .sort((a, b) => a - b)
    : [];
  await rm(dir, { recursive: true, force: true });
  return { rate, attempted: count, failed: count - successful, p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** A container's cgroup file: v1 (cgroupfs driver, `controller`), else v2 (cgroupfs or systemd driver). */
function cgroupFile(controller: string, id: string, v1File: string, v2File: string): string | undefined {
  for (const path of [
    `/sys/fs/cgroup/${controller}/docker/${id}/${v1File}`,
    `/sys/fs/cgroup/docker/${id}/${v2File}`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/${v2File}`,
  ]) {
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** CPU time a container has used, in nanoseconds (cpuacct.usage, or cpu.stat's usage_usec). */
function cpuNanos(id: string): number {
  const file = cgroupFile("cpuacct", id, "cpuacct.usage", "cpu.stat");
  if (!file) return NaN;
  const text = readFileSync(file, "utf8");
  return file.endsWith("cpu.stat") ? Number(/^usage_usec (\d+)/m.exec(text)?.[1]) * 1000 : Number(text);
}

/** Passing: under 1% of a step's registrations failed. */
const passed = (s: Step) => s.failed / s.attempted < MAX_FAILURE_RATIO;

async function runPath(name: string, options: StackOptions): Promise<PathResult> {
  const stack = await startStack(options);
  try {
    const users = join(stack.root, "users.csv");
    const bench = stack.extensions.filter((e) => Number(e.id) >= FIRST_ID);
    // sipp expands a keyword inside an injected field, not a field inside a keyword.
    writeFileSync(
      users,
      `SEQUENTIAL\n${bench.map((e) => `${e.id};[authentication username=${e.id} password=${e.password}]`).join("\n")}\n`,
    );
    const apiId = (await docker("inspect", "-f", "{{.Id}}", stack.containers.api)).trim();
    const freeswitchId = (await docker("inspect", "-f", "{{.Id}}", stack.containers.freeswitch)).trim();
    const cpu = () => cpuNanos(apiId) + cpuNanos(freeswitchId);
    const memFile = cgroupFile("memory", apiId, "memory.max_usage_in_bytes", "memory.peak");
    if (memFile?.endsWith("max_usage_in_bytes")) writeFileSync(memFile, "0");
    const apiCpuBefore = cpuNanos(apiId);
    const started = Date.now();
    const steps: PathResult["steps"] = [];
    const search = await highestPassingRate(
      async (rate) => {
        const before = cpu();
        const s = await step(stack, users, rate, 5100 + steps.length);
        const successful = s.attempted - s.failed;
        const measured = { ...s, cpuMsPerRegistration: successful > 0 ? (cpu() - before) / 1e6 / successful : NaN };
        steps.push(measured);
        console.error(
          `  ${name}: ${rate}/s → ${s.failed}/${s.attempted} failed, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ` +
            `${measured.cpuMsPerRegistration.toFixed(2)} ms CPU (FreeSWITCH + API) per registration`,
        );
        return passed(s);
      },
      { start: RATES_START, max: RATE_MAX, precision: PRECISION },
    );
    const wallSeconds = (Date.now() - started) / 1000;
    const api =
      name.startsWith("config API") && Number.isFinite(apiCpuBefore) && memFile
        ? {
            cpuSeconds: (cpuNanos(apiId) - apiCpuBefore) / 1e9,
            wallSeconds,
            peakMemoryMb: Number(readFileSync(memFile, "utf8")) / 1e6,
          }
        : undefined;
    return { name, steps, sustained: search.rate, failedAt: search.failedAt, api };
  } finally {
    await stopStack(stack);
  }
}

/** CPU per registration over every passing step: the steadier figure on a shared machine. */
function cpuPerRegistration(r: PathResult): number {
  const ok = r.steps.filter(passed);
  const registrations = ok.reduce((n, s) => n + s.attempted - s.failed, 0);
  return registrations
    ? ok.reduce((ms, s) => ms + s.cpuMsPerRegistration * (s.attempted - s.failed), 0) / registrations
    : NaN;
}

async function main(): Promise<void> {
  console.error(
    `registration storm: ${EXTENSIONS} extensions, ${STEP_SECONDS} s steps from ${RATES_START}/s, doubling then bisecting to within ${PRECISION * 100}%`,
  );
  const load = loadAverage();
  const floor = await runPath("static XML", { mutate: withExtensions, patchFiles: staticDirectory });
  const cached = await runPath("config API, cache on", { mutate: withExtensions });
  const uncached = await runPath("config API, cache off", { mutate: withExtensionsUncached });
  const lines = [
    "",
    "| path | highest rate < 1% failures | first failing rate | p50 / p99 there | CPU per registration (FreeSWITCH + API) |",
    "|---|---|---|---|---|",
  ];
  for (const r of [floor, cached, uncached]) {
    const at = r.steps.find((s) => s.rate === r.sustained);
    lines.push(
      `| ${r.name} | ${r.sustained}/s | ${r.failedAt ? `${r.failedAt}/s` : `none up to ${RATE_MAX}/s`} | ${at ? `${at.p50.toFixed(1)} / ${at.p99.toFixed(1)} ms` : "-"} | ${cpuPerRegistration(r).toFixed(2)} ms |`,
    );
  }
  for (const r of [cached, uncached]) {
    if (r.api)
      lines.push(
        "",
        `${r.name} during its run: ${r.api.cpuSeconds.toFixed(1)} s CPU in ${r.api.wallSeconds.toFixed(0)} s (${((100 * r.api.cpuSeconds) / r.api.wallSeconds).toFixed(0)}% of a core), peak memory ${r.api.peakMemoryMb.toFixed(0)} MB`,
      );
  }
  lines.push("");
  for (const r of [cached, uncached]) {
    const rate = floor.sustained > 0 ? r.sustained / floor.sustained : NaN;
    const cpu = cpuPerRegistration(r) / cpuPerRegistration(floor);
    // Rounded against the path: the rate down, the CPU up.
    lines.push(
      `${r.name} / static: rate ${roundAgainst(rate, "higher")}×, CPU per registration ${roundAgainst(cpu, "lower")}×` +
        (r === cached ? ` (targets: rate ≥ ${TARGET_RATE_RATIO}×, CPU ≤ ${TARGET_CPU_RATIO}×)` : ""),
    );
  }
  lines.push(`machine load average at the start: ${load}`);
  console.log(lines.join("\n"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
