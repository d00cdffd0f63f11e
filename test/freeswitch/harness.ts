/**
 * The real-FreeSWITCH harness: the FreeSWITCH image named by FREESWITCH_IMAGE and the config API's image, started with
 * the test stack's rendered tree written exactly as the deploy step writes it, in a network of
 * namespaces this harness creates, on documentation addresses only.
 *
 *   holder container (--network none)  owns the server's network namespace; FreeSWITCH and the
 *                                      config API join it (--network container:<holder>), so
 *                                      the API is on 127.0.0.1:8001 beside FreeSWITCH as on a host
 *   <run>-lan                          a bridge; every namespace below has one veth on it
 *   <run>-plusnet  198.51.100.16       Plusnet stand-in (outbound proxy)
 *   <run>-oneandone 2001:db8:1::129    1&1 stand-in (outbound proxy)
 *   <run>-phone    192.0.2.50, 2001:db8:10::50
 *   <run>-stranger 203.0.113.66, 2001:db8:66::66 (outside every trunk range)
 *
 * Every namespace routes only the documentation ranges, on the bridge: nothing else (no DNS, no
 * provider) is reachable. Before FreeSWITCH starts, the harness asserts that the rendered tree and
 * the trunk set name no address outside loopback and the documentation ranges.
 *
 * Names are prefixed `fsimg-<run>`; stopStack() removes everything the run created.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import ipaddr from "ipaddr.js";
import { parse } from "yaml";
import { buildApiImageContext } from "../../components/apiImage";
import { FREESWITCH_COMMAND, FREESWITCH_DIRS } from "../../sip/freeswitchImage";
import { apiBaseImage, freeswitchImage as freeswitchImageLookup, required } from "../support/environment";
import { PATHS, renderBundle, type HostSecrets } from "../../sip/bundle";
import { loadStack, type ConfigSource, type LoadedStack } from "../../sip/config";
import { apiPutCommand, API_IMAGE_REPO, API_UID, extensionRecords, fileGroups, filesPayload, writeFilesCommand, type ExtensionRecord } from "../../sip/deploy";
import { CONFIG_API_PORT } from "../../sip/firewall";
import { API_CONTAINER, FREESWITCH_CONTAINER } from "../../sip/reload";
import { HOST_ROOT } from "../../sip/render/cloudInit";
import { activeGatewaySpecs, type GatewaySpec } from "../../sip/render/gateways";
import type { RenderedFile } from "../../sip/render/types";
import { CONFIG_NAMESPACE } from "../../sip/problems";

const run = promisify(execFile);
export const PROJECT_DIR = resolve(__dirname, "../..");
export const TEST_STACK = "fstest";
export const TEST_STACK_FILE = join(__dirname, `Pulumi.${TEST_STACK}.yaml`);
/** The Node.js base image of .ci/docker-setup.sh: the API's image is built FROM it, and it holds the server's netns. */
let baseImage: string | undefined;
const baseImageOnce = () => (baseImage ??= apiBaseImage());

/** Addresses of the test network (documentation ranges only). */
export const ADDR = {
  server: { ipv4: "192.0.2.10", ipv6: "2001:db8:10::1" },
  plusnet: { ipv4: "198.51.100.16" },
  oneandone: { ipv6: "2001:db8:1::129" },
  phone: { ipv4: "192.0.2.50", ipv6: "2001:db8:10::50" },
  stranger: { ipv4: "203.0.113.66", ipv6: "2001:db8:66::66" },
} as const;

