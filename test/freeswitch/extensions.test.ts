/**
 * Must show 4, 5 and 9 against the real FreeSWITCH: extensions register with their generated
 * passwords over IPv4 and IPv6, the stock 1000/1234 never works (also while the API is down), a
 * wrong password writes a log line the rendered fail2ban filter matches (fail2ban-regex on the real
 * log) and no trunk range can be banned; outside calls leave through the trunk that owns the
 * extension's caller ID (emergency numbers too), presenting it; caller-ID names arrive intact.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAIL2BAN_FILTER } from "../../sip/render/fail2ban";
import { HOST_PATHS } from "../../sip/hostLayout";
import { docker } from "../support/exec";
import { fsCli, gatewayState } from "../support/freeswitchCli";
import { TEST_NETWORK } from "../support/namespaces";
import { hostPath, readFreeswitchLog } from "../support/deployCommands";
import { startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { TRUNK_PASSWORDS } from "../support/freeswitchTestStack";
import { waitFor } from "../support/waitFor";
import { displayName, sendRequest, startPeer, uriUser, type RunningPeer } from "../support/sipPeers";
import type { LoggedRequest } from "../support/sipPeer";

const DOMAIN = "sip.example.net";
const INTERNAL4 = `${TEST_NETWORK.server.ipv4}:5080`;
const INTERNAL6 = `[${TEST_NETWORK.server.ipv6}]:5060`;
/** A name with everything Sofia used to cut or mangle: '/', quotes, non-ASCII letters, ':' and '@'. */
const NAME = 'Empfang / IVR "Zoë" Müller: 1@2';
/** Debian's fail2ban runs on the system Python, not whatever python3 comes first on PATH. */
const SYSTEM_PYTHON = "/usr/bin/python3";

/** The numbers an INVITE presents: From, P-Asserted-Identity and Remote-Party-ID users. */
function presented(invite: LoggedRequest): string[] {
  return ["from", "p-asserted-identity", "remote-party-id"].flatMap((h) =>
    (invite.headers[h] ?? []).map((v) => uriUser(v) ?? ""),
  );
}

