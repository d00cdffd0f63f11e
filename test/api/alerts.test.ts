/**
 * Trunk alerts from Sofia's gateway state events, replayed as FreeSWITCH 1.10.12 sent them
 * (test/fixtures/freeswitch/events/sofia-gateway-state.jsonl, recorded by
 * test/freeswitch/metrics.test.ts: 1&1 registering, refused with 403 and registering again;
 * Plusnet's pings answered 503, then 200): the debounce on its own, then the real API on loopback
 * subscribing over ESL and posting to a webhook.
 */
import { readFileSync } from "node:fs";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhookReceiver";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  gatewayStateEvent,
  gatewayStateSnapshot,
  health,
  TrunkAlerter,
  type GatewayStateEvent,
  type TrunkAlert,
} from "../../api/alerts";
import { startHarness, type Harness } from "../support/loopbackApi";
import { waitFor } from "../support/waitFor";

/** The recorded text/event-plain bodies, in the order FreeSWITCH sent them. */
const BODIES: string[] = readFileSync(
  join(__dirname, "..", "fixtures", "freeswitch", "events", "sofia-gateway-state.jsonl"),
  "utf8",
)
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as string);

/** Header lookup over a plain body, values URL-decoded as modesl does. */
const headers = (body: string) => {
  const map = new Map(
    body
      .split("\n")
      .filter((l) => l.includes(": "))
      .map((l) => [l.slice(0, l.indexOf(": ")), decodeURIComponent(l.slice(l.indexOf(": ") + 2))]),
  );
  return (name: string) => map.get(name);
};
const EVENTS: GatewayStateEvent[] = BODIES.map((b) => gatewayStateEvent(headers(b))!);
const of = (trunk: string) => EVENTS.filter((e) => e.gateway === trunk);
/** The recording's stretches: from the first failure to the comeback. */
const firstDown = EVENTS.findIndex((e) => health(e) === "down");
const lastDown = EVENTS.length - 1 - [...EVENTS].reverse().findIndex((e) => health(e) === "down");
const downEvents = EVENTS.slice(firstDown, lastDown + 1);
const upEvents = EVENTS.slice(lastDown + 1);

describe("the recorded gateway events", () => {
  it("are read with FreeSWITCH's time, state, ping status and reason", () => {
    expect(EVENTS.every(Boolean)).toBe(true);
    const failed = of("oneandone").find((e) => e.state === "FAILED")!;
    expect(failed).toMatchObject({ status: 403, phrase: "Forbidden" });
    expect(failed.at.getUTCFullYear()).toBeGreaterThan(2000);
    expect(of("plusnet").map((e) => [e.state, e.pingStatus])).toEqual([
      ["NOREG", "DOWN"],
      ["NOREG", "UP"],
    ]);
  });

  it("tell down from up per kind of trunk, and leave a registration on its way alone", () => {
    expect(of("oneandone").map((e) => [e.state, health(e)])).toContainEqual(["FAIL_WAIT", "down"]);
    expect(of("oneandone").map((e) => [e.state, health(e)])).toContainEqual(["REGED", "up"]);
    expect(
      of("oneandone")
        .filter((e) => e.state === "TRYING" || e.state === "REGISTER")
        .every((e) => health(e) === undefined),
    ).toBe(true);
    // 1&1's Ping-Status is UP in FAILED right after the 403: only its state says it is down.
    expect(of("oneandone").find((e) => e.state === "FAILED")).toMatchObject({ pingStatus: "UP" });
  });
});

