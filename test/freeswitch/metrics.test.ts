/**
 * /metrics against the real FreeSWITCH: the config API, in its container beside FreeSWITCH, reads
 * FreeSWITCH over ESL and serves the test trunks' real states: the REGISTER trunk (oneandone)
 * REGED and the IP-auth trunk (plusnet) pinged UP; a registered phone; a call refused by the
 * phone counted as a call and a failed call; then both trunks failing (the registrar refusing the
 * password, the OPTIONS peer answering 503) as FAIL_WAIT-or-FAILED and DOWN.
 *
 * With RECORD_FREESWITCH_FIXTURES=1 it also writes the replies FreeSWITCH gave to the commands
 * api/metrics.ts sends into test/fixtures/freeswitch/ (the unit tests' inputs), each state as met.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_API_PORT, METRICS_PORT } from "../../sip/hostLayout";
import { PROJECT_DIR } from "../support/environment";
import { recordEslEvents, type EventRecording } from "../support/eslEvents";
import { fsCli, gatewayState } from "../support/freeswitchCli";
import { netnsExec, TEST_NETWORK } from "../support/namespaces";
import { startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { TRUNK_PASSWORDS } from "../support/freeswitchTestStack";
import { sample } from "../support/prometheusText";
import { sendRequest, startPeer, type RunningPeer } from "../support/sipPeers";
import { waitFor } from "../support/waitFor";

const FIXTURES = join(PROJECT_DIR, "test", "fixtures", "freeswitch");
const RECORD = process.env.RECORD_FREESWITCH_FIXTURES === "1";
const DOMAIN = "sip.example.net";
const SERVER4 = `${TEST_NETWORK.server.ipv4}:5060`;
const INTERNAL4 = `${TEST_NETWORK.server.ipv4}:5080`;

/** The commands api/metrics.ts sends, by fixture file stem. */
const COMMANDS = (profiles: readonly string[]): Record<string, string> => ({
  status: "status",
  "show-calls-count": "show calls count",
  "sofia-xmlstatus": "sofia xmlstatus",
  "sofia-xmlstatus-gateway": "sofia xmlstatus gateway",
  ...Object.fromEntries(profiles.map((p) => [`sofia-xmlstatus-profile-${p}`, `sofia xmlstatus profile ${p}`])),
});

async function record(stack: RunningStack, state: string): Promise<void> {
  if (!RECORD) return;
  const dir = join(FIXTURES, state);
  mkdirSync(dir, { recursive: true });
  for (const [stem, command] of Object.entries(COMMANDS(stack.loaded.model.profiles.map((p) => p.name)))) {
    writeFileSync(join(dir, `${stem}.txt`), await fsCli(stack, command));
  }
}

/** GET /metrics on the server's loopback, as a Prometheus on the host (or through a tunnel) would. */
async function scrape(stack: RunningStack): Promise<string> {
  return netnsExec(stack.netns.server, ["curl", "-fsS", `http://127.0.0.1:${CONFIG_API_PORT}/metrics`]);
}