describe("extensions on the real FreeSWITCH", () => {
  let stack: RunningStack;
  let plusnet: RunningPeer;
  let oneandone: RunningPeer;
  const peers: RunningPeer[] = [];

  const register = (user: string, password: string, family: "ipv4" | "ipv6") =>
    sendRequest(stack, "phone", TEST_NETWORK.phone[family], {
      method: "REGISTER",
      server: family === "ipv4" ? INTERNAL4 : INTERNAL6,
      uri: `sip:${DOMAIN}`,
      from: `sip:${user}@${DOMAIN}`,
      to: `sip:${user}@${DOMAIN}`,
      user,
      password,
    });
  const call = (user: string, dialled: string) =>
    sendRequest(stack, "phone", TEST_NETWORK.phone.ipv4, {
      method: "INVITE",
      server: INTERNAL4,
      uri: `sip:${dialled}@${DOMAIN}`,
      from: `sip:${user}@${DOMAIN}`,
      to: `sip:${dialled}@${DOMAIN}`,
      user,
      password: stack.extensionPasswords[user],
    });

  beforeAll(async () => {
    stack = await startStack({
      mutate: (c) => {
        c.freeswitch.domain = DOMAIN;
        c.extensions["100"].displayName = NAME;
      },
    });
    // The carriers' stand-ins answer every call with 486, after logging it.
    plusnet = await startPeer(stack, "plusnet", { bind: TEST_NETWORK.plusnet.ipv4, port: 5060, invite: 486 });
    oneandone = await startPeer(stack, "oneandone", {
      bind: TEST_NETWORK.oneandone.ipv6,
      port: 5060,
      invite: 486,
      registrar: { realm: "sip.1und1.de", user: "493455664337", password: TRUNK_PASSWORDS.oneandone },
    });
    peers.push(plusnet, oneandone);
    // Calls through a REGISTER trunk need it registered (else "Gateway is down", 503).
    await fsCli(stack, "sofia profile internal register oneandone");
    await waitFor("oneandone REGED", 30_000, async () =>
      (await gatewayState(stack, "oneandone")) === "REGED" ? true : undefined,
    );
  });
  afterAll(async () => {
    for (const p of peers) p.stop();
    await stopStack(stack);
  });

  describe("Must show 4: registration, stock users, fail2ban", () => {
    it("registers an extension with its generated password over IPv4 and over IPv6", async () => {
      expect((await register("100", stack.extensionPasswords["100"], "ipv4")).status).toBe(200);
      expect((await register("100", stack.extensionPasswords["100"], "ipv6")).status).toBe(200);
    });

    it("refuses the stock user 1000/1234", async () => {
      expect((await register("1000", "1234", "ipv4")).status).toBe(403);
      expect((await register("1000", "1234", "ipv6")).status).toBe(403);
    });

    it("refuses 1000/1234 also while the config API is down (the static directory is empty)", async () => {
      await docker("stop", "-t", "5", stack.containers.api);
      try {
        expect((await register("1000", "1234", "ipv4")).status).toBe(403);
      } finally {
        await docker("start", stack.containers.api);
        await waitFor("the config API back", 60_000, async () => {
          await docker("exec", stack.containers.api, "node", "/app/healthcheck.js");
          return true;
        });
      }
    });

    it("refuses a wrong password, and the rendered fail2ban filter matches FreeSWITCH's log line for it", async () => {
      expect((await register("100", "not-the-password", "ipv4")).status).toBe(403);
      expect((await register("200", "not-the-password", "ipv6")).status).toBe(403);
      const log = await readFreeswitchLog(stack);
      const failures = log.split("\n").filter((l) => /SIP auth failure \(REGISTER\)/.test(l));
      expect(failures.some((l) => l.includes(`from ip ${TEST_NETWORK.phone.ipv4}`))).toBe(true);
      expect(failures.some((l) => l.includes(`from ip ${TEST_NETWORK.phone.ipv6}`))).toBe(true);
      // Every successful registration is challenged first: those lines must not count.
      expect(log).toMatch(/SIP auth challenge \(REGISTER\)/);

      const dir = mkdtempSync(join(tmpdir(), "fssip-f2b-"));
      const filter = join(dir, `${FAIL2BAN_FILTER}.conf`);
      writeFileSync(
        filter,
        stack.files.find((f) => f.path === `/etc/fail2ban/filter.d/${FAIL2BAN_FILTER}.conf`)!.content,
      );
      const logFile = hostPath(stack, HOST_PATHS.freeswitchLogFile);
      const run = spawnSync("fail2ban-regex", ["--print-all-matched", logFile, filter], { encoding: "utf8" });
      rmSync(dir, { recursive: true, force: true });
      expect(run.status, run.stderr).toBe(0);
      const cantFind = log.split("\n").filter((l) => /Can't find user \[/.test(l));
      const matched = Number(/Lines: \d+ lines, \d+ ignored, (\d+) matched/.exec(run.stdout)?.[1]);
      expect(matched).toBe(failures.length + cantFind.length);
      expect(run.stdout).toContain(`from ip ${TEST_NETWORK.phone.ipv4}`);
      expect(run.stdout).toContain(`from ip ${TEST_NETWORK.phone.ipv6}`);
      expect(run.stdout).not.toContain("SIP auth challenge");
    });

    it("never bans a trunk range: fail2ban ignores every trunk's addresses, even when they fail authentication", async () => {
      // A wrong password from the 1&1 stand-in's own address: the filter matches it...
      expect(
        (
          await sendRequest(stack, "oneandone", TEST_NETWORK.oneandone.ipv6, {
            method: "REGISTER",
            server: INTERNAL6,
            uri: `sip:${DOMAIN}`,
            from: `sip:100@${DOMAIN}`,
            to: `sip:100@${DOMAIN}`,
            user: "100",
            password: "wrong-wrong",
          })
        ).status,
      ).toBe(403);
      expect(await readFreeswitchLog(stack)).toContain(`from ip ${TEST_NETWORK.oneandone.ipv6}`);
      // ...and the jail's ignoreip, read by fail2ban's own code, ignores it (and every trunk range).
      const jail = stack.files.find((f) => f.path === `/etc/fail2ban/jail.d/${FAIL2BAN_FILTER}.conf`)!.content;
      const ignoreip = /^ignoreip = (.*)$/m.exec(jail)![1];
      const probes = [
        TEST_NETWORK.oneandone.ipv6,
        TEST_NETWORK.plusnet.ipv4,
        ...stack.loaded.model.trunks.flatMap((t) => t.sourceRanges.map((r) => r.split("/")[0])),
      ];
      const script = `from fail2ban.server.filter import Filter\nf = Filter(None)\nfor ip in ${JSON.stringify(ignoreip.split(" "))}: f.addIgnoreIP(ip)\nprint(" ".join(ip for ip in ${JSON.stringify(probes)} if not f.inIgnoreIPList(ip)) or "none")\nprint(f.inIgnoreIPList(${JSON.stringify(TEST_NETWORK.phone.ipv4)}))\n`;
      const run = spawnSync(SYSTEM_PYTHON, ["-c", script], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      expect(run.stdout.split("\n").slice(0, 2)).toEqual(["none", "False"]);
    });
  });

  describe("Must show 5: outside calls leave through the trunk owning the caller ID, presenting it", () => {
    it.each([
      ["100", "+4930123456", "plusnet", "+493455667290"],
      ["100", "110", "plusnet", "+493455667290"],
      ["200", "+4930123456", "oneandone", "+493455630488"],
      ["200", "112", "oneandone", "+493455630488"],
    ] as const)(
      "extension %s dialling %s leaves through %s presenting %s",
      async (extension, dialled, trunk, number) => {
        const carrier = trunk === "plusnet" ? plusnet : oneandone;
        const other = trunk === "plusnet" ? oneandone : plusnet;
        const before = { carrier: carrier.requests("INVITE").length, other: other.requests("INVITE").length };
        const r = await call(extension, dialled);
        expect(r.status).toBe(486);
        const invites = carrier.requests("INVITE").slice(before.carrier);
        expect(invites).toHaveLength(1);
        expect(uriUser(invites[0].uri)).toBe(dialled);
        expect(presented(invites[0]), JSON.stringify(invites[0].headers)).toContain(number);
        expect(other.requests("INVITE").length).toBe(before.other);
      },
    );
  });

  describe("Must show 9: a caller-ID name with '/', quotes and non-ASCII letters arrives intact", () => {
    it("from extension to extension", async () => {
      const phone = await startPeer(stack, "phone", {
        bind: TEST_NETWORK.phone.ipv4,
        port: 5072,
        invite: 486,
        register: { server: INTERNAL4, domain: DOMAIN, user: "200", password: stack.extensionPasswords["200"] },
      });
      peers.push(phone);
      expect((await call("100", "200")).status).toBe(486);
      const invite = await phone.waitForRequest("the INVITE for 200", (r) => r.method === "INVITE");
      expect(displayName(invite.headers.from[0])).toBe(NAME);
    });

    it("to the carrier", async () => {
      const before = plusnet.requests("INVITE").length;
      expect((await call("100", "+4930123456")).status).toBe(486);
      const invite = plusnet.requests("INVITE")[before];
      expect(displayName(invite.headers.from[0])).toBe(NAME);
    });
  });
});
