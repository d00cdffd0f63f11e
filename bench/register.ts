/**
 * Registration storm: how fast a FreeSWITCH image (FREESWITCH_IMAGE) registers extensions whose
 * credentials come from the config API (mod_xml_curl, the deployed path), against the same image
 * with the same users in a static XML directory (the floor: no HTTP, no API).
 *
 * A bench stack (the real-FreeSWITCH suite's test stack plus 500 extensions) runs in the suite's
 * network namespaces; sipp (Debian's sip-tester) on the phone's IPv4 sends REGISTERs with digest
 * auth at stepped rates. For each path it reports the highest rate with under 1% failed
 * registrations, p50/p99 registration time at each step, and for the API path the config API's
 * CPU time and peak memory. Target: the API path sustains at least 0.8× the static directory's rate.
 * This is a benchmark: it measures and reports, it asserts nothing.
 *
 * Usage: FREESWITCH_IMAGE=<image> npm run bench:register (as root; the image must be in the local Docker store)
 *   BENCH_RATES=25,50,100,...  registrations per second, one step each (default below)
 *   BENCH_STEP_SECONDS=4       length of each step
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "xmlbuilder2";
import { PATHS } from "../sip/bundle";
import type { RenderedFile } from "../sip/render/types";
import type { ExtensionRecord } from "../sip/deploy";
import { docker } from "../test/support/exec";
import { ADDR } from "../test/support/freeswitchNetwork";
import { startStack, stopStack, type RunningStack, type StackOptions } from "../test/support/freeswitchStack";
import { scenario, sipp } from "../test/support/sipp";

const RATES = (process.env.BENCH_RATES ?? "25,50,100,200,400,800").split(",").map(Number);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 4);
const EXTENSIONS = 500;
const FIRST_ID = 1000;
const DOMAIN = "sip.example.com";
const MAX_FAILURE_RATIO = 0.01;
const TARGET_RATIO = 0.8;

interface Step {
  readonly rate: number;
  readonly attempted: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
}

interface PathResult {
  readonly name: string;
  readonly steps: Step[];
  /** Highest rate with under 1% failures (0 when even the first step failed). */
  readonly sustained: number;
  readonly api?: { readonly cpuSeconds: number; readonly wallSeconds: number; readonly peakMemoryMb: number };
}

/** The bench stack: the test stack plus EXTENSIONS extensions. */
const withExtensions: StackOptions["mutate"] = (config) => {
  for (let i = 0; i < EXTENSIONS; i++) config.extensions[String(FIRST_ID + i)] = { displayName: `Bench ${i}` };
};

/**
 * The floor: the same users as a static directory in freeswitch.xml, and no xml_curl directory
 * binding, so FreeSWITCH answers REGISTERs from memory.
 */
