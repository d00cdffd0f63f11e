/**
 * A host of a standby pair: the config API follows the role keepalived's notify script writes to
 * role.json (replaced by rename, as notify.sh does). Only while it says "active" are the trunks
 * served to mod_xml_curl, started over ESL and reported; becoming active is announced on the
 * alerts webhook and the role is a metric. The real API on loopback with a fake FreeSWITCH.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhookReceiver";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HaRoleWatcher, readRole } from "../../api/haRole";
import type { StandbyActiveAlert, WebhookAlert } from "../../api/alerts";
import type { ApiSettings } from "../../sip/apiContract";
import { renderGatewaysDirectory } from "../../sip/directory";
import { apiRunCommand } from "../../sip/deploy";
import { API_HA_STATE, HA_PATHS } from "../../sip/hostLayout";
import type { HaRole, HaState } from "../../sip/standby";
import { einsUndEins, plusnet } from "../support/apiFixtures";
import { startFakeFreeswitch, type FakeFreeswitch } from "../support/fakeFreeswitch";
import { DOMAIN, gatewaysRequest, PROFILES, startHarness, type Harness } from "../support/loopbackApi";
import { sample } from "../support/prometheusText";
import { waitFor } from "../support/waitFor";

/** Sofia's gateway events as FreeSWITCH 1.10.12 sent them (see alerts.test.ts). */
const RECORDED_EVENTS: string[] = readFileSync(
  join(__dirname, "..", "fixtures", "freeswitch", "events", "sofia-gateway-state.jsonl"),
  "utf8",
)
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as string);

const RESCAN_ALL = PROFILES.map((p) => `sofia profile ${p} rescan`);
const KILL_ALL = ["sofia profile external-ipv4 killgw plusnet", "sofia profile internal killgw einsundeins"];

/** As notify.sh writes it: a new file renamed over the old one. */
async function writeRole(path: string, role: string, extra: Partial<HaState> = {}): Promise<HaState> {
  const state = {
    role,
    since: "2026-12-05T20:00:00Z",
    reason: role === "active" ? "MASTER" : "BACKUP",
    host: "primary",
    ...extra,
  };
  await writeFile(`${path}.tmp`, JSON.stringify(state) + "\n");
  await rename(`${path}.tmp`, path);
  return state as HaState;
}

describe("readRole", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ha-role-"));
    path = join(dir, "role.json");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads the role notify.sh wrote", async () => {
    const written = await writeRole(path, "active", { host: "standby", since: "2026-12-05T20:01:02Z" });
    expect(await readRole(path)).toEqual({ state: written });
  });

  it.each([
    ["no file", undefined, /^no role file at .*role\.json$/],
    ["an empty file", "", /is not JSON/],
    ["garbage", "ro\u0000le: act", /is not JSON/],
    ["an unknown role", JSON.stringify({ role: "master", since: "x", reason: "MASTER", host: "primary" }), /role:/],
    ["a role without its host", JSON.stringify({ role: "active", since: "x", reason: "MASTER" }), /host:/],
    ["a JSON string", JSON.stringify("active"), /is not a role/],
  ])("says why it cannot tell the role from %s", async (_what, content, problem) => {
    if (content !== undefined) await writeFile(path, content);
    const reading = await readRole(path);
    expect(reading).not.toHaveProperty("state");
    expect((reading as { problem: string }).problem).toMatch(problem);
  });
});

