/**
 * FreeSWITCH serves the certificate the renewal job obtains: the test stack runs with its
 * self-signed certificate, then the renewal script rendered for tls.mode acme (http-01 against
 * Debian's Pebble, test/support/acmeServer.ts) runs as deployed, writes into the running stack's
 * tls directory and restarts the TLS profiles through fs_cli in the real FreeSWITCH container
 * (the `docker` stand-in only swaps the host's container name for this run's). A TLS client on a
 * phone's address then gets the Pebble-issued certificate on 5061.
 *
 * Needs Debian's pebble and lego besides the suite's own needs (.ci/acme-setup.sh); skipped with
 * one line where they are not installed.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBundle } from "../../sip/bundle";
import { ACME_PATHS } from "../../sip/render/tls";
import { PEBBLE_DIRECTORY, runRenewal, startPebble, stopPebble, takeStubCalls, writeHostFiles, type AcmeRig } from "../support/acmeServer";
import { sh } from "../support/exec";
import { ADDR } from "../support/freeswitchNetwork";
import { loadTestStack } from "../support/freeswitchTestStack";
import { containerLogs, startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { netnsExec } from "../support/namespaces";
import { waitFor } from "../support/waitFor";

const HOSTNAME = "sip.example.com";
const installed = (p: string) => spawnSync("dpkg-query", ["-W", "--showformat=${Status}", p], { encoding: "utf8" }).stdout?.includes("ok installed");
const missing = ["pebble", "lego"].filter((p) => !installed(p));
if (missing.length) console.log(`[acmeCertificate] skipped: Debian package(s) ${missing.join(", ")} not installed (bash .ci/acme-setup.sh)`);

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

/** What 5061 presents to a phone, over IPv4 (the internal-ipv4 profile) or IPv6 (internal). */
const peerCertificate = async (stack: RunningStack, host: string = ADDR.server.ipv4) =>
  netnsExec(stack.netns.phone, ["bash", "-c", `openssl s_client -connect ${host}:5061 </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -ext subjectAltName`]);

describe.skipIf(missing.length > 0)("a certificate from the ACME renewal job, served by FreeSWITCH", () => {
  let stack: RunningStack;
  let rig: AcmeRig;

  beforeAll(async () => {
    stack = await startStack();
    rig = await startPebble(HOSTNAME);
  });
  afterAll(async () => {
    await stopPebble(rig);
    await stopStack(stack);
  });

  it("replaces the self-signed certificate on 5061 (IPv4 and IPv6) with the Pebble-issued one after the TLS profiles restart", async () => {
    expect(await peerCertificate(stack)).toMatch(/subject=CN ?= ?192\.0\.2\.10/);
    const { model } = loadTestStack((raw) => {
      raw.host.hostname = HOSTNAME;
      raw.host.hostnameOwnedBy = ["fstest"];
      raw.tls = { mode: "acme", challenge: "http-01", email: "ops@example.org", acmeServer: PEBBLE_DIRECTORY };
    });
    const acmeFiles = renderBundle(model, ADDR.server, stack.secrets).filter((f) => f.reload.kind === "acme");
    await writeHostFiles(stack.root, acmeFiles);
    const docker = sh("sh", ["-c", "command -v docker"]).trim();
    // No wait for FreeSWITCH to have been up 10 s: Sofia refuses a restart before that (fs_cli still
    // exits 0), and the rendered restart asks again until Sofia takes it.
    const run = await runRenewal(rig, stack.root, ACME_PATHS.script, { docker: forwardingDocker(docker), env: { FS_CONTAINER: stack.containers.freeswitch } });
    expect(run.code, run.output + rig.output()).toBe(0);
    expect(run.output).toContain("certificate installed");
    expect(run.output).not.toMatch(/must be up for at least/);
    expect([...new Set((await takeStubCalls(rig)).filter(isRestart))]).toEqual([
      "docker exec telephony-freeswitch fs_cli -x sofia profile internal restart",
      "docker exec telephony-freeswitch fs_cli -x sofia profile internal-ipv4 restart",
    ]);
    // Each profile comes back in its own time: wait for both listeners.
    for (const host of [ADDR.server.ipv4, `[${ADDR.server.ipv6}]`]) {
      const served = await waitFor(`${host}:5061 to serve the Pebble-issued certificate`, 60_000, async () => {
        const out = await peerCertificate(stack, host);
        if (!/Pebble Intermediate CA/.test(out)) throw new Error(`${host}:5061 serves: ${out.trim() || "nothing"}`);
        return out;
      }).catch(async (error) => {
        throw new Error(`${(error as Error).message}\n${await containerLogs(stack, 40)}`);
      });
      expect(served, host).toContain(`DNS:${HOSTNAME}`);
    }
  });
});
