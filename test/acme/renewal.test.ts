/**
 * The certificate renewal against a real ACME server: the renewal script as the stack renders it
 * (tls.mode acme, http-01), deployed to its path and run with `bash` as the systemd unit runs it,
 * drives Debian's lego against Debian's Pebble in a loopback-only network namespace
 * (test/support/acmeServer.ts). Pebble validates http-01 for real, on lego's port 80. Only the
 * host's `docker` (FreeSWITCH's fs_cli) and `ufw` are recording stand-ins; the stack runs an image
 * of its own (freeswitch.image), so the job asks FreeSWITCH its version, and the stand-in reports it.
 *
 * First issue on a FreeSWITCH 1.11.2 (reloadcert, no restart), a renewal that is not due (nothing
 * written, nothing asked), a renewal that is due on a 1.10.12 (a new certificate lands, modes right,
 * the TLS profiles restart, drained) and another on 1.11.2 (reloadcert again, no restart).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_PATHS, TLS_HOST_DIR } from "../../sip/hostLayout";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { acmeStateDir } from "../../sip/render/tls";
import { buildModel } from "../../sip/stack";
import {
  certificateDueTomorrow,
  PEBBLE_DIRECTORY,
  pebbleRoot,
  runRenewal,
  startPebble,
  stopPebble,
  takeStubCalls,
  writeHostFiles,
  type AcmeRig,
} from "../support/acmeServer";
import { sh } from "../support/exec";
import { prodRawConfig, PROD_SECRETS } from "../support/stackConfig";

/** example.com is reserved for documentation; inside the namespace it is 127.0.0.1. */
const HOSTNAME = "sip.example.com";
const ADDRESSES = { ipv4: "192.0.2.10", ipv6: "2001:db8:10::1" };

function acmeModel() {
  const raw = prodRawConfig();
  raw.host.hostname = HOSTNAME;
  delete raw.dns;
  raw.tls = { mode: "acme", challenge: "http-01", email: "ops@example.org", acmeServer: PEBBLE_DIRECTORY };
  // An image of the operator's, which may be 1.10 or 1.11: the job decides by the version it reports.
  raw.freeswitch = { ...raw.freeswitch, image: `example/freeswitch@sha256:${"ab".repeat(32)}` };
  return buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
}

const files = renderBundle(acmeModel(), ADDRESSES, MASKED_SECRETS);
const inTree = (root: string, name: string) => join(root, TLS_HOST_DIR, name);
const live = (root: string, name: string) => join(root, acmeStateDir(PEBBLE_DIRECTORY), "certificates", name);

/** openssl's view of a PEM file's first certificate. */
const x509 = (path: string, ...fields: string[]) => sh("openssl", ["x509", "-in", path, "-noout", ...fields]).trim();
const snapshot = (root: string) =>
  Object.fromEntries(
    ["agent.pem", "wss.pem", "cafile.pem"].map((f) => [
      f,
      {
        content: readFileSync(inTree(root, f), "utf8"),
        mtimeMs: statSync(inTree(root, f)).mtimeMs,
        ino: statSync(inTree(root, f)).ino,
      },
    ]),
  );
/** A Sofia profile restart among the stand-in's calls (a drain's `show calls count` is not one). */
const isRestart = (call: string) => /^docker exec \S+ fs_cli -x sofia profile \S+ restart$/.test(call);
const RESTARTS = [
  "docker exec telephony-freeswitch fs_cli -x sofia profile internal restart",
  "docker exec telephony-freeswitch fs_cli -x sofia profile internal-ipv4 restart",
];
const RELOADCERT = "docker exec telephony-freeswitch fs_cli -x reloadcert";
const ASK_VERSION = "docker exec telephony-freeswitch fs_cli -x version short";
/** What the job asked FreeSWITCH, the drain's polls left out. */
const fsCliCalls = (calls: string[]) => calls.filter((c) => c.includes(" fs_cli ") && !c.endsWith("show calls count"));
const drained = (calls: string[]) => calls.some((c) => c.endsWith("fs_cli -x show calls count"));

