/**
 * The real-FreeSWITCH suite's stack: the FreeSWITCH image named by FREESWITCH_IMAGE and the config
 * API's image, started with the test stack's rendered tree written exactly as the deploy step
 * writes it, in the test network (namespaces.ts), on documentation addresses only; then
 * redeployed as `pulumi up` would, and stopped. FreeSWITCH and the config API share the holder
 * container's network namespace, so the API is on 127.0.0.1:8001 beside FreeSWITCH as on a host.
 * Before FreeSWITCH starts, the rendered tree and the trunk set are checked to name no address
 * outside loopback and the documentation ranges (freeswitchTestStack.ts).
 *
 * Names are prefixed `fsimg-<run>`; stopStack() removes everything the run created.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { RenderedFile } from "../../sip/renderedFile";
import { FREESWITCH_COMMAND, FREESWITCH_DIRS } from "../../sip/freeswitchImage";
import { renderBundle, type HostSecrets } from "../../sip/bundle";
import type { LoadedStack } from "../../sip/config";
import { API_UID, extensionRecords } from "../../sip/deploy";
import { CONFIG_API_PORT, HOST_PATHS } from "../../sip/hostLayout";
import type { ExtensionRecord, GatewaySpec } from "../../sip/apiContract";
import { activeGatewaySpecs } from "../../sip/directory";
import { deployPut, hostPath, readFreeswitchLog, writeDeployedFiles } from "./deployCommands";
import { docker } from "./exec";
import { sofiaStatus } from "./freeswitchCli";
import { createTestNetwork, ip, netnsExec, type NetworkNamespaces, TEST_NETWORK } from "./namespaces";
import { assertOnlyTestAddresses, loadTestStack, TRUNK_PASSWORDS } from "./freeswitchTestStack";
import { apiImage, baseImageOnce, freeswitchImage } from "./images";
import { waitFor } from "./waitFor";

const run = promisify(execFile);

export interface StackOptions {
  /** Start FreeSWITCH before the config API (the API comes up afterwards). Default: API first, as the deploy does. */
  readonly freeswitchFirst?: boolean;
  /** Changes to the test stack's `telephony:*` values before rendering. */
  readonly mutate?: (config: Record<string, any>) => void;
  /** `telephony:secrets.trunkPasswords` (default TRUNK_PASSWORDS). */
  readonly trunkPasswords?: Readonly<Record<string, string>>;
  /** Changes to the rendered files before they are written (benchmarks only: tests run the tree as rendered). */
  readonly patchFiles?: (
    files: RenderedFile[],
    stack: { readonly extensions: readonly ExtensionRecord[] },
  ) => RenderedFile[];
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
  readonly netns: NetworkNamespaces;
  readonly images: { readonly freeswitch: string; readonly api: string };
}

/** Self-signed certificate for the test stack (the deploy makes one with @pulumi/tls; same shape). */
async function selfSignedCertificate(dir: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const key = join(dir, "tls.key");
  const cert = join(dir, "tls.crt");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=192.0.2.10",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  const pem = { certificatePem: await readFile(cert, "utf8"), privateKeyPem: await readFile(key, "utf8") };
  await rm(key);
  await rm(cert);
  return pem;
}

const secret = () => randomBytes(18).toString("base64url");

