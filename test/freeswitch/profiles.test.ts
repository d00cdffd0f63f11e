/**
 * Must show 1: the test stack's rendered tree, deployed read-only into the project's FreeSWITCH
 * image, brings every profile up with TLS on, listening for SIP-TLS and WSS on IPv6 and IPv4, and
 * FreeSWITCH logs no error and no deprecation warning while starting.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../support/exec";
import { fsCli, sofiaStatus } from "../support/freeswitchCli";
import { netnsExec, TEST_NETWORK } from "../support/namespaces";
import { hostPath, readFreeswitchLog } from "../support/deployCommands";
import { startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { HOST_PATHS } from "../../sip/hostLayout";
import { MODULES } from "../../sip/render/core";
import { existsSync } from "node:fs";

describe("the rendered tree in the project's FreeSWITCH image", () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stopStack(stack);
  });

  it("runs every profile of the stack, the IPv4 twin of the dual profile included, with TLS where configured", async () => {
    const status = await sofiaStatus(stack);
    const profiles = stack.loaded.model.profiles.map((p) => p.name);
    expect(profiles).toEqual(["external-ipv4", "internal", "internal-ipv4"]);
    const rows = (name: string) =>
      status.filter((r) => r.type === "profile" && r.name === name).map((r) => `${r.data} ${r.state}`);
    expect(rows("external-ipv4")).toEqual(["sip:mod_sofia@192.0.2.10:5060 RUNNING (0)"]);
    expect(rows("internal")).toEqual([
      "sip:mod_sofia@[2001:db8:10::1]:5060 RUNNING (0)",
      "sip:mod_sofia@[2001:db8:10::1]:5061 RUNNING (0) (TLS)",
    ]);
    expect(rows("internal-ipv4")).toEqual([
      "sip:mod_sofia@192.0.2.10:5080 RUNNING (0)",
      "sip:mod_sofia@192.0.2.10:5061 RUNNING (0) (TLS)",
    ]);
  });

  it("mounts the configuration read-only and leaves it untouched", async () => {
    const mounts = JSON.parse(await docker("inspect", "-f", "{{json .Mounts}}", stack.containers.freeswitch)) as {
      Destination: string;
      RW: boolean;
    }[];
    expect(mounts.find((m) => m.Destination === "/etc/freeswitch")?.RW).toBe(false);
    // Sofia writes tls.pem into the tree when cafile.pem is missing: it must never need to.
    expect(existsSync(hostPath(stack, `${HOST_PATHS.freeswitchConf}/tls/tls.pem`))).toBe(false);
  });

  it("has TLS and WSS on for the dual profile and its IPv4 twin", async () => {
    for (const [profile, address] of [
      ["internal", `[${TEST_NETWORK.server.ipv6}]`],
      ["internal-ipv4", TEST_NETWORK.server.ipv4],
    ] as const) {
      const out = await fsCli(stack, `sofia status profile ${profile}`);
      expect(out, profile).toMatch(new RegExp(`TLS-BIND-URL\\s+\\S*${address.replace(/[[\].]/g, "\\$&")}:5061`));
      expect(out, profile).toMatch(/WSS-BIND-URL\s+\S+:7443/);
    }
  });

  for (const family of ["ipv4", "ipv6"] as const) {
    for (const port of [5061, 7443]) {
      it(`completes a TLS handshake on ${port} over ${family} from a phone's address`, async () => {
        const host = family === "ipv4" ? TEST_NETWORK.server.ipv4 : `[${TEST_NETWORK.server.ipv6}]`;
        const out = await netnsExec(stack.netns.phone, [
          "bash",
          "-c",
          `openssl s_client -connect ${host}:${port} -brief </dev/null 2>&1 || true`,
        ]);
        expect(out).toMatch(/CONNECTION ESTABLISHED/);
        expect(out).toMatch(/Peer certificate: CN ?= ?192\.0\.2\.10/);
      });
    }
  }

  it("listens for SIP over UDP on each profile's own address and port", async () => {
    const out = await netnsExec(stack.netns.server, ["ss", "-uln"]);
    expect(out).toContain(`${TEST_NETWORK.server.ipv4}:5060`);
    expect(out).toContain(`${TEST_NETWORK.server.ipv4}:5080`);
    expect(out).toContain(`[${TEST_NETWORK.server.ipv6}]:5060`);
  });

  it("loads every module of the stack and logs no error and no deprecation warning while starting", async () => {
    const log = await readFreeswitchLog(stack);
    expect(log).toMatch(/FreeSWITCH Started/);
    // mod_console and mod_logfile load before the log file exists.
    for (const module of MODULES.filter((m) => !["mod_console", "mod_logfile"].includes(m)))
      expect(log).toContain(`Successfully Loaded [${module}]`);
    const bad = log
      .split("\n")
      .filter((l) => /\[(ERR|CRIT|ALERT)\]/.test(l) || /deprecat/i.test(l))
      // A trunk's registration outcome is not start-up: the trunk tests assert it.
      .filter((l) => !/sofia_reg\.c:\d+ \S+ Failed Registration/.test(l));
    expect(bad).toEqual([]);
  });
});