function staticDirectory(files: RenderedFile[], stack: { readonly extensions: readonly ExtensionRecord[] }): RenderedFile[] {
  const section = create().ele("section", { name: "directory", description: "Static users (benchmark floor)" });
  const domain = section.ele("domain", { name: DOMAIN });
  for (const e of stack.extensions) {
    const user = domain.ele("user", { id: e.id });
    user.ele("params").ele("param", { name: "password", value: e.password });
    user.ele("variables").ele("variable", { name: "user_context", value: e.context });
  }
  const directory = section.end({ headless: true });
  return files.map((f) => {
    if (f.path === `${PATHS.freeswitchConf}/freeswitch.xml`) return { ...f, content: f.content.replace(/<section name="directory"[^>]*\/>/, directory) };
    if (f.path === `${PATHS.freeswitchConf}/autoload_configs/xml_curl.conf.xml`) return { ...f, content: '<configuration name="xml_curl.conf" description="none (benchmark floor)"><bindings/></configuration>\n' };
    return f;
  });
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** One sipp run at `rate` REGISTERs per second; registration times from its -trace_rtt file. */
async function step(stack: RunningStack, users: string, rate: number, port: number): Promise<Step> {
  const dir = await mkdtemp(join(tmpdir(), "fsimg-bench-"));
  const count = rate * STEP_SECONDS;
  const result = await sipp(
    stack,
    "phone",
    [
      `${ADDR.server.ipv4}:5080`,
      "-sf", scenario("uac-register.xml"),
      "-inf", users,
      "-set", "domain", DOMAIN,
      "-i", ADDR.phone.ipv4, "-p", String(port),
      "-r", String(rate), "-m", String(count), "-l", String(count),
      "-recv_timeout", "5000", "-timeout", String(STEP_SECONDS * 4 + 20),
      "-trace_rtt", "-rtt_freq", "1", "-nostdin",
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

/** The API container's cgroup (v1, cgroupfs driver), for CPU time and peak memory. */
function cgroupFile(controller: string, id: string, file: string): string | undefined {
  const path = `/sys/fs/cgroup/${controller}/docker/${id}/${file}`;
  return existsSync(path) ? path : undefined;
}

async function runPath(name: string, options: StackOptions): Promise<PathResult> {
  const stack = await startStack(options);
  try {
    const users = join(stack.root, "users.csv");
    const bench = stack.extensions.filter((e) => Number(e.id) >= FIRST_ID);
    // sipp expands a keyword inside an injected field, not a field inside a keyword.
    writeFileSync(users, `SEQUENTIAL\n${bench.map((e) => `${e.id};[authentication username=${e.id} password=${e.password}]`).join("\n")}\n`);
    const apiId = (await docker("inspect", "-f", "{{.Id}}", stack.containers.api)).trim();
    const cpuFile = cgroupFile("cpuacct", apiId, "cpuacct.usage");
    const memFile = cgroupFile("memory", apiId, "memory.max_usage_in_bytes");
    if (memFile) writeFileSync(memFile, "0");
    const cpuBefore = cpuFile ? Number(readFileSync(cpuFile, "utf8")) : NaN;
    const started = Date.now();
    const steps: Step[] = [];
    let sustained = 0;
    for (const [i, rate] of RATES.entries()) {
      const s = await step(stack, users, rate, 5100 + i);
      steps.push(s);
      console.error(`  ${name}: ${rate}/s → ${s.failed}/${s.attempted} failed, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`);
      if (s.failed / s.attempted >= MAX_FAILURE_RATIO) break;
      sustained = rate;
    }
    const wallSeconds = (Date.now() - started) / 1000;
    const api =
      name === "config API" && cpuFile && memFile
        ? { cpuSeconds: (Number(readFileSync(cpuFile, "utf8")) - cpuBefore) / 1e9, wallSeconds, peakMemoryMb: Number(readFileSync(memFile, "utf8")) / 1e6 }
        : undefined;
    return { name, steps, sustained, api };
  } finally {
    await stopStack(stack);
  }
}

async function main(): Promise<void> {
  console.error(`registration storm: ${EXTENSIONS} extensions, steps ${RATES.join(", ")}/s of ${STEP_SECONDS} s each`);
  const api = await runPath("config API", { mutate: withExtensions });
  const floor = await runPath("static XML", { mutate: withExtensions, patchFiles: staticDirectory });
  const lines = ["", "| path | highest rate < 1% failures | p50 / p99 at that rate |", "|---|---|---|"];
  for (const r of [api, floor]) {
    const at = r.steps.find((s) => s.rate === r.sustained);
    lines.push(`| ${r.name} | ${r.sustained}/s | ${at ? `${at.p50.toFixed(1)} / ${at.p99.toFixed(1)} ms` : "-"} |`);
  }
  if (api.api) {
    lines.push("", `config API during its run: ${api.api.cpuSeconds.toFixed(1)} s CPU in ${api.api.wallSeconds.toFixed(0)} s (${((100 * api.api.cpuSeconds) / api.api.wallSeconds).toFixed(0)}% of a core), peak memory ${api.api.peakMemoryMb.toFixed(0)} MB`);
  }
  const ratio = floor.sustained > 0 ? api.sustained / floor.sustained : NaN;
  const top = RATES[RATES.length - 1];
  const capped = api.sustained === top && floor.sustained === top ? ` (both sustained the highest step, ${top}/s: raise BENCH_RATES to separate them)` : "";
  lines.push("", `API / static: ${ratio.toFixed(2)}× (target ≥ ${TARGET_RATIO}×)${capped}`);
  console.log(lines.join("\n"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
