/**
 * Load test of the request FreeSWITCH sends most: mod_xml_curl's gateway lookup. Runs, in one
 * go and on loopback only, the bundled API (dist/api/server.js, as in the container) and a bare
 * node:http server answering the same bytes, each in its own process, and reports, against the
 * targets, the servers' CPU time per request (the headline: bare/API ≥ 0.8×), requests/s, p50/p99
 * latency and the API's peak resident memory:
 *   CPU per request bare/API ≥ 0.8× · requests/s ≥ 0.8 × bare · p99 ≤ 2 × bare · peak RSS < 150 MB.
 * Usage: npm run bench   (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS to change the load;
 * BENCH_API_NODE_ARGS to pass node flags such as --cpu-prof to the API process)
 */
import autocannon from "autocannon";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_SECRET_FILES,
  type ApiSecrets,
  type ApiSettings,
  type GatewaySpec,
  XML_CURL_PATH,
  XML_CURL_USER,
} from "../sip/apiContract";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../sip/schema";
import { gatewaysRequest } from "../test/support/xmlCurlForm";
import { roundAgainst, rpsVerdict, summarize, type Figures } from "./stats";
import { PROJECT_DIR } from "../test/support/environment";
import { waitFor } from "../test/support/waitFor";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/**
 * Runs alternate between the two servers, in pairs; each pair gives one ratio and the middle
 * pair counts (with an even number of rounds, the worse middle one: bench/stats.ts), so a burst of load from another process on the machine (this 2-core machine
 * runs other work too) skews one pair, not the result. Which server goes first alternates
 * from pair to pair, so neither always runs on the warmer (or busier) side of a pair.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Per server before the rounds: JIT, connection set-up, the API's first-request paths. */
const WARMUP_SECONDS = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PROFILE = "internal";

const TARGETS = { cpuRatio: 0.8, rpsRatio: 0.8, p99Ratio: 2, peakRssMb: 150 };

/** A realistic directory: a dozen registering trunks on the profile being asked about. */
const trunks: GatewaySpec[] = Array.from({ length: 12 }, (_, i) => ({
  name: `trunk-${i}`,
  profile: i % 2 ? "internal" : "external-ipv4",
  proxy: "sip.1und1.de",
  outboundProxy: "[2001:db8:104::129]",
  realm: "sip.1und1.de",
  register: true,
  username: `49345566433${i}`,
  password: randomBytes(12).toString("hex"),
  expireSeconds: 600,
  retrySeconds: 30,
  context: "public",
}));

/** The form sofia.c's gateway lookup posts, with the REQUEST_PARAMS event headers mod_xml_curl adds. */
const FORM = new URLSearchParams(gatewaysRequest(PROFILE)).toString();

/** The baseline: node:http reading the request body and answering fixed bytes. */
const BARE_SERVER = `
const http = require("node:http");
const body = require("node:fs").readFileSync(process.env.BODY_FILE);
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/xml; charset=utf-8", "content-length": body.length });
    res.end(body);
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
`;

/**
 * On a machine with two or more cores, the servers run on the last core and the load generator
 * (this process) on the others, so neither steals the other's CPU and the figures compare the
 * servers rather than the scheduler. Both servers get the same treatment. Without taskset (or on
 * one core) everything shares the machine, as before.
 */