describe("HaRoleWatcher", () => {
  let dir: string;
  let path: string;
  let watcher: HaRoleWatcher | undefined;
  let changes: [HaRole, HaRole][];
  const start = async (pollMs: number) => {
    watcher = new HaRoleWatcher({
      ha: { statePath: path, host: "primary" },
      log: { info: () => undefined, warn: () => undefined },
      onChange: (next, previous) => changes.push([next.role, previous.role]),
      pollMs,
    });
    return watcher.start();
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ha-role-"));
    path = join(dir, "role.json");
    changes = [];
  });
  afterEach(async () => {
    watcher?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("counts a missing role file as standby, with the reason, and keeps when that began", async () => {
    const first = await start(60_000);
    expect(first).toMatchObject({ role: "standby", host: "primary", reason: `no role file at ${path}` });
    await watcher!.check();
    expect(watcher!.current).toEqual(first);
    expect(changes).toEqual([]);
  });

  it("sees the file replaced by rename through the directory watch alone (the poll is an hour away)", async () => {
    await writeRole(path, "standby");
    await start(3_600_000);
    await writeRole(path, "active");
    await waitFor("the change to active", 5000, () => changes.length === 1);
    expect(changes).toEqual([["active", "standby"]]);
    expect(watcher!.current).toEqual({
      role: "active",
      since: "2026-12-05T20:00:00Z",
      reason: "MASTER",
      host: "primary",
    });
  });

  it("falls back to standby when an active host's file turns to garbage, and reports each change once", async () => {
    await writeRole(path, "active");
    await start(3_600_000);
    await writeFile(path, "{not json");
    await watcher!.check();
    expect(watcher!.current).toMatchObject({ role: "standby", reason: `the role file ${path} is not JSON` });
    await writeRole(path, "fault", { reason: "FAULT" });
    await watcher!.check();
    await watcher!.check();
    expect(changes).toEqual([
      ["standby", "active"],
      ["fault", "standby"],
    ]);
  });
});

describe("the API on a host of a standby pair", () => {
  let h: Harness;
  let roleDir: string;
  let rolePath: string;
  let webhook: WebhookReceiver<WebhookAlert>;
  let received: WebhookReceiver<WebhookAlert>["received"];
  /** ESL commands sent after the first connect's own. */
  let sentSince: () => string[];

  const startPair = async (initial: HaRole | "missing", host: "primary" | "standby" = "primary") => {
    if (initial !== "missing") await writeRole(rolePath, initial, { host });
    h = await startHarness({
      ha: { statePath: rolePath, host },
      alerts: { webhook: webhook.url, holdSeconds: 0 },
      alertsWebhookToken: "hook-token-123",
    });
    // The connect's user cache flush and its rescan of every profile.
    await h.freeswitch.waitForCommands(1 + RESCAN_ALL.length);
    const offset = h.freeswitch.commands.length;
    sentSince = () => h.freeswitch.commands.slice(offset);
  };
  const roleOf = async () => (await h.request("GET", "/readyz")).json().ha.role as HaRole;
  const becomes = async (role: HaRole, extra: Partial<HaState> = {}) => {
    const state = await writeRole(rolePath, role, { host: h.settings.ha!.host, ...extra });
    await waitFor(`the API to see ${role}`, 5000, async () => (await roleOf()) === role);
    return state;
  };
  const gatewaysOf = async (profile: string) => (await h.xmlCurl(gatewaysRequest(profile))).body;
  const putTrunks = (body: unknown) => h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body });

  beforeEach(async () => {
    roleDir = await mkdtemp(join(tmpdir(), "ha-state-"));
    rolePath = join(roleDir, "role.json");
    webhook = await startWebhookReceiver<WebhookAlert>();
    received = webhook.received;
  });
  afterEach(async () => {
    await h.close();
    await webhook.close();
    await rm(roleDir, { recursive: true, force: true });
  });

  it("as standby: stores a trunk set without touching FreeSWITCH, and serves no gateways", async () => {
    await startPair("standby");
    const reply = await putTrunks([plusnet, einsUndEins]);
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      added: ["einsundeins", "plusnet"],
      reload: { status: "inactive", commands: [] },
    });
    expect(sentSince()).toEqual([]);
    for (const profile of PROFILES)
      expect(await gatewaysOf(profile)).toBe(renderGatewaysDirectory(DOMAIN, profile, []));
    expect((await h.request("GET", "/readyz")).json()).toMatchObject({
      trunks: 2,
      ha: { role: "standby", host: "primary", reason: "BACKUP", since: "2026-12-05T20:00:00Z" },
    });
  });

  it("becoming active: serves the gateways, rescans every profile, posts standby-active once", async () => {
    await startPair("standby", "standby");
    await putTrunks([plusnet, einsUndEins]);
    await becomes("active", { since: "2026-12-05T20:05:00Z", reason: "MASTER" });
    await waitFor("the rescans", 5000, () => sentSince().length >= RESCAN_ALL.length);
    expect(sentSince()).toEqual(RESCAN_ALL);
    for (const profile of PROFILES)
      expect(await gatewaysOf(profile)).toBe(renderGatewaysDirectory(DOMAIN, profile, [plusnet, einsUndEins]));
    await waitFor("the standby-active post", 5000, () => received.length >= 1);
    const expected: StandbyActiveAlert = {
      event: "standby-active",
      host: "standby",
      since: "2026-12-05T20:05:00Z",
      reason: "MASTER",
      previous: "standby",
    };
    expect(received).toHaveLength(1);
    expect(received[0].body).toEqual(expected);
    expect(received[0].headers.authorization).toBe("Bearer hook-token-123");
    expect(received[0].headers["content-type"]).toBe("application/json");
    // While active, a trunk change reaches FreeSWITCH as before.
    const before = sentSince().length;
    const reply = await putTrunks([plusnet]);
    expect(reply.json().reload).toMatchObject({ status: "applied" });
    expect(sentSince().slice(before)).toEqual([
      "sofia profile internal killgw einsundeins",
      "sofia profile internal rescan",
    ]);
  });

  it("stepping down: stops serving the gateways and kills each one; posts nothing", async () => {
    await startPair("active");
    await putTrunks([plusnet, einsUndEins]);
    const before = sentSince().length;
    await becomes("fault", { reason: "FAULT" });
    await waitFor("the kills", 5000, () => sentSince().length >= before + KILL_ALL.length);
    expect(sentSince().slice(before)).toEqual(KILL_ALL);
    for (const profile of PROFILES)
      expect(await gatewaysOf(profile)).toBe(renderGatewaysDirectory(DOMAIN, profile, []));
    // fault → standby: nothing runs that needs stopping.
    await becomes("standby");
    // Writes queue behind the role change's own work: once this one is answered, that work is done.
    await putTrunks([plusnet, einsUndEins]);
    expect(sentSince().slice(before)).toEqual(KILL_ALL);
    expect(received).toEqual([]);
  });

  it("starting as active posts nothing (a takeover is what is announced, not a restart)", async () => {
    await startPair("active");
    await putTrunks([plusnet]);
    expect(await gatewaysOf("external-ipv4")).toContain('<gateway name="plusnet">');
    await h.restart();
    await waitFor("the API back", 5000, async () => (await roleOf()) === "active");
    await becomes("standby");
    await becomes("active");
    await waitFor("one standby-active post", 5000, () => received.length >= 1);
    expect(received.map((r) => r.body.event)).toEqual(["standby-active"]);
  });

  it("a missing or unreadable role file counts as standby: no gateways served", async () => {
    await startPair("missing");
    await putTrunks([plusnet]);
    expect((await h.request("GET", "/readyz")).json().ha).toMatchObject({
      role: "standby",
      host: "primary",
      reason: `no role file at ${rolePath}`,
    });
    expect(await gatewaysOf("external-ipv4")).not.toContain("plusnet");
    await becomes("active");
    expect(await gatewaysOf("external-ipv4")).toContain('<gateway name="plusnet">');
    await writeFile(`${rolePath}.tmp`, '{"role": "active", "since": ');
    await rename(`${rolePath}.tmp`, rolePath);
    await waitFor("the fall back to standby", 5000, async () => (await roleOf()) === "standby");
    expect(await gatewaysOf("external-ipv4")).not.toContain("plusnet");
  });

  it("stepping down while ESL is down: the kills go out once FreeSWITCH is back", async () => {
    await startPair("active");
    await putTrunks([plusnet, einsUndEins]);
    const port = h.freeswitch.port;
    await h.freeswitch.close();
    await waitFor("ESL down", 5000, async () => (await h.request("GET", "/readyz")).json().esl !== "connected");
    await becomes("standby");
    const back: FakeFreeswitch = await startFakeFreeswitch(h.secrets.eslPassword, port);
    try {
      // Whatever else the reconnect sends (its rescans get no gateways now), the kills come last.
      await waitFor(
        () => `the kills after reconnecting (sent: ${JSON.stringify(back.commands)})`,
        5000,
        () => back.commands.slice(-KILL_ALL.length).join() === KILL_ALL.join(),
      );
      expect(back.commands.lastIndexOf(RESCAN_ALL[1])).toBeLessThan(back.commands.length - KILL_ALL.length);
      expect(await gatewaysOf("internal")).toBe(renderGatewaysDirectory(DOMAIN, "internal", []));
    } finally {
      await back.close();
    }
  });

  it("a standby reports no trunk outage: gateway events count only while active", async () => {
    await startPair("standby");
    const down = RECORDED_EVENTS.find((b) => /Gateway: plusnet/.test(b) && /Ping-Status: DOWN/.test(b))!;
    h.freeswitch.sendEvent(down);
    // A scrape's ESL replies come after the event on the same connection: once it is answered, the event was heard.
    await h.request("GET", "/metrics");
    await becomes("active");
    await waitFor("the standby-active post", 5000, () => received.length >= 1);
    h.freeswitch.sendEvent(down);
    await waitFor("the trunk-down post", 5000, () => received.length >= 2);
    expect(received.map((r) => r.body.event)).toEqual(["standby-active", "trunk-down"]);
  });

  it("exposes the role as a state set, one series per role, on both listeners", async () => {
    await startPair("standby", "standby");
    const roles = async (url: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toContain("# HELP freeswitch_ha_role ");
      expect(text).toContain("# TYPE freeswitch_ha_role gauge");
      return Object.fromEntries(
        (["active", "standby", "fault"] as const).map((role) => [
          role,
          sample(text, "freeswitch_ha_role", { host: "standby", role }),
        ]),
      );
    };
    expect(await roles(h.api.url)).toEqual({ active: 0, standby: 1, fault: 0 });
    await becomes("active");
    expect(await roles(h.api.metricsUrl!)).toEqual({ active: 1, standby: 0, fault: 0 });
    // Read from role.json, not FreeSWITCH: there with ESL down too.
    await h.freeswitch.close();
    await becomes("fault");
    expect(await roles(h.api.url)).toEqual({ active: 0, standby: 0, fault: 1 });
  });
});

describe("the API on a single host (no ha)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it("serves the gateways, reports no role, and has no freeswitch_ha_role", async () => {
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet] });
    expect((await h.xmlCurl(gatewaysRequest("external-ipv4"))).body).toBe(
      renderGatewaysDirectory(DOMAIN, "external-ipv4", [plusnet]),
    );
    expect((await h.request("GET", "/readyz")).json()).not.toHaveProperty("ha");
    expect((await h.request("GET", "/metrics")).body).not.toContain("freeswitch_ha_role");
  });
});

describe("apiRunCommand", () => {
  const image = "telephony-config-api:abc";
  const ha: NonNullable<ApiSettings["ha"]> = { statePath: API_HA_STATE, host: "primary" };

  it("mounts the role directory read-only where the settings' statePath lies, only on a host of a pair", () => {
    const mount = `-v ${HA_PATHS.stateDir}:/run/telephony-ha:ro`;
    expect(apiRunCommand(image, { ha })).toContain(`${mount} ${image}`);
    expect(apiRunCommand(image, {})).not.toContain(HA_PATHS.stateDir);
    expect(apiRunCommand(image, { ha }).replace(`${mount} `, "")).toBe(apiRunCommand(image));
  });
});