export type Peer = "plusnet" | "oneandone" | "phone" | "stranger";
const PEERS: Record<Peer, { ipv4?: string; ipv6?: string }> = { plusnet: ADDR.plusnet, oneandone: ADDR.oneandone, phone: ADDR.phone, stranger: ADDR.stranger };
/** Prefix lengths of the on-link networks each address lives in. */
const PREFIX = { ipv4: 24, ipv6: 64 } as const;
/** What any namespace of the test network may reach: the documentation ranges, nothing else. */
const DOC_ROUTES = { ipv4: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"], ipv6: ["2001:db8::/32"] } as const;

/** The trunk password the test stack is given (what `pulumi config set --secret` would hold). */
export const TRUNK_PASSWORDS = { oneandone: "fsimg-1und1-secret-4b7e" } as const;

export interface StackOptions {
  /** Start FreeSWITCH before the config API (the API comes up afterwards). Default: API first, as the deploy does. */
  readonly freeswitchFirst?: boolean;
  /** Changes to the test stack's `telephony:*` values before rendering. */
  readonly mutate?: (config: Record<string, any>) => void;
  /** `telephony:secrets.trunkPasswords` (default TRUNK_PASSWORDS). */
  readonly trunkPasswords?: Readonly<Record<string, string>>;
  /** Changes to the rendered files before they are written (benchmarks only: tests run the tree as rendered). */
  readonly patchFiles?: (files: RenderedFile[], stack: { readonly extensions: readonly ExtensionRecord[] }) => RenderedFile[];
}

export interface RunningStack {
  readonly id: string;
  readonly root: string;
  readonly loaded: LoadedStack;
  readonly files: readonly RenderedFile[];
  readonly secrets: HostSecrets;
  readonly trunks: GatewaySpec[];
  readonly extensions: ExtensionRecord[];
  /** Extension id → SIP password (generated, as the deploy generates them). */
  readonly extensionPasswords: Readonly<Record<string, string>>;
  readonly containers: { readonly holder: string; readonly freeswitch: string; readonly api: string };
  /** Network namespace names (`ip netns exec <name>`). */
  readonly netns: Readonly<Record<Peer | "server" | "lan", string>>;
  readonly images: { readonly freeswitch: string; readonly api: string };
}

const sh = async (cmd: string, args: string[], input?: string): Promise<string> => {
  if (input === undefined) return (await run(cmd, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolvePromise(stdout) : reject(new Error(`${cmd} ${args.join(" ").slice(0, 200)} exited ${code}: ${stderr.trim()}`))));
    child.stdin.end(input);
  });
};
export const docker = (...args: string[]) => sh("docker", args);
const ip = (...args: string[]) => sh("ip", args);

/** Runs a command in a namespace of the test network. */
export function netnsExec(netns: string, command: string[], input?: string): Promise<string> {
  return sh("ip", ["netns", "exec", netns, ...command], input);
}