describe("the rendered renewal job against Pebble (http-01)", () => {
  let rig: AcmeRig;
  let root: string;
  const script = ACME_PATHS.script;

  beforeAll(async () => {
    rig = await startPebble(HOSTNAME);
    root = mkdtempSync(join(tmpdir(), "acme-host-"));
    await writeHostFiles(root, files);
  });
  afterAll(async () => {
    await stopPebble(rig);
    if (root && !process.env.ACME_KEEP) rmSync(root, { recursive: true, force: true });
  });

  it("issues the first certificate: agent.pem and wss.pem (chain, then key) and cafile.pem, 0600 root, and loads it with reloadcert on FreeSWITCH 1.11.2", async () => {
    const run = await runRenewal(rig, root, script, { env: { FS_VERSION: "1.11.2-release" } });
    expect(run.code, run.output + rig.output()).toBe(0);
    expect(run.output).toContain("certificate installed");
    for (const f of ["agent.pem", "wss.pem", "cafile.pem"]) {
      const st = statSync(inTree(root, f));
      expect([f, (st.mode & 0o777).toString(8), st.uid]).toEqual([f, "600", 0]);
    }
    const agent = readFileSync(inTree(root, "agent.pem"), "utf8");
    expect(readFileSync(inTree(root, "wss.pem"), "utf8")).toBe(agent);
    expect(agent).toMatch(
      /^-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----[\s\S]*-----BEGIN EC PRIVATE KEY-----/,
    );
    expect(x509(inTree(root, "agent.pem"), "-ext", "subjectAltName")).toContain(`DNS:${HOSTNAME}`);
    expect(x509(inTree(root, "agent.pem"), "-issuer")).toMatch(/Pebble Intermediate CA/);
    // The chain verifies up to the root this Pebble issues under.
    const rootPem = join(rig.dir, "pebble-root.pem");
    sh("bash", ["-c", `cat > ${rootPem}`], await pebbleRoot(rig));
    expect(
      sh("openssl", [
        "verify",
        "-CAfile",
        rootPem,
        "-untrusted",
        inTree(root, "cafile.pem"),
        inTree(root, "agent.pem"),
      ]),
    ).toContain(": OK");
    // Port 80 was open only while lego answered the challenge; then FreeSWITCH was asked its version
    // and loaded the certificate with reloadcert: no drain, no profile restart.
    const calls = await takeStubCalls(rig);
    expect(calls.filter((c) => c.startsWith("ufw"))).toEqual([
      "ufw allow proto tcp to any port 80 comment ACME http-01 (temporary)",
      "ufw delete allow proto tcp to any port 80",
    ]);
    expect(fsCliCalls(calls)).toEqual([ASK_VERSION, RELOADCERT]);
    expect(calls.filter(isRestart)).toEqual([]);
    expect(drained(calls)).toBe(false);
    expect(run.output).toContain("FreeSWITCH 1.11.2 has reloadcert (1.11.2 or later): no profile restart");
    expect(run.output).toContain("certificate loaded with reloadcert, no profile restarted");
  });

  it("renews nothing that is not due: every file untouched, no profile restarted", async () => {
    const before = snapshot(root);
    await new Promise((r) => setTimeout(r, 20));
    const run = await runRenewal(rig, root, script, { env: { FS_VERSION: "1.11.2-release" } });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("certificate unchanged");
    expect(run.output).toMatch(/no renewal/);
    expect(snapshot(root)).toEqual(before);
    // Not even a look at FreeSWITCH: the job ends before its restart step.
    expect((await takeStubCalls(rig)).filter((c) => c.startsWith("docker"))).toEqual([]);
  });

  it("renews a certificate that is due on FreeSWITCH 1.10.12: the new one lands with the right modes and the TLS profiles restart, drained", async () => {
    const before = snapshot(root);
    const serialBefore = x509(inTree(root, "agent.pem"), "-serial");
    // Pebble's certificates live for years; lego decides by the stored certificate's expiry, so
    // the store is given one that expires tomorrow.
    const due = certificateDueTomorrow(rig.dir, HOSTNAME);
    copyFileSync(due.cert, live(root, `${HOSTNAME}.crt`));
    const run = await runRenewal(rig, root, script, { env: { FS_VERSION: "1.10.12-release" } });
    expect(run.code, run.output + rig.output()).toBe(0);
    expect(run.output).toContain("certificate installed");
    const serialAfter = x509(inTree(root, "agent.pem"), "-serial");
    expect(serialAfter).not.toBe(serialBefore);
    expect(x509(inTree(root, "agent.pem"), "-issuer")).toMatch(/Pebble Intermediate CA/);
    expect(readFileSync(inTree(root, "wss.pem"), "utf8")).toBe(readFileSync(inTree(root, "agent.pem"), "utf8"));
    expect(readFileSync(inTree(root, "agent.pem"), "utf8")).not.toBe(before["agent.pem"].content);
    for (const f of ["agent.pem", "wss.pem", "cafile.pem"])
      expect((statSync(inTree(root, f)).mode & 0o777).toString(8)).toBe("600");
    const calls = await takeStubCalls(rig);
    // 1.10 has no reloadcert: never sent; the drain, then the restarts.
    expect(fsCliCalls(calls)).toEqual([ASK_VERSION, ...RESTARTS]);
    expect(drained(calls)).toBe(true);
    expect(run.output).toContain(
      "FreeSWITCH 1.10.12 has no reloadcert that reaches Sofia (1.11.2 or later): restarting internal, internal-ipv4, drained",
    );
    expect(run.output).toContain("TLS profiles internal, internal-ipv4 restarted (drained) to load the certificate");
    // No temporary file left in FreeSWITCH's tls directory.
    expect(
      sh("ls", ["-A", join(root, TLS_HOST_DIR)])
        .trim()
        .split("\n")
        .sort(),
    ).toEqual(["agent.pem", "cafile.pem", "wss.pem"]);
  });

  it("renews a certificate that is due on FreeSWITCH 1.11.2: the new one lands and reloadcert loads it, nothing restarts", async () => {
    const serialBefore = x509(inTree(root, "agent.pem"), "-serial");
    copyFileSync(certificateDueTomorrow(rig.dir, HOSTNAME).cert, live(root, `${HOSTNAME}.crt`));
    const run = await runRenewal(rig, root, script, { env: { FS_VERSION: "1.11.2-release" } });
    expect(run.code, run.output + rig.output()).toBe(0);
    expect(run.output).toContain("certificate installed");
    expect(x509(inTree(root, "agent.pem"), "-serial")).not.toBe(serialBefore);
    const calls = await takeStubCalls(rig);
    expect(fsCliCalls(calls)).toEqual([ASK_VERSION, RELOADCERT]);
    expect(drained(calls)).toBe(false);
    expect(run.output).toContain("certificate loaded with reloadcert, no profile restarted");
  });

  it("installs nothing when lego's certificate does not match its key: the running certificate stays, FreeSWITCH is not touched", async () => {
    const before = snapshot(root);
    // A key that is not the certificate's: reloadcert would answer +OK and leave 5061 serving none.
    sh("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      live(root, `${HOSTNAME}.key`),
    ]);
    const run = await runRenewal(rig, root, script, { env: { FS_VERSION: "1.11.2-release" } });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain(
      `the certificate lego stored for ${HOSTNAME} does not match its key: nothing installed`,
    );
    expect(snapshot(root)).toEqual(before);
    expect((await takeStubCalls(rig)).filter((c) => c.startsWith("docker"))).toEqual([]);
  });
});
