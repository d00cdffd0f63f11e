/**
 * A real ACME server for the renewal job: Debian's Pebble (RFC 8555 test server) in a network
 * namespace of its own that has only loopback, so nothing the ACME client or Pebble's validation
 * does can leave it. The host name to certify resolves to 127.0.0.1 there (a hosts file bound over
 * /etc/hosts in the namespace's mount namespace only), so Pebble's http-01 validation really
 * fetches the token from lego's listener on port 80. Pebble's own TLS certificate comes from a
 * throwaway CA made here; lego trusts it through LEGO_CA_CERTIFICATES.
 *
 * The renewal script runs as rendered, from its deployed path: a private mount namespace binds
 * the run's root over /srv (so /srv/telephony is the run's tree) and the hosts file over
 * /etc/hosts. Only `docker` and `ufw` are stand-ins (PATH), recording their calls: on the host
 * they restart FreeSWITCH's TLS profiles and open port 80.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HOST_ROOT } from "../../sip/hostLayout";
import type { RenderedFile } from "../../sip/renderedFile";
import { sh, shAsync } from "./exec";
import { ip, netnsExec } from "./namespaces";
import { waitFor } from "./waitFor";

/** Pebble's directory on the namespace's loopback: the stacks' tls.acmeServer in these tests. */
export const PEBBLE_DIRECTORY = "https://127.0.0.1:14000/dir";
const PEBBLE_MANAGEMENT = "https://127.0.0.1:15000";

export interface AcmeRig {
  readonly id: string;
  /** Scratch: Pebble's config, the throwaway CA, the hosts file, the stand-ins and their log. */
  readonly dir: string;
  readonly netns: string;
  /** The CA that signed Pebble's listener certificate (LEGO_CA_CERTIFICATES). */
  readonly caFile: string;
  readonly hostsFile: string;
  readonly stubs: string;
  readonly stubLog: string;
  readonly pebble: ChildProcess;
  /** What Pebble printed, for failure messages. */
  readonly output: () => string;
}

/**
 * `docker` stand-in: records the call; `docker inspect` answers that FreeSWITCH runs; fs_cli's
 * `version short` answers $FS_VERSION (nothing when unset; a release build says "1.11.2-release") and `reloadcert` what FreeSWITCH 1.11
 * answers it (mod_commands' reload_cert_function).
 */
export const RECORDING_DOCKER = [
  "#!/bin/sh",
  'echo "docker $*" >> "$STUB_LOG"',
  'case "$1" in inspect) echo true ;; esac',
  'case "$*" in *"fs_cli -x version short") echo "${FS_VERSION:-}" ;; *"fs_cli -x reloadcert") echo "+OK cert reload event sent" ;; esac',
  "",
].join("\n");
const RECORDING_UFW = ["#!/bin/sh", 'echo "ufw $*" >> "$STUB_LOG"', ""].join("\n");