describe("TrunkAlerter", () => {
  let sent: TrunkAlert[];
  let alerter: TrunkAlerter;
  const HOLD = 60_000;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    alerter = new TrunkAlerter({
      holdMs: HOLD,
      send: async (a) => void sent.push(a),
      log: { info: () => undefined, warn: () => undefined },
    });
  });
  afterEach(() => {
    alerter.stop();
    vi.useRealTimers();
  });

  it("says nothing about the recorded outage, shorter than the hold time", () => {
    for (const e of EVENTS) alerter.handle(e);
    vi.advanceTimersByTime(10 * HOLD);
    expect(sent).toEqual([]);
  });

  it("sends one message per trunk that stays down, with its state, since when and FreeSWITCH's last reason; one when it is back", () => {
    for (const e of EVENTS.slice(0, firstDown)) alerter.handle(e);
    for (const e of downEvents) alerter.handle(e);
    vi.advanceTimersByTime(HOLD - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    const failedAt = of("oneandone")
      .find((e) => e.state === "FAILED")!
      .at.toISOString();
    const plusnetDown = of("plusnet").find((e) => e.pingStatus === "DOWN")!;
    expect(sent).toEqual([
      {
        event: "trunk-down",
        trunk: "oneandone",
        state: "FAIL_WAIT",
        pingStatus: "DOWN",
        since: failedAt,
        reason: "403 Forbidden",
      },
      {
        event: "trunk-down",
        trunk: "plusnet",
        state: "NOREG",
        pingStatus: "DOWN",
        since: plusnetDown.at.toISOString(),
        reason: `503 ${plusnetDown.phrase}`,
      },
    ]);
    for (const e of upEvents) alerter.handle(e);
    vi.advanceTimersByTime(HOLD);
    expect(sent.slice(2)).toEqual([
      {
        event: "trunk-up",
        trunk: "oneandone",
        state: "REGED",
        pingStatus: "UP",
        since: of("oneandone").at(-1)!.at.toISOString(),
        downSince: failedAt,
        reason: "403 Forbidden",
      },
      {
        event: "trunk-up",
        trunk: "plusnet",
        state: "NOREG",
        pingStatus: "UP",
        since: of("plusnet").at(-1)!.at.toISOString(),
        downSince: plusnetDown.at.toISOString(),
        reason: `503 ${plusnetDown.phrase}`,
      },
    ]);
  });

  it("does not flood for a flapping trunk: fifty flaps inside the hold time send nothing, and a trunk down for good sends one message", () => {
    for (let i = 0; i < 50; i++) {
      for (const e of [...downEvents, ...upEvents]) alerter.handle(e);
      vi.advanceTimersByTime(HOLD / 100);
    }
    vi.advanceTimersByTime(HOLD);
    expect(sent).toEqual([]);
    for (let i = 0; i < 50; i++) for (const e of downEvents) alerter.handle(e);
    vi.advanceTimersByTime(5 * HOLD);
    expect(sent.map((a) => [a.event, a.trunk])).toEqual([
      ["trunk-down", "oneandone"],
      ["trunk-down", "plusnet"],
    ]);
  });
});

describe("gatewayStateSnapshot (what a reconnect reads back)", () => {
  it("turns the listed gateways into events the alerter judges like Sofia's own, leaving out a gateway not yet registering", () => {
    const at = new Date("2026-12-04T10:00:00Z");
    const events = gatewayStateSnapshot(
      [
        { name: "oneandone", state: "FAIL_WAIT", status: "DOWN" },
        { name: "plusnet", state: "NOREG", status: "UP" },
        { name: "starting", state: "UNREGED", status: "DOWN" },
      ],
      at,
    );
    expect(events).toEqual([
      { gateway: "oneandone", state: "FAIL_WAIT", pingStatus: "DOWN", at },
      { gateway: "plusnet", state: "NOREG", pingStatus: "UP", at },
    ]);
    expect(events.map(health)).toEqual(["down", "up"]);
  });
});

