/**
 * FreeSWITCH serves the certificate the renewal job obtains: the test stack runs with its
 * self-signed certificate, then the renewal script rendered for tls.mode acme (http-01 against
 * Debian's Pebble, test/support/acmeServer.ts) runs as deployed, writes into the running stack's
 * tls directory and loads it through fs_cli in the real FreeSWITCH container (the `docker`
 * stand-in only swaps the host's container name for this run's). The stack is rendered as for an
 * image of the operator's (freeswitch.image), so the job asks FreeSWITCH its version and does what
 * that version can: FREESWITCH_IMAGE decides which path this run shows.
 *
 * Before the renewal a phone on SIP over TLS (test/support/tlsPhone.ts) is registered and has a
 * call up through the carrier stand-in. On 1.11.2 or later (reloadcert): afterwards the call is
 * still up and hangs up normally, the registration is the same one (not renewed) on the same TLS
 * connection, and a new TLS connection is served the new certificate (its serial is agent.pem's).
 * Before 1.11.2: the job says it restarts the TLS profiles, drained (bound 5 s here), the phone's
 * connection goes with the restart, and a new connection is served the new certificate.
 *
 * Needs Debian's pebble and lego besides the suite's own needs (.ci/acme-setup.sh); skipped with
 * one line where they are not installed.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { renderBundle } from "../../sip/bundle";
import { RELOADCERT_SINCE } from "../../sip/reload";
import { ACME_PATHS, TLS_HOST_DIR } from "../../sip/hostLayout";
import {
  PEBBLE_DIRECTORY,
  runRenewal,
  startPebble,
  stopPebble,
  takeStubCalls,
  writeHostFiles,
  type AcmeRig,
} from "../support/acmeServer";
import { sh } from "../support/exec";
import { netnsExec, TEST_NETWORK } from "../support/namespaces";
import { loadTestStack } from "../support/freeswitchTestStack";
import { containerLogs, startStack, stopStack, waitForApiEsl, type RunningStack } from "../support/freeswitchStack";
import { callCount, fsCli, sofiaStatus } from "../support/freeswitchCli";
import { startAnsweringCarrier, type SippProcess } from "../support/sipp";
import { startTlsPhone, type RunningTlsPhone, type TlsPhoneLine } from "../support/tlsPhone";
import { waitFor } from "../support/waitFor";

const HOSTNAME = "sip.example.com";
const installed = (p: string) =>
  spawnSync("dpkg-query", ["-W", "--showformat=${Status}", p], { encoding: "utf8" }).stdout?.includes("ok installed");
const missing = ["pebble", "lego"].filter((p) => !installed(p));
if (missing.length)
  console.log(
    `[acmeCertificate] skipped: Debian package(s) ${missing.join(", ")} not installed (bash .ci/acme-setup.sh)`,
  );

/** `docker` on the host, with this run's FreeSWITCH container in place of the host's. */
const forwardingDocker = (docker: string) =>
  [
    "#!/bin/sh",
    'echo "docker $*" >> "$STUB_LOG"',
    'for a; do shift; [ "$a" = telephony-freeswitch ] && a="$FS_CONTAINER"; set -- "$@" "$a"; done',
    `exec ${docker} "$@"`,
    "",
  ].join("\n");

/** A Sofia profile restart among the stand-in's calls (a drain's `show calls count` is not one). */
const isRestart = (call: string) => /^docker exec \S+ fs_cli -x sofia profile \S+ restart$/.test(call);

/** What 5061 presents to a new connection from a phone, over IPv4 (the internal-ipv4 profile) or IPv6 (internal). */
const peerCertificate = async (stack: RunningStack, host: string = TEST_NETWORK.server.ipv4) =>
  netnsExec(stack.netns.phone, [
    "bash",
    "-c",
    `openssl s_client -connect ${host}:5061 </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -serial -ext subjectAltName`,
  ]);