async function throwawayCa(dir: string): Promise<{ caFile: string; cert: string; key: string }> {
  const caKey = join(dir, "ca.key");
  const caFile = join(dir, "ca.pem");
  const key = join(dir, "pebble.key");
  const csr = join(dir, "pebble.csr");
  const cert = join(dir, "pebble.pem");
  const ext = join(dir, "pebble.ext");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await shAsync("openssl", [
    "req",
    "-x509",
    ...ec,
    "-days",
    "2",
    "-subj",
    "/CN=telephony test ACME listener CA",
    "-keyout",
    caKey,
    "-out",
    caFile,
  ]);
  await shAsync("openssl", ["req", "-new", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr]);
  await writeFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await shAsync("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caFile,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  return { caFile, cert, key };
}

/** Starts Pebble in a loopback-only namespace where `hostname` is 127.0.0.1. */
export async function startPebble(hostname: string): Promise<AcmeRig> {
  const id = `acme-${randomBytes(3).toString("hex")}`;
  const dir = await mkdtemp(join(tmpdir(), `${id}-`));
  const netns = id;
  const { caFile, cert, key } = await throwawayCa(dir);
  const hostsFile = join(dir, "hosts");
  await writeFile(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${hostname}\n`);
  const config = join(dir, "pebble.json");
  // httpPort 80: Pebble validates http-01 where a real CA does, on lego's --http.port :80.
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: "127.0.0.1:14000",
        managementListenAddress: "127.0.0.1:15000",
        certificate: cert,
        privateKey: key,
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const stubs = join(dir, "bin");
  const stubLog = join(dir, "stub-calls.log");
  await mkdir(stubs);
  await writeFile(join(stubs, "docker"), RECORDING_DOCKER, { mode: 0o755 });
  await writeFile(join(stubs, "ufw"), RECORDING_UFW, { mode: 0o755 });
  await writeFile(stubLog, "");

  await ip("netns", "add", netns);
  await ip("-n", netns, "link", "set", "lo", "up");
  let output = "";
  // No sleep before validating, no deliberately rejected nonces: the test runs Pebble's real
  // validation, just without the delays and faults it injects to harden clients. No reuse of an
  // earlier authorization either, so every order (a renewal too) is validated over http-01 again.
  const pebble = spawn(
    "ip",
    [
      "netns",
      "exec",
      netns,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      'mount --bind "$0" /etc/hosts && exec pebble -config "$1"',
      hostsFile,
      config,
    ],
    {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  pebble.stdout.on("data", (d) => (output += d));
  pebble.stderr.on("data", (d) => (output += d));
  const rig: AcmeRig = { id, dir, netns, caFile, hostsFile, stubs, stubLog, pebble, output: () => output };
  try {
    await waitFor("Pebble's ACME directory", 30_000, async () => {
      if (pebble.exitCode !== null) throw new Error(`pebble exited ${pebble.exitCode}: ${output}`);
      await netnsExec(netns, ["curl", "-fsS", "--cacert", caFile, PEBBLE_DIRECTORY]);
      return true;
    });
  } catch (error) {
    await stopPebble(rig);
    throw error;
  }
  return rig;
}

/** The root certificate Pebble issues under (it makes a new one at every start). */
export async function pebbleRoot(rig: AcmeRig): Promise<string> {
  return netnsExec(rig.netns, ["curl", "-fsS", "--cacert", rig.caFile, `${PEBBLE_MANAGEMENT}/roots/0`]);
}

/** Writes the rendered files that live under the host root into `root` (as the deploy does: path, mode). */
export async function writeHostFiles(root: string, files: readonly RenderedFile[]): Promise<void> {
  for (const f of files.filter((x) => x.path.startsWith(`${HOST_ROOT}/`))) {
    const path = join(root, f.path);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await writeFile(path, f.content);
    await chmod(path, Number.parseInt(f.mode, 8));
  }
}

export interface RenewalRun {
  readonly code: number;
  readonly output: string;
}

/**
 * Runs the deployed renewal script (`bash <script>`, as the systemd unit does) in Pebble's
 * namespace with `root` as the host's /srv. `docker` is the recording stand-in unless `docker`
 * names another script for it.
 */
export async function runRenewal(
  rig: AcmeRig,
  root: string,
  script: string,
  options: { docker?: string; env?: Record<string, string> } = {},
): Promise<RenewalRun> {
  if (options.docker !== undefined) await writeFile(join(rig.stubs, "docker"), options.docker, { mode: 0o755 });
  const env = {
    ...process.env,
    PATH: `${rig.stubs}:${process.env.PATH}`,
    STUB_LOG: rig.stubLog,
    LEGO_CA_CERTIFICATES: rig.caFile,
    ...options.env,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        rig.netns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        'mount --bind "$0/srv" /srv && mount --bind "$1" /etc/hosts && exec bash "$2"',
        root,
        rig.hostsFile,
        script,
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

/** The stand-ins' calls since the last look, and clears the log. */
export async function takeStubCalls(rig: AcmeRig): Promise<string[]> {
  const calls = (await readFile(rig.stubLog, "utf8")).split("\n").filter(Boolean);
  await writeFile(rig.stubLog, "");
  return calls;
}

/** A certificate for `hostname` that expires in a day, with its key: lego's store then holds one that is due. */
export function certificateDueTomorrow(dir: string, hostname: string): { cert: string; key: string } {
  const key = join(dir, "due.key");
  const cert = join(dir, "due.crt");
  sh("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${hostname}`,
    "-addext",
    `subjectAltName=DNS:${hostname}`,
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  return { cert, key };
}

export async function stopPebble(rig: AcmeRig | undefined): Promise<void> {
  if (!rig) return;
  if (rig.pebble.exitCode === null) {
    const exited = new Promise((r) => rig.pebble.once("close", r));
    rig.pebble.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  }
  await ip("netns", "del", rig.netns).catch(() => undefined);
  // ACME_KEEP=1 keeps the scratch folder, with what Pebble printed, for a look after the run.
  if (process.env.ACME_KEEP) await writeFile(join(rig.dir, "pebble.log"), rig.output());
  else await rm(rig.dir, { recursive: true, force: true });
}