export async function waitFor<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The test stack's `telephony:*` values by key (without namespace). */
export function testStackConfig(): Record<string, any> {
  const doc = parse(readFileSync(TEST_STACK_FILE, "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, any> = {};
  for (const [key, value] of Object.entries(doc.config)) if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  return raw;
}

export function loadTestStack(mutate?: (config: Record<string, any>) => void, trunkPasswords: Readonly<Record<string, string>> = TRUNK_PASSWORDS): LoadedStack {
  const raw = testStackConfig();
  mutate?.(raw);
  // The stack's image choice is the default (packages, with a token): the harness runs FREESWITCH_IMAGE
  // instead, and nothing it renders depends on the image.
  const source: ConfigSource = { stack: TEST_STACK, get: (key) => raw[key], getSecret: () => ({ trunkPasswords: { ...trunkPasswords }, signalwireToken: "not-used-by-the-harness" }) };
  return loadStack(source);
}

const ALLOWED_RANGES = ["127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"].map((c) => ipaddr.parseCIDR(c));

/** Every IP literal in `text` that is neither loopback, unspecified nor in a documentation range. */
export function foreignAddresses(text: string): string[] {
  const candidates = text.match(/(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})(?:\/\d{1,3})?(?![\w.:])/g) ?? [];
  const foreign: string[] = [];
  for (const candidate of candidates) {
    const [addressText, prefix] = candidate.split("/");
    if (!ipaddr.isValid(addressText)) continue;
    const address = ipaddr.parse(addressText);
    if (address.range() === "unspecified" && (prefix === undefined || prefix === "0")) continue;
    if (ALLOWED_RANGES.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) continue;
    foreign.push(candidate);
  }
  return foreign;
}

/** Fails loudly when the rendered tree or the trunk set could send FreeSWITCH anywhere but the test network. */
export function assertOnlyTestAddresses(files: readonly RenderedFile[], trunks: readonly GatewaySpec[]): void {
  const found = [...files.map((f) => ({ where: f.path, text: f.content })), { where: "trunk set PUT to the config API", text: JSON.stringify(trunks) }].flatMap(({ where, text }) =>
    foreignAddresses(text).map((a) => `${where}: ${a}`),
  );
  if (found.length > 0) {
    throw new Error(`REFUSING TO START FREESWITCH: the test stack names addresses outside loopback and the documentation ranges:\n  ${found.join("\n  ")}\nOverride them in ${TEST_STACK_FILE}.`);
  }
}

/** Self-signed certificate for the test stack (the deploy makes one with @pulumi/tls; same shape). */
async function selfSignedCertificate(dir: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const key = join(dir, "tls.key");
  const cert = join(dir, "tls.crt");
  await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=192.0.2.10", "-keyout", key, "-out", cert]);
  const pem = { certificatePem: await readFile(cert, "utf8"), privateKeyPem: await readFile(key, "utf8") };
  await rm(key);
  await rm(cert);
  return pem;
}

const secret = () => randomBytes(18).toString("base64url");

/** The host path of a deployed file under this run's root. */
export function hostPath(stack: Pick<RunningStack, "root">, path: string): string {
  if (!path.startsWith(`${HOST_ROOT}/`)) throw new Error(`${path} is not under ${HOST_ROOT}`);
  return join(stack.root, path);
}
/**
 * Deploy commands name the host's paths and containers; the harness runs the same text with this
 * run's root and containers in their place.
 */
function onThisRun(stack: Pick<RunningStack, "root" | "containers">, text: string): string {
  return text
    .split(`${HOST_ROOT}/`).join(`${stack.root}${HOST_ROOT}/`)
    .split(FREESWITCH_CONTAINER).join(stack.containers.freeswitch)
    .split(API_CONTAINER).join(stack.containers.api);
}

/**
 * Writes the bundle's files the deploy way: each reload-class group through writeFilesCommand
 * (payload on stdin), which also runs the group's reload when its container is running. Only
 * groups whose payload differs from `previous` are written, as `pulumi up` updates only those.
 */
async function writeDeployedFiles(stack: Pick<RunningStack, "root" | "containers">, files: readonly RenderedFile[], previous: readonly RenderedFile[] = []): Promise<string[]> {
  // Only the file paths move under this run's root; contents stay byte for byte as rendered.
  const onHost = (list: readonly RenderedFile[]) =>
    list.filter((f) => f.path.startsWith(`${HOST_ROOT}/`) && f.reload.kind !== "host-firewall").map((f) => ({ ...f, path: `${stack.root}${f.path}` }));
  const [now, before] = [onHost(files), onHost(previous)];
  const payloadsBefore = new Map(fileGroups(before).map((g) => [g.name, filesPayload(before, g.paths)]));
  const written: string[] = [];
  for (const group of fileGroups(now)) {
    const payload = filesPayload(now, group.paths);
    if (payloadsBefore.get(group.name) === payload) continue;
    await sh("bash", ["-c", onThisRun(stack, writeFilesCommand(group))], payload);
    written.push(group.name);
  }
  return written;
}

async function ensureImage(image: string, build: () => Promise<void>): Promise<void> {
  try {
    await docker("image", "inspect", image);
  } catch {
    await build();
  }
}

/** The FreeSWITCH image under test: FREESWITCH_IMAGE, taken from the environment (README: the FreeSWITCH image). */
export function freeswitchImage(): string {
  return required(freeswitchImageLookup());
}

async function apiImage(): Promise<string> {
  const context = buildApiImageContext(PROJECT_DIR);
  const image = `${API_IMAGE_REPO}:${context.tag}`;
  await ensureImage(image, async () => {
    await docker("build", "--network", "host", "-q", "--build-arg", `BASE_IMAGE=${baseImageOnce()}`, "-t", image, context.dir);
  });
  return image;
}

async function addInterface(lan: string, vethName: string, netns: string, addresses: { ipv4?: string; ipv6?: string }): Promise<void> {
  await ip("-n", lan, "link", "add", vethName, "type", "veth", "peer", "name", "eth0", "netns", netns);
  await ip("-n", lan, "link", "set", vethName, "master", "br0", "up");
  await ip("-n", netns, "link", "set", "lo", "up");
  await ip("-n", netns, "link", "set", "eth0", "up");
  if (addresses.ipv4) {
    await ip("-n", netns, "addr", "add", `${addresses.ipv4}/${PREFIX.ipv4}`, "dev", "eth0");
    for (const r of DOC_ROUTES.ipv4) await ip("-n", netns, "route", "replace", r, "dev", "eth0");
  }
  if (addresses.ipv6) {
    await ip("-n", netns, "-6", "addr", "add", `${addresses.ipv6}/${PREFIX.ipv6}`, "dev", "eth0", "nodad");
    for (const r of DOC_ROUTES.ipv6) await ip("-n", netns, "-6", "route", "replace", r, "dev", "eth0");
  }
}

/** fs_cli inside the FreeSWITCH container (it reads the deployed /etc/fs_cli.conf for the ESL password). */
export async function fsCli(stack: Pick<RunningStack, "containers">, command: string): Promise<string> {
  return docker("exec", stack.containers.freeswitch, "fs_cli", "-x", command);
}

/** FreeSWITCH's log as deployed (the file fail2ban reads). */
export async function readFreeswitchLog(stack: Pick<RunningStack, "root">): Promise<string> {
  const path = hostPath(stack, `${PATHS.freeswitchLog}/freeswitch.log`);
  return existsSync(path) ? readFile(path, "utf8") : "";
}

/** An HTTP request to the config API on the server's loopback (curl in the server namespace). */
export async function apiRequest(stack: RunningStack, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H", `Authorization: Bearer ${stack.secrets.adminToken}`];
  if (body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", "@-");
  const out = await netnsExec(stack.netns.server, [...args, `http://127.0.0.1:${CONFIG_API_PORT}${path}`], body === undefined ? undefined : JSON.stringify(body));
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

/** PUTs a JSON set the way the deploy step does (components/configApiSync.ts: apiPutCommand, token from the deployed secret file). */
export async function deployPut(stack: Pick<RunningStack, "root" | "netns" | "containers">, path: string, json: unknown): Promise<string> {
  return netnsExec(stack.netns.server, ["bash", "-c", onThisRun(stack, apiPutCommand(path))], JSON.stringify(json));
}

export interface SippResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs sipp (Debian's sip-tester) in a peer's namespace to the end; its exit code is 0 when every call succeeded. */
export async function sipp(stack: Pick<RunningStack, "netns">, peer: Peer, args: string[], timeoutMs = 60_000, cwd?: string): Promise<SippResult> {
  const process = startSipp(stack, peer, args, cwd);
  const timer = setTimeout(() => void process.stop(), timeoutMs);
  try {
    return await process.done;
  } finally {
    clearTimeout(timer);
  }
}

export interface SippProcess {
  /** Resolves when sipp exits by itself. */
  readonly done: Promise<SippResult>;
  /** Ends it (SIGTERM) and resolves with what it printed. */
  stop(): Promise<SippResult>;
}

/** Starts a long-running sipp (a UAS standing in for a carrier, say) in a peer's namespace. */
export function startSipp(stack: Pick<RunningStack, "netns">, peer: Peer, args: string[], cwd?: string): SippProcess {
  // cwd: where sipp writes its trace files (-trace_rtt, -trace_stat, ...).
  const child = spawn("ip", ["netns", "exec", stack.netns[peer], "sipp", ...args], { stdio: ["ignore", "pipe", "pipe"], cwd });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<SippResult>((resolvePromise) => child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr })));
  return {
    done,
    stop: async () => {
      child.kill("SIGTERM");
      return done;
    },
  };
}

/** Path of a sipp scenario shipped with the suite (test/freeswitch/scenarios/). */
export const scenario = (name: string) => join(__dirname, "scenarios", name);

/** Calls FreeSWITCH has in progress (`show calls count`). */
export async function callCount(stack: Pick<RunningStack, "containers">): Promise<number> {
  const match = /(\d+) total/.exec(await fsCli(stack, "show calls count"));
  return match ? Number(match[1]) : 0;
}

export interface SofiaStatusRow {
  /** A profile's name, or "<profile>::<gateway>" for a gateway. */
  readonly name: string;
  readonly type: "profile" | "gateway" | "alias";
  readonly data: string;
  /** e.g. "RUNNING (0)", "RUNNING (0) (TLS)", "REGED", "NOREG", "TRYING (retry: 29s)". */
  readonly state: string;
}

/** `sofia status` as rows (a profile has one row per transport: UDP/TCP and TLS). */
export async function sofiaStatus(stack: Pick<RunningStack, "containers">): Promise<SofiaStatusRow[]> {
  const out = await fsCli(stack, "sofia status");
  return out
    .split("\n")
    .map((line) => line.split("\t").map((c) => c.trim()))
    .filter((cols) => cols.length === 4 && ["profile", "gateway", "alias"].includes(cols[1]))
    .map(([name, type, data, state]) => ({ name, type: type as SofiaStatusRow["type"], data, state }));
}

/** The state of gateway `gateway` (any profile) in `sofia status`, if listed. */
export async function gatewayState(stack: Pick<RunningStack, "containers">, gateway: string): Promise<string | undefined> {
  return (await sofiaStatus(stack)).find((r) => r.type === "gateway" && r.name.endsWith(`::${gateway}`))?.state;
}

async function startFreeswitch(stack: RunningStack): Promise<void> {
  const conf = hostPath(stack, PATHS.freeswitchConf);
  const log = hostPath(stack, PATHS.freeswitchLog);
  await mkdir(log, { recursive: true });
  // The mounts and command line of freeswitchRunCommand (sip/deploy.ts); the network is the holder's instead of the host's.
  await docker(
    "run", "-d", "--name", stack.containers.freeswitch, "--network", `container:${stack.containers.holder}`,
    "-v", `${conf}:${FREESWITCH_DIRS.conf}:ro`,
    "-v", `${hostPath(stack, PATHS.fsCliConf)}:/etc/fs_cli.conf:ro`,
    "-v", `${log}:${FREESWITCH_DIRS.log}`,
    "--user", "0:0",
    "--entrypoint", FREESWITCH_COMMAND[0],
    stack.images.freeswitch,
    ...FREESWITCH_COMMAND.slice(1),
  );
}

/** Waits until fs_cli answers and every profile of the stack is listed by `sofia status`. */
export async function waitForFreeswitch(stack: RunningStack, timeoutMs = 60_000): Promise<void> {
  const profiles = stack.loaded.model.profiles.map((p) => p.name);
  await waitFor("FreeSWITCH to load every profile", timeoutMs, async () => {
    const status = await sofiaStatus(stack);
    return profiles.every((p) => status.some((r) => r.type === "profile" && r.name === p));
  });
}

export async function startApi(stack: RunningStack): Promise<void> {
  // As apiRunCommand (sip/deploy.ts) does: the store directory belongs to the API's uid.
  await run("install", ["-d", "-m", "0700", "-o", String(API_UID), "-g", String(API_UID), hostPath(stack, PATHS.apiData)]);
  // The mounts of apiRunCommand; the network is the holder's instead of the host's.
  await docker(
    "run", "-d", "--name", stack.containers.api, "--network", `container:${stack.containers.holder}`,
    "-e", "API_CONFIG=/etc/telephony-api/config.json",
    "-v", `${hostPath(stack, PATHS.apiConfig)}:/etc/telephony-api/config.json:ro`,
    "-v", `${hostPath(stack, PATHS.apiSecrets)}:/run/secrets:ro`,
    "-v", `${hostPath(stack, PATHS.apiData)}:/data`,
    stack.images.api,
  );
  await waitFor("the config API to answer /readyz", 60_000, async () => {
    await netnsExec(stack.netns.server, ["curl", "-fsS", `http://127.0.0.1:${CONFIG_API_PORT}/readyz`]);
    return true;
  });
}

/** The config API's /readyz answer (its `esl` field says whether it controls FreeSWITCH). */
export async function apiReadiness(stack: Pick<RunningStack, "netns">): Promise<{ esl: string; trunks: number; extensions: number }> {
  return JSON.parse(await netnsExec(stack.netns.server, ["curl", "-fsS", `http://127.0.0.1:${CONFIG_API_PORT}/readyz`]));
}

/** Waits until the API's ESL connection to FreeSWITCH is open (trunk changes then apply at once). */
export async function waitForApiEsl(stack: Pick<RunningStack, "netns">, timeoutMs = 45_000): Promise<void> {
  await waitFor("the config API's ESL connection", timeoutMs, async () => (await apiReadiness(stack)).esl === "connected");
}

/** PUTs the stack's trunks and extensions as the deploy step does. */
export async function syncApi(stack: RunningStack): Promise<void> {
  await deployPut(stack, "/api/v1/sip/trunks", stack.trunks);
  await deployPut(stack, "/api/v1/sip/extensions", stack.extensions);
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const id = `fsimg-${randomBytes(3).toString("hex")}`;
  const root = await mkdtemp(join(tmpdir(), `${id}-`));
  const loaded = loadTestStack(options.mutate, options.trunkPasswords);
  const { model } = loaded;
  const secrets: HostSecrets = {
    eslPassword: secret(),
    xmlCurlPassword: secret(),
    fernetKey: randomBytes(32).toString("base64url") + "=",
    adminToken: secret(),
    selfSignedCertificate: await selfSignedCertificate(root),
  };
  const trunks = activeGatewaySpecs(model, options.trunkPasswords ?? TRUNK_PASSWORDS);
  const extensionPasswords = Object.fromEntries(model.extensions.map((e) => [e.id, secret()]));
  const extensions = extensionRecords(model, Object.fromEntries(Object.entries(extensionPasswords).map(([k, password]) => [k, { password }])));
  const rendered = renderBundle(model, ADDR.server, secrets);
  const files = options.patchFiles ? options.patchFiles(rendered, { extensions }) : rendered;
  assertOnlyTestAddresses(files, trunks);

  const stack: RunningStack = {
    id,
    root,
    loaded,
    files,
    secrets,
    trunks,
    extensions,
    extensionPasswords,
    containers: { holder: `${id}-holder`, freeswitch: `${id}-fs`, api: `${id}-api` },
    netns: { server: `${id}-server`, lan: `${id}-lan`, plusnet: `${id}-plusnet`, oneandone: `${id}-oneandone`, phone: `${id}-phone`, stranger: `${id}-stranger` },
    images: { freeswitch: freeswitchImage(), api: "" },
  };
  try {
    await docker("image", "inspect", stack.images.freeswitch).catch(() => {
      throw new Error(`FREESWITCH_IMAGE=${stack.images.freeswitch} is not in the local Docker store: pull it (by digest) or load it first.`);
    });
    (stack.images as { api: string }).api = await apiImage();
    await writeDeployedFiles(stack, files);

    // Docker switches IPv6 off in a container without an IPv6 network; the server needs it.
    await docker(
      "run", "-d", "--name", stack.containers.holder, "--network", "none",
      "--sysctl", "net.ipv6.conf.all.disable_ipv6=0", "--sysctl", "net.ipv6.conf.default.disable_ipv6=0",
      baseImageOnce(), "sleep", "infinity",
    );
    const pid = (await docker("inspect", "-f", "{{.State.Pid}}", stack.containers.holder)).trim();
    await ip("netns", "attach", stack.netns.server, pid);
    await ip("netns", "add", stack.netns.lan);
    await ip("-n", stack.netns.lan, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0");
    await ip("-n", stack.netns.lan, "link", "set", "br0", "up");
    await addInterface(stack.netns.lan, "server", stack.netns.server, ADDR.server);
    for (const [peer, addresses] of Object.entries(PEERS) as [Peer, { ipv4?: string; ipv6?: string }][]) {
      await ip("netns", "add", stack.netns[peer]);
      await addInterface(stack.netns.lan, peer, stack.netns[peer], addresses);
    }

    if (options.freeswitchFirst) {
      await startFreeswitch(stack);
      await startApi(stack);
      await syncApi(stack);
    } else {
      await startApi(stack);
      await syncApi(stack);
      await startFreeswitch(stack);
    }
    await waitForFreeswitch(stack);
    // Settled as after a deploy: the API controls FreeSWITCH (its ESL retries back off up to 30 s,
    // so on the deploy's order, API first, this can take that long after FreeSWITCH is up).
    await waitForApiEsl(stack);
    return stack;
  } catch (error) {
    const logs = await containerLogs(stack);
    await stopStack(stack).catch(() => undefined);
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  }
}

/** The last lines each container logged, and FreeSWITCH's log file: for failure messages. */
export async function containerLogs(stack: RunningStack, lines = 30): Promise<string> {
  const parts: string[] = [];
  for (const name of [stack.containers.api, stack.containers.freeswitch]) {
    const out = await run("docker", ["logs", "--tail", String(lines), name]).then((r) => r.stdout + r.stderr, () => "(no container)");
    parts.push(`--- docker logs ${name}\n${out.trim()}`);
  }
  const log = await readFreeswitchLog(stack).catch(() => "");
  parts.push(`--- freeswitch.log (last ${lines} lines)\n${log.trim().split("\n").slice(-lines).join("\n")}`);
  return parts.join("\n");
}

export interface Redeployed extends RunningStack {
  /** The file groups written (each ran its reload, as on the host). */
  readonly written: readonly string[];
  /** Which sets were PUT to the config API because they changed. */
  readonly put: readonly ("trunks" | "extensions")[];
  /** The API's answers to those PUTs, parsed (e.g. trunks: {added, changed, removed, reload: {status, commands}}). */
  readonly answers: { readonly trunks?: any; readonly extensions?: any };
}

/**
 * A `pulumi up` with a changed stack onto the running test host: renders the test stack file with
 * `options.mutate` (relative to the file, not cumulative) and the trunk passwords, writes the file
 * groups whose content changed (each runs its own reload, as deployed) and PUTs the trunk and
 * extension sets when they changed. Same secrets and extension passwords as before.
 */
export async function redeploy(stack: RunningStack, options: Omit<StackOptions, "freeswitchFirst"> = {}): Promise<Redeployed> {
  const loaded = loadTestStack(options.mutate, options.trunkPasswords);
  const { model } = loaded;
  const files = renderBundle(model, ADDR.server, stack.secrets);
  const trunks = activeGatewaySpecs(model, options.trunkPasswords ?? TRUNK_PASSWORDS);
  assertOnlyTestAddresses(files, trunks);
  const extensionPasswords = Object.fromEntries(model.extensions.map((e) => [e.id, stack.extensionPasswords[e.id] ?? secret()]));
  const extensions = extensionRecords(model, Object.fromEntries(Object.entries(extensionPasswords).map(([k, password]) => [k, { password }])));
  const written = await writeDeployedFiles(stack, files, stack.files);
  const put: ("trunks" | "extensions")[] = [];
  const answers: { trunks?: any; extensions?: any } = {};
  if (JSON.stringify(trunks) !== JSON.stringify(stack.trunks)) {
    answers.trunks = JSON.parse(await deployPut(stack, "/api/v1/sip/trunks", trunks));
    put.push("trunks");
  }
  if (JSON.stringify(extensions) !== JSON.stringify(stack.extensions)) {
    answers.extensions = JSON.parse(await deployPut(stack, "/api/v1/sip/extensions", extensions));
    put.push("extensions");
  }
  return { ...stack, loaded, files, trunks, extensions, extensionPasswords, written, put, answers };
}

export async function stopStack(stack: RunningStack | undefined): Promise<void> {
  if (!stack) return;
  for (const name of [stack.containers.freeswitch, stack.containers.api, stack.containers.holder]) await docker("rm", "-f", name).catch(() => undefined);
  for (const ns of Object.values(stack.netns)) await ip("netns", "del", ns).catch(() => undefined);
  if (!process.env.FSIMG_KEEP) await rm(stack.root, { recursive: true, force: true });
}

/** Writes a file into a peer-visible temp location (e.g. a sipp scenario) and returns its path. */
export async function writeScenario(stack: Pick<RunningStack, "root">, name: string, xml: string): Promise<string> {
  const path = join(stack.root, "scenarios", name);
  await mkdir(join(stack.root, "scenarios"), { recursive: true });
  await writeFile(path, xml);
  return path;
}