/** openssl's serial=<HEX> of a PEM file (the first certificate: agent.pem's own). */
const fileSerial = (path: string) =>
  /serial=([0-9A-F]+)/.exec(sh("openssl", ["x509", "-in", path, "-noout", "-serial"]))?.[1];
const servedSerial = (out: string) => /serial=([0-9A-F]+)/.exec(out)?.[1];

/** `version short` is "<major>.<minor>.<micro>"; true from RELOADCERT_SINCE on. */
const atLeast = (version: string, since: string) => {
  const [a, b] = [version, since].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
};

/** The phone's registration as FreeSWITCH lists it (show registrations: user,realm,token,url,expires,ip,port,...). */
const registrationOf = async (stack: RunningStack, user: string) =>
  (await fsCli(stack, "show registrations"))
    .split("\n")
    .filter((l) => l.startsWith(`${user},`))
    .join("\n");

const is =
  <E extends TlsPhoneLine["event"]>(event: E) =>
  (l: TlsPhoneLine): l is Extract<TlsPhoneLine, { event: E }> =>
    l.event === event;

describe.skipIf(missing.length > 0)("a certificate from the ACME renewal job, served by FreeSWITCH", () => {
  let stack: RunningStack;
  let rig: AcmeRig;
  let carrier: SippProcess;
  let phone: RunningTlsPhone | undefined;

  beforeAll(async () => {
    stack = await startStack();
    rig = await startPebble(HOSTNAME);
    // The Plusnet stand-in answers the phone's call (and OPTIONS pings: -aa) until stopped.
    carrier = startAnsweringCarrier(stack);
    await waitForApiEsl(stack);
    await waitFor("the Plusnet gateway", 30_000, async () =>
      (await sofiaStatus(stack)).some((r) => r.name === "external-ipv4::plusnet"),
    );
  });
  afterAll(async () => {
    phone?.stop();
    await carrier?.stop();
    await stopPebble(rig);
    await stopStack(stack);
  });

  it("loads the Pebble-issued certificate as the reported version can: reloadcert keeps the TLS phone's call, registration and connection; else the drained restart", async () => {
    // A release build's micro version carries its tag: "1.10.12-release".
    const version = /^(\d+\.\d+\.\d+)(?:[-~+]\S*)?$/.exec((await fsCli(stack, "version short")).trim())?.[1] ?? "";
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const reloadcert = atLeast(version, RELOADCERT_SINCE);
    console.log(
      `[acmeCertificate] FreeSWITCH ${version}: ${reloadcert ? "reloadcert" : "drained profile restart"} expected`,
    );
    expect(await peerCertificate(stack)).toMatch(/subject=CN ?= ?192\.0\.2\.10/);

    // A phone on TLS (internal-ipv4, 5061), registered, with a call up to an outside number.
    phone = startTlsPhone(stack.netns.phone, {
      host: TEST_NETWORK.server.ipv4,
      port: 5061,
      bind: TEST_NETWORK.phone.ipv4,
      domain: "sip.example.com",
      user: "100",
      password: stack.extensionPasswords["100"],
      callee: "+4930123456",
    });
    const connected = await phone.waitFor("the TLS phone to connect", is("connected"));
    expect((await phone.waitFor("the TLS phone to register", is("registered"))).status).toBe(200);
    expect((await phone.waitFor("the TLS phone's call to be answered", is("answered"), 30_000)).status).toBe(200);
    await waitFor("the call to be up", 20_000, async () => (await callCount(stack)) === 1);
    const registrationBefore = await registrationOf(stack, "100");
    expect(registrationBefore).toContain(`${TEST_NETWORK.phone.ipv4},${connected.localPort}`);

    const { model } = loadTestStack((raw) => {
      raw.host.hostname = HOSTNAME;
      raw.host.hostnameOwnedBy = ["fstest"];
      raw.tls = { mode: "acme", challenge: "http-01", email: "ops@example.org", acmeServer: PEBBLE_DIRECTORY };
      // As for an image of the operator's: the job asks the running FreeSWITCH its version.
      raw.freeswitch = { ...raw.freeswitch, image: `sha256:${"ab".repeat(32)}` };
      // Where the restart is the way, the call is not waited for long.
      raw.maintenance = { drainSeconds: 5 };
    });
    const acmeFiles = renderBundle(model, TEST_NETWORK.server, stack.secrets).filter((f) => f.reload.kind === "acme");
    await writeHostFiles(stack.root, acmeFiles);
    const docker = sh("sh", ["-c", "command -v docker"]).trim();
    const run = await runRenewal(rig, stack.root, ACME_PATHS.script, {
      docker: forwardingDocker(docker),
      env: { FS_CONTAINER: stack.containers.freeswitch },
    });
    expect(run.code, run.output + rig.output()).toBe(0);
    expect(run.output).toContain("certificate installed");
    const calls = await takeStubCalls(rig);
    const newSerial = fileSerial(join(stack.root, TLS_HOST_DIR, "agent.pem"));
    expect(newSerial).toBeDefined();
    expect(newSerial).not.toBe(connected.serial.toUpperCase());

    if (reloadcert) {
      expect(run.output).toContain(
        `FreeSWITCH ${version} has reloadcert (${RELOADCERT_SINCE} or later): no profile restart`,
      );
      expect(run.output).toContain("certificate loaded with reloadcert, no profile restarted");
      expect(calls.filter(isRestart)).toEqual([]);
      // A new connection gets the new certificate (Sofia reloads it for the listener, in its own time).
      const served = await waitFor("5061 to serve the renewed certificate to a new connection", 30_000, async () => {
        const out = await peerCertificate(stack);
        return servedSerial(out) === newSerial ? out : undefined;
      });
      expect(served).toContain(`DNS:${HOSTNAME}`);
      // The phone's connection is the one it opened, its registration the one it made (same
      // expiry: no re-REGISTER), and its call is still up and ends with its own BYE.
      phone.send("check");
      const alive = await phone.waitFor("the TLS phone to report its connection", is("alive"));
      expect(alive).toEqual({ event: "alive", localPort: connected.localPort, open: true });
      expect(
        phone.lines.filter((l) => l.event === "closed" || l.event === "bye-received" || l.event === "registered"),
      ).toEqual([{ event: "registered", status: 200 }]);
      expect(await registrationOf(stack, "100")).toBe(registrationBefore);
      expect(await callCount(stack)).toBe(1);
      phone.send("hangup");
      expect((await phone.waitFor("the TLS phone's BYE to be answered", is("hung-up"))).status).toBe(200);
    } else {
      expect(run.output).toContain(
        `FreeSWITCH ${version} has no reloadcert that reaches Sofia (${RELOADCERT_SINCE} or later): restarting internal, internal-ipv4, drained`,
      );
      expect(run.output).toContain("TLS profiles internal, internal-ipv4 restarted (drained) to load the certificate");
      expect([...new Set(calls.filter(isRestart))]).toEqual([
        "docker exec telephony-freeswitch fs_cli -x sofia profile internal restart",
        "docker exec telephony-freeswitch fs_cli -x sofia profile internal-ipv4 restart",
      ]);
      // The drain waited its 5 s for the call, then the restart took the phone's connection with it.
      await phone.waitFor("the TLS phone's connection to go with the restart", is("closed"), 60_000);
    }
    // Each profile serves the new certificate to new connections, IPv4 and IPv6.
    for (const host of [TEST_NETWORK.server.ipv4, `[${TEST_NETWORK.server.ipv6}]`]) {
      const served = await waitFor(`${host}:5061 to serve the Pebble-issued certificate`, 60_000, async () => {
        const out = await peerCertificate(stack, host);
        if (servedSerial(out) !== newSerial) throw new Error(`${host}:5061 serves: ${out.trim() || "nothing"}`);
        return out;
      }).catch(async (error) => {
        throw new Error(`${(error as Error).message}\n${await containerLogs(stack, 40)}`);
      });
      expect(served, host).toMatch(/Pebble Intermediate CA/);
    }
  });
});