describe("the API's alerts over ESL", () => {
  let h: Harness;
  let webhook: WebhookReceiver<TrunkAlert>;
  let received: WebhookReceiver<TrunkAlert>["received"];
  beforeEach(async () => {
    webhook = await startWebhookReceiver<TrunkAlert>();
    received = webhook.received;
    h = await startHarness({
      alerts: { webhook: webhook.url, holdSeconds: 0 },
      alertsWebhookToken: "hook-token-123",
    });
    await h.freeswitch.waitForAuthenticated(1);
    await waitFor("the gateway_state subscription", 5000, async () =>
      h.freeswitch.subscriptions.some((s) => s.includes("CUSTOM sofia::gateway_state")),
    );
  });
  afterEach(async () => {
    await h.close();
    await webhook.close();
  });

  it("subscribes to sofia::gateway_state and posts the recorded failure and comeback to the webhook with its token", async () => {
    const failure = BODIES.filter((b) => /Gateway: oneandone/.test(b) && /State: (FAILED|FAIL_WAIT)/.test(b));
    for (const b of failure) h.freeswitch.sendEvent(b);
    await waitFor("the trunk-down post", 5000, async () => received.length >= 1);
    expect(received[0].headers.authorization).toBe("Bearer hook-token-123");
    expect(received[0].headers["content-type"]).toBe("application/json");
    expect(received[0].body).toMatchObject({
      event: "trunk-down",
      trunk: "oneandone",
      state: "FAIL_WAIT",
      reason: "403 Forbidden",
    });
    h.freeswitch.sendEvent([...BODIES].reverse().find((b) => /Gateway: oneandone/.test(b) && /State: REGED/.test(b))!);
    await waitFor("the trunk-up post", 5000, async () => received.length >= 2);
    expect(received[1].body).toMatchObject({ event: "trunk-up", trunk: "oneandone", state: "REGED" });
    expect(received).toHaveLength(2);
  });

  it("announces what changed while ESL was down, read back from the gateways' state on reconnect", async () => {
    const gatewaysAs = (state: string) => (command: string) =>
      command === "sofia xmlstatus gateway"
        ? readFileSync(join(__dirname, "..", "fixtures", "freeswitch", state, "sofia-xmlstatus-gateway.txt"), "utf8")
        : "+OK\n";
    // Both trunks went down while the connection was away (FreeSWITCH restarted, say): no event came.
    h.freeswitch.replyWith(gatewaysAs("down"));
    h.freeswitch.dropConnections();
    await waitFor("two trunk-down posts", 5000, async () => received.length >= 2);
    expect(received.map((r) => r.body).sort((a, b) => a.trunk.localeCompare(b.trunk))).toMatchObject([
      { event: "trunk-down", trunk: "oneandone", state: "FAIL_WAIT", pingStatus: "DOWN" },
      { event: "trunk-down", trunk: "plusnet", state: "NOREG", pingStatus: "DOWN" },
    ]);
    // Another reconnect with nothing changed says nothing more; one after they came back, "up".
    const readBacks = () => h.freeswitch.commands.filter((c) => c === "sofia xmlstatus gateway").length;
    const before = readBacks();
    h.freeswitch.dropConnections();
    await waitFor("the read-back after reconnecting", 5000, async () => readBacks() > before);
    await new Promise((r) => setTimeout(r, 300)); // the hold is 0 s: a post would have come by now
    expect(received).toHaveLength(2);
    h.freeswitch.replyWith(gatewaysAs("up"));
    h.freeswitch.dropConnections();
    await waitFor("two trunk-up posts", 5000, async () => received.length >= 4);
    expect(
      received
        .slice(2)
        .map((r) => [r.body.event, r.body.trunk])
        .sort(),
    ).toEqual([
      ["trunk-up", "oneandone"],
      ["trunk-up", "plusnet"],
    ]);
  });

  it("without alerts configured, subscribes to nothing beyond modesl's own", async () => {
    const plain = await startHarness();
    try {
      await plain.freeswitch.waitForAuthenticated(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(plain.freeswitch.subscriptions.some((s) => s.includes("sofia::gateway_state"))).toBe(false);
    } finally {
      await plain.close();
    }
  });
});