/** An HTTP request to the config API on the server's loopback (curl in the server namespace). */
export async function apiRequest(
  stack: RunningStack,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const args = [
    "curl",
    "-sS",
    "-o",
    "-",
    "-w",
    "\n%{http_code}",
    "-X",
    method,
    "-H",
    `Authorization: Bearer ${stack.secrets.adminToken}`,
  ];
  if (body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", "@-");
  const out = await netnsExec(
    stack.netns.server,
    [...args, `http://127.0.0.1:${CONFIG_API_PORT}${path}`],
    body === undefined ? undefined : JSON.stringify(body),
  );
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

async function startFreeswitch(stack: RunningStack): Promise<void> {
  const conf = hostPath(stack, HOST_PATHS.freeswitchConf);
  const log = hostPath(stack, HOST_PATHS.freeswitchLog);
  await mkdir(log, { recursive: true });
  // The mounts and command line of freeswitchRunCommand (sip/deploy.ts); the network is the holder's instead of the host's.
  await docker(
    "run",
    "-d",
    "--name",
    stack.containers.freeswitch,
    "--network",
    `container:${stack.containers.holder}`,
    "-v",
    `${conf}:${FREESWITCH_DIRS.conf}:ro`,
    "-v",
    `${hostPath(stack, HOST_PATHS.fsCliConf)}:/etc/fs_cli.conf:ro`,
    "-v",
    `${log}:${FREESWITCH_DIRS.log}`,
    "--user",
    "0:0",
    "--entrypoint",
    FREESWITCH_COMMAND[0],
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
  await run("install", [
    "-d",
    "-m",
    "0700",
    "-o",
    String(API_UID),
    "-g",
    String(API_UID),
    hostPath(stack, HOST_PATHS.apiData),
  ]);
  // The mounts of apiRunCommand; the network is the holder's instead of the host's.
  await docker(
    "run",
    "-d",
    "--name",
    stack.containers.api,
    "--network",
    `container:${stack.containers.holder}`,
    "-e",
    "API_CONFIG=/etc/telephony-api/config.json",
    "-v",
    `${hostPath(stack, HOST_PATHS.apiConfig)}:/etc/telephony-api/config.json:ro`,
    "-v",
    `${hostPath(stack, HOST_PATHS.apiSecrets)}:/run/secrets:ro`,
    "-v",
    `${hostPath(stack, HOST_PATHS.apiData)}:/data`,
    stack.images.api,
  );
  await waitFor("the config API to answer /readyz", 60_000, async () => {
    await netnsExec(stack.netns.server, ["curl", "-fsS", `http://127.0.0.1:${CONFIG_API_PORT}/readyz`]);
    return true;
  });
}

/** The config API's /readyz answer (its `esl` field says whether it controls FreeSWITCH). */
export async function apiReadiness(
  stack: Pick<RunningStack, "netns">,
): Promise<{ esl: string; trunks: number; extensions: number }> {
  return JSON.parse(
    await netnsExec(stack.netns.server, ["curl", "-fsS", `http://127.0.0.1:${CONFIG_API_PORT}/readyz`]),
  );
}

/** Waits until the API's ESL connection to FreeSWITCH is open (trunk changes then apply at once). */
export async function waitForApiEsl(stack: Pick<RunningStack, "netns">, timeoutMs = 45_000): Promise<void> {
  await waitFor(
    "the config API's ESL connection",
    timeoutMs,
    async () => (await apiReadiness(stack)).esl === "connected",
  );
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
  const extensions = extensionRecords(
    model,
    Object.fromEntries(Object.entries(extensionPasswords).map(([k, password]) => [k, { password }])),
  );
  const rendered = renderBundle(model, TEST_NETWORK.server, secrets);
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
    netns: {
      server: `${id}-server`,
      lan: `${id}-lan`,
      plusnet: `${id}-plusnet`,
      oneandone: `${id}-oneandone`,
      phone: `${id}-phone`,
      stranger: `${id}-stranger`,
    },
    images: { freeswitch: freeswitchImage(), api: "" },
  };
  try {
    await docker("image", "inspect", stack.images.freeswitch).catch(() => {
      throw new Error(
        `FREESWITCH_IMAGE=${stack.images.freeswitch} is not in the local Docker store: pull it (by digest) or load it first.`,
      );
    });
    (stack.images as { api: string }).api = await apiImage();
    await writeDeployedFiles(stack, files);

    // Docker switches IPv6 off in a container without an IPv6 network; the server needs it.
    await docker(
      "run",
      "-d",
      "--name",
      stack.containers.holder,
      "--network",
      "none",
      "--sysctl",
      "net.ipv6.conf.all.disable_ipv6=0",
      "--sysctl",
      "net.ipv6.conf.default.disable_ipv6=0",
      baseImageOnce(),
      "sleep",
      "infinity",
    );
    const pid = (await docker("inspect", "-f", "{{.State.Pid}}", stack.containers.holder)).trim();
    await createTestNetwork(stack.netns, pid);

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
    const out = await run("docker", ["logs", "--tail", String(lines), name]).then(
      (r) => r.stdout + r.stderr,
      () => "(no container)",
    );
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
export async function redeploy(
  stack: RunningStack,
  options: Omit<StackOptions, "freeswitchFirst"> = {},
): Promise<Redeployed> {
  const loaded = loadTestStack(options.mutate, options.trunkPasswords);
  const { model } = loaded;
  const files = renderBundle(model, TEST_NETWORK.server, stack.secrets);
  const trunks = activeGatewaySpecs(model, options.trunkPasswords ?? TRUNK_PASSWORDS);
  assertOnlyTestAddresses(files, trunks);
  const extensionPasswords = Object.fromEntries(
    model.extensions.map((e) => [e.id, stack.extensionPasswords[e.id] ?? secret()]),
  );
  const extensions = extensionRecords(
    model,
    Object.fromEntries(Object.entries(extensionPasswords).map(([k, password]) => [k, { password }])),
  );
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
  for (const name of [stack.containers.freeswitch, stack.containers.api, stack.containers.holder])
    await docker("rm", "-f", name).catch(() => undefined);
  for (const ns of Object.values(stack.netns)) await ip("netns", "del", ns).catch(() => undefined);
  if (!process.env.FSIMG_KEEP) await rm(stack.root, { recursive: true, force: true });
}