const SERVER_CORE = availableParallelism() - 1;
const CAN_PIN = SERVER_CORE > 0 && spawnSync("taskset", ["-c", "0", "true"]).status === 0;
if (CAN_PIN) spawnSync("taskset", ["-a", "-p", "-c", `0-${SERVER_CORE - 1}`, String(process.pid)]);
function pinned(argv: string[]): [string, string[]] {
  return CAN_PIN ? ["taskset", ["-c", String(SERVER_CORE), ...argv]] : [argv[0], argv.slice(1)];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** utime and stime of a process in microseconds (/proc reports clock ticks of USER_HZ = 100 on Linux). */
function cpuMicros(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
}

async function load(
  server: ChildProcess,
  url: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<Figures> {
  const cpuBefore = cpuMicros(server.pid!);
  const result = await autocannon({
    url,
    method: "POST",
    headers,
    body: FORM,
    connections: CONNECTIONS,
    duration: seconds,
  });
  const cpuAfter = cpuMicros(server.pid!);
  const answered = Math.max(result.requests.total, 1);
  const system = cpuAfter.system - cpuBefore.system;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuUsPerRequest: (cpuAfter.user - cpuBefore.user + system) / answered,
    cpuSystemUsPerRequest: system / answered,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "config-api-bench-"));
  const children: ChildProcess[] = [];
  try {
    const secrets: ApiSecrets = {
      eslPassword: randomBytes(8).toString("hex"),
      xmlCurlPassword: randomBytes(8).toString("hex"),
      fernetKey: randomBytes(32).toString("base64").replace(/\+/g, "-").replace(/\//g, "_"),
      adminToken: randomBytes(16).toString("hex"),
    };
    const port = await freePort();
    const settings: ApiSettings = {
      listen: { host: "127.0.0.1", port },
      metricsListen: { host: "127.0.0.1", port: 0 },
      domain: "sip.example.net",
      // The stack's default: the answers carry cacheable, as deployed.
      directoryCacheSeconds: DEFAULT_DIRECTORY_CACHE_SECONDS,
      profiles: ["external-ipv4", "internal"],
      // Nothing listens there: the API keeps retrying ESL in the background, as while FreeSWITCH boots.
      esl: { host: "127.0.0.1", port: await freePort() },
      xmlCurlUser: XML_CURL_USER,
      xmlCurlPath: XML_CURL_PATH,
      storePath: join(dir, "data", "store.json"),
      secretsDir: join(dir, "secrets"),
    };
    await mkdir(settings.secretsDir);
    await writeFile(join(dir, "config.json"), JSON.stringify(settings));
    for (const [key, file] of Object.entries(API_SECRET_FILES))
      await writeFile(join(settings.secretsDir, file), secrets[key as keyof ApiSecrets], { mode: 0o600 });

    // BENCH_API_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": profile the API under this load
    // (NODE_OPTIONS refuses --cpu-prof). The profile is written when the API exits on SIGTERM.
    const apiNodeArgs = (process.env.BENCH_API_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
    const api = spawn(
      ...pinned([
        process.execPath,
        ...apiNodeArgs,
        "--disable-warning=DEP0005",
        join(PROJECT_DIR, "dist/api/server.js"),
      ]),
      {
        env: { ...process.env, API_CONFIG: join(dir, "config.json"), NODE_ENV: "production" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    children.push(api);
    const apiUrl = `http://127.0.0.1:${port}`;
    await waitFor("the API's /readyz", 15_000, async () => (await fetch(`${apiUrl}/readyz`)).ok, { everyMs: 100 });
    const put = await fetch(`${apiUrl}/api/v1/sip/trunks`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${secrets.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(trunks),
    });
    if (!put.ok) throw new Error(`PUT trunks failed: ${put.status} ${await put.text()}`);

    const headers = {
      Authorization: `Basic ${Buffer.from(`${XML_CURL_USER}:${secrets.xmlCurlPassword}`).toString("base64")}`,
      "Content-Type": "application/x-www-form-urlencoded",
    };
    const answer = await fetch(`${apiUrl}${XML_CURL_PATH}`, { method: "POST", headers, body: FORM });
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (!bytes.includes('<gateway name="trunk-1">'))
      throw new Error("the API did not answer with the profile's gateways");
    await writeFile(join(dir, "answer.xml"), bytes);

    const bare = spawn(...pinned([process.execPath, "-e", BARE_SERVER]), {
      env: { ...process.env, BODY_FILE: join(dir, "answer.xml") },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(bare);
    const barePort = await new Promise<number>((resolvePort, reject) => {
      bare.stdout.once("data", (d: Buffer) => resolvePort(Number(String(d).trim())));
      bare.once("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
    });
    const bareUrl = `http://127.0.0.1:${barePort}${XML_CURL_PATH}`;

    console.log(
      `gateway lookup for profile "${PROFILE}": ${FORM.length} B form → ${bytes.length} B answer; ${CONNECTIONS} connections; ` +
        `${ROUNDS} rounds of ${SECONDS} s per server, alternating, after a ${WARMUP_SECONDS} s warm-up each; per figure the middle round, the worse middle one for the API when the count is even`,
    );
    await load(bare, bareUrl, headers, WARMUP_SECONDS);
    await load(api, `${apiUrl}${XML_CURL_PATH}`, headers, WARMUP_SECONDS);
    const bareRounds: Figures[] = [];
    const apiRounds: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runBare = async () => bareRounds.push(await load(bare, bareUrl, headers, SECONDS));
      const runApi = async () => apiRounds.push(await load(api, `${apiUrl}${XML_CURL_PATH}`, headers, SECONDS));
      if (round % 2 === 0) await runBare().then(runApi);
      else await runApi().then(runBare);
    }
    const baseline = summarize(bareRounds, "baseline");
    const measured = summarize(apiRounds, "api");
    const rss = peakRssMb(api.pid!);

    const row = (name: string, f: Figures, mem: string) =>
      `${name.padEnd(22)}${f.rps.toFixed(0).padStart(10)}${f.p50.toFixed(2).padStart(10)}${f.p99.toFixed(2).padStart(10)}${f.cpuUsPerRequest.toFixed(1).padStart(14)}${f.cpuSystemUsPerRequest.toFixed(1).padStart(12)}${String(f.errors).padStart(8)}${mem.padStart(14)}`;
    console.log(
      `\n${"".padEnd(22)}${"req/s".padStart(10)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}${"CPU µs/req".padStart(14)}${"of it sys".padStart(12)}${"errors".padStart(8)}${"peak RSS".padStart(14)}`,
    );
    console.log(row("bare node:http", baseline, "-"));
    console.log(row("config API", measured, `${rss.toFixed(1)} MB`));

    // The headline: CPU per request, bare/API (each row's API-worst middle, bench/stats.ts). The
    // server's own CPU time per answer is what the API costs; a req/s ratio also moves with
    // whatever else the shared machine runs.
    const cpuShown = roundAgainst(baseline.cpuUsPerRequest / measured.cpuUsPerRequest, "higher");
    // The worse of the table's ratio and the middle pair's (see ROUNDS and bench/stats.ts).
    const rps = rpsVerdict(apiRounds, bareRounds, TARGETS.rpsRatio);
    // Sub-millisecond p99s are quantised to whole milliseconds by the histogram; compare from 1 ms.
    const p99Ratio = Math.max(measured.p99, 1) / Math.max(baseline.p99, 1);
    const verdict = (ok: boolean) => (ok ? "meets target" : "MISSES target");
    console.log(
      `\nCPU per request  ${cpuShown}× bare/API (target ≥ ${TARGETS.cpuRatio}×): ${verdict(Number(cpuShown) >= TARGETS.cpuRatio)}  [headline]`,
    );
    console.log(
      `requests/s ratio ${rps.shown}× (target ≥ ${TARGETS.rpsRatio}×): ${verdict(rps.meetsTarget)}  ` +
        `[table ${roundAgainst(rps.tableRatio, "higher")}; rounds: ${rps.roundRatios.map((r) => roundAgainst(r, "higher")).join(" ")}]`,
    );
    const p99Shown = roundAgainst(p99Ratio, "lower");
    console.log(
      `p99 ratio        ${p99Shown}× (target ≤ ${TARGETS.p99Ratio}×): ${verdict(Number(p99Shown) <= TARGETS.p99Ratio)}`,
    );
    console.log(
      `peak RSS         ${rss.toFixed(1)} MB (target < ${TARGETS.peakRssMb} MB): ${verdict(rss < TARGETS.peakRssMb)}`,
    );
    console.log(
      `machine load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
    if (measured.errors > 0 || baseline.errors > 0)
      console.log(`warning: ${measured.errors} API and ${baseline.errors} baseline requests failed or were not 2xx`);
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