describe("/metrics on the real FreeSWITCH", () => {
  let stack: RunningStack;
  let registrar: RunningPeer;
  let plusnet: RunningPeer;
  let phone: RunningPeer;
  let gatewayEvents: EventRecording;
  const peers: RunningPeer[] = [];
  const gw = (name: string) => {
    const trunk = stack.trunks.find((t) => t.name === name)!;
    return { name, profile: trunk.profile };
  };
  /** The gateway's labels as FreeSWITCH reports its proxy (read from the scrape, then checked). */
  const gatewayLabels = (text: string, name: string) => {
    const line = text
      .split("\n")
      .find((l) => l.startsWith("freeswitch_sofia_gateway_state{") && l.includes(`name="${name}"`));
    const proxy = /proxy="([^"]*)"/.exec(line ?? "")?.[1];
    expect(proxy, `a freeswitch_sofia_gateway_state series for ${name}`).toBeDefined();
    return { ...gw(name), proxy: proxy! };
  };

  beforeAll(async () => {
    stack = await startStack({
      mutate: (c) => {
        c.freeswitch.domain = DOMAIN;
        c.trunks.plusnet.pingSeconds = 5;
      },
    });
    // Sofia's gateway state events from here on (the alerts' input), recorded as sent.
    gatewayEvents = await recordEslEvents(stack, ["CUSTOM", "sofia::gateway_state"]);
    registrar = await startPeer(stack, "oneandone", {
      bind: TEST_NETWORK.oneandone.ipv6,
      port: 5060,
      registrar: { realm: "sip.1und1.de", user: "493455664337", password: TRUNK_PASSWORDS.oneandone },
    });
    plusnet = await startPeer(stack, "plusnet", { bind: TEST_NETWORK.plusnet.ipv4, port: 5060, options: 200 });
    peers.push(registrar, plusnet);
    await fsCli(stack, "sofia profile internal register oneandone");
  });
  afterAll(async () => {
    gatewayEvents?.stop();
    for (const p of peers) p.stop();
    await stopStack(stack);
  });

  it("sees the REGISTER trunk REGED and the IP-auth trunk UP, both profiles running, ESL connected", async () => {
    await waitFor("oneandone REGED", 30_000, async () => (await gatewayState(stack, "oneandone")) === "REGED");
    await waitFor("plusnet pinged UP", 30_000, async () => {
      const xml = await fsCli(stack, "sofia xmlstatus gateway plusnet");
      return /<status>UP<\/status>/.test(xml) && !/<pingcount>0<\/pingcount>/.test(xml);
    });
    await record(stack, "up");
    const text = await scrape(stack);

    expect(sample(text, "freeswitch_up")).toBe(1);
    expect(sample(text, "freeswitch_config_api_esl_state", { state: "connected" })).toBe(1);
    for (const p of stack.loaded.model.profiles)
      expect(sample(text, "freeswitch_sofia_profile_up", { profile: p.name }), p.name).toBe(1);

    const oneandone = gatewayLabels(text, "oneandone");
    expect(oneandone.proxy).toContain("sip.1und1.de");
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...oneandone, state: "REGED" })).toBe(1);
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...oneandone, state: "FAIL_WAIT" })).toBe(0);

    const plus = gatewayLabels(text, "plusnet");
    expect(sample(text, "freeswitch_sofia_gateway_status", plus)).toBe(1);
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...plus, state: "NOREG" })).toBe(1);
    expect(sample(text, "freeswitch_sofia_gateway_ping_seconds", plus)).toBeGreaterThanOrEqual(0);
    // oneandone does not ping: no ping status for it.
    expect(sample(text, "freeswitch_sofia_gateway_status", oneandone)).toBeUndefined();

    expect(sample(text, "freeswitch_current_calls")).toBe(0);
    expect(sample(text, "freeswitch_uptime_seconds")).toBeGreaterThan(0);
    // The scrape itself and the deploy's PUTs are counted.
    expect(
      sample(text, "freeswitch_config_api_http_requests_total", {
        method: "PUT",
        route: "/api/v1/sip/trunks",
        status: "200",
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("serves /metrics, and only that, on the server's public addresses at 9282 (UFW and the cloud firewall, absent here, admit the admin ranges)", async () => {
    for (const host of [TEST_NETWORK.server.ipv4, `[${TEST_NETWORK.server.ipv6}]`]) {
      const text = await netnsExec(stack.netns.stranger, ["curl", "-fsS", `http://${host}:${METRICS_PORT}/metrics`]);
      expect(sample(text, "freeswitch_up"), host).toBe(1);
      const other = await netnsExec(stack.netns.stranger, [
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `http://${host}:${METRICS_PORT}/readyz`,
      ]);
      expect(other, host).toBe("404");
    }
    // The API itself stays on loopback.
    const refused = await netnsExec(stack.netns.stranger, [
      "curl",
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://${TEST_NETWORK.server.ipv4}:${CONFIG_API_PORT}/readyz`,
    ]).catch((e: Error) => e.message);
    expect(refused).not.toBe("200");
  });

  it("counts a registered phone, and a call the phone refuses as a call and a failed call", async () => {
    phone = await startPeer(stack, "phone", {
      bind: TEST_NETWORK.phone.ipv4,
      port: 5070,
      invite: 486,
      register: { server: INTERNAL4, domain: DOMAIN, user: "100", password: stack.extensionPasswords["100"] },
    });
    peers.push(phone);
    const before = await scrape(stack);
    // The phone registers over IPv4, so to the internal profile's IPv4 twin.
    expect(sample(before, "freeswitch_sofia_profile_registrations", { profile: "internal-ipv4" })).toBe(1);
    const callsIn =
      sample(before, "freeswitch_sofia_profile_calls_total", { profile: "external-ipv4", direction: "inbound" }) ?? 0;
    const failedIn =
      sample(before, "freeswitch_sofia_profile_failed_calls_total", {
        profile: "external-ipv4",
        direction: "inbound",
      }) ?? 0;
    const sessions = sample(before, "freeswitch_sessions_total") ?? 0;

    const r = await sendRequest(stack, "plusnet", TEST_NETWORK.plusnet.ipv4, {
      method: "INVITE",
      server: SERVER4,
      uri: `sip:+493455667290@${TEST_NETWORK.server.ipv4}`,
      from: "sip:+4930111@carrier.example",
      to: `sip:+493455667290@${TEST_NETWORK.server.ipv4}`,
    });
    expect(r.status).toBe(486);
    await waitFor("no call left", 10_000, async () => /^0 total\./m.test(await fsCli(stack, "show calls count")));
    await record(stack, "after-call");

    const after = await scrape(stack);
    expect(
      sample(after, "freeswitch_sofia_profile_calls_total", { profile: "external-ipv4", direction: "inbound" }),
    ).toBe(callsIn + 1);
    expect(
      sample(after, "freeswitch_sofia_profile_failed_calls_total", { profile: "external-ipv4", direction: "inbound" }),
    ).toBe(failedIn + 1);
    // The carrier's leg and the phone's leg.
    expect(sample(after, "freeswitch_sessions_total")).toBeGreaterThanOrEqual(sessions + 2);
  });

  it("sees the REGISTER trunk fail (the registrar refuses the password) and the IP-auth trunk DOWN (503 to OPTIONS)", async () => {
    registrar.stop();
    plusnet.stop();
    registrar = await startPeer(stack, "oneandone", {
      bind: TEST_NETWORK.oneandone.ipv6,
      port: 5060,
      registrar: { realm: "sip.1und1.de", user: "493455664337", password: "not-the-deployed-password" },
    });
    plusnet = await startPeer(stack, "plusnet", { bind: TEST_NETWORK.plusnet.ipv4, port: 5060, options: 503 });
    peers.push(registrar, plusnet);
    await fsCli(stack, "sofia profile internal register oneandone");
    await waitFor("oneandone failing", 60_000, async () =>
      /^(FAILED|FAIL_WAIT)/.test((await gatewayState(stack, "oneandone")) ?? ""),
    );
    await waitFor("plusnet DOWN", 60_000, async () =>
      /<status>DOWN<\/status>/.test(await fsCli(stack, "sofia xmlstatus gateway plusnet")),
    );
    await record(stack, "down");

    const text = await scrape(stack);
    const oneandone = gatewayLabels(text, "oneandone");
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...oneandone, state: "REGED" })).toBe(0);
    expect(
      (sample(text, "freeswitch_sofia_gateway_state", { ...oneandone, state: "FAIL_WAIT" }) ?? 0) +
        (sample(text, "freeswitch_sofia_gateway_state", { ...oneandone, state: "FAILED" }) ?? 0),
    ).toBe(1);
    expect(sample(text, "freeswitch_sofia_gateway_status", gatewayLabels(text, "plusnet"))).toBe(0);
  });

  it("fires sofia::gateway_state events for both trunks failing and coming back (recorded for the alert tests)", async () => {
    registrar.stop();
    plusnet.stop();
    registrar = await startPeer(stack, "oneandone", {
      bind: TEST_NETWORK.oneandone.ipv6,
      port: 5060,
      registrar: { realm: "sip.1und1.de", user: "493455664337", password: TRUNK_PASSWORDS.oneandone },
    });
    plusnet = await startPeer(stack, "plusnet", { bind: TEST_NETWORK.plusnet.ipv4, port: 5060, options: 200 });
    peers.push(registrar, plusnet);
    await fsCli(stack, "sofia profile internal register oneandone");
    await waitFor("oneandone REGED again", 60_000, async () => (await gatewayState(stack, "oneandone")) === "REGED");
    await waitFor("plusnet UP again", 60_000, async () =>
      /<status>UP<\/status>/.test(await fsCli(stack, "sofia xmlstatus gateway plusnet")),
    );
    await waitFor(
      "both comebacks announced",
      10_000,
      async () => gatewayEvents.bodies.filter((b) => /Ping-Status: UP/.test(b)).length >= 2,
    );

    const events = gatewayEvents.bodies.map((b) =>
      Object.fromEntries(
        b
          .split("\n")
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf(":")), decodeURIComponent(l.slice(l.indexOf(":") + 1).trim())]),
      ),
    );
    const of = (name: string) => events.filter((e) => e.Gateway === name);
    const failed = of("oneandone").findIndex((e) => e.State === "FAIL_WAIT" || e.State === "FAILED");
    expect(failed, JSON.stringify(events)).toBeGreaterThanOrEqual(0);
    expect(
      of("oneandone")
        .slice(failed)
        .some((e) => e.State === "REGED"),
      JSON.stringify(events),
    ).toBe(true);
    const down = of("plusnet").findIndex((e) => e["Ping-Status"] === "DOWN");
    expect(down, JSON.stringify(events)).toBeGreaterThanOrEqual(0);
    expect(
      of("plusnet")
        .slice(down)
        .some((e) => e["Ping-Status"] === "UP"),
      JSON.stringify(events),
    ).toBe(true);
    if (RECORD) {
      mkdirSync(join(FIXTURES, "events"), { recursive: true });
      writeFileSync(
        join(FIXTURES, "events", "sofia-gateway-state.jsonl"),
        gatewayEvents.bodies.map((b) => JSON.stringify(b)).join("\n") + "\n",
      );
    }
  });
});
