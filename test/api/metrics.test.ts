/**
 * /metrics: the parsers on replies recorded from a real FreeSWITCH 1.10.12
 * (test/fixtures/freeswitch/<state>/, written by test/freeswitch/metrics.test.ts with
 * RECORD_FREESWITCH_FIXTURES=1: "up" with both test trunks up, "after-call" after a call the phone
 * refused, "down" with the registrar refusing the password and the OPTIONS peer answering 503),
 * and the real API on loopback serving them from its fake event socket.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FreeswitchReplyError,
  parseCallsCount,
  parseSofiaGatewaysXmlStatus,
  parseSofiaProfileXmlStatus,
  parseSofiaXmlStatus,
  parseStatus,
} from "../../api/freeswitchStatus";
import { basic, startHarness, type Harness } from "../support/loopbackApi";
import { XML_CURL_USER } from "../../sip/apiContract";
import { sample } from "../support/prometheusText";
import { waitFor } from "../support/waitFor";
import { ESL_COMMAND_TIMEOUT_MS } from "../../api/esl";
import { PROJECT_DIR } from "../support/environment";

const FIXTURES = join(__dirname, "..", "fixtures", "freeswitch");
const fixture = (state: string, stem: string) => readFileSync(join(FIXTURES, state, `${stem}.txt`), "utf8");

/** The fake event socket answers each status command with the recorded reply for `state`. */
const COMMAND_FIXTURE: Record<string, string> = {
  status: "status",
  "show calls count": "show-calls-count",
  "sofia xmlstatus": "sofia-xmlstatus",
  "sofia xmlstatus gateway": "sofia-xmlstatus-gateway",
  "sofia xmlstatus profile internal": "sofia-xmlstatus-profile-internal",
  "sofia xmlstatus profile internal-ipv4": "sofia-xmlstatus-profile-internal-ipv4",
  "sofia xmlstatus profile external-ipv4": "sofia-xmlstatus-profile-external-ipv4",
};
const answerAs = (state: string) => (command: string) =>
  COMMAND_FIXTURE[command] ? fixture(state, COMMAND_FIXTURE[command]) : "+OK\n";

describe("FreeSWITCH's status replies, as recorded", () => {
  it("status: uptime, readiness, the session counters", () => {
    const s = parseStatus(fixture("after-call", "status"));
    expect(s.ready).toBe(true);
    expect(s.version).toMatch(/^1\.10\.12/);
    expect(s.uptimeSeconds).toBeGreaterThan(0);
    expect(s.sessionsSinceStartup).toBeGreaterThanOrEqual(2);
    expect(s.sessions).toBe(0);
    expect(s.maxSessions).toBeGreaterThan(0);
  });

  it("show calls count", () => {
    expect(parseCallsCount(fixture("up", "show-calls-count"))).toBe(0);
    expect(parseCallsCount("\n3 total.\n")).toBe(3);
    expect(() => parseCallsCount("-ERR no reply\n")).toThrow(FreeswitchReplyError);
  });

  it("sofia xmlstatus: every profile running, one row per listener", () => {
    const { profiles } = parseSofiaXmlStatus(fixture("up", "sofia-xmlstatus"));
    expect(new Set(profiles.map((p) => p.name))).toEqual(new Set(["external-ipv4", "internal", "internal-ipv4"]));
    expect(profiles.every((p) => p.state === "RUNNING")).toBe(true);
    expect(profiles.filter((p) => p.name === "internal").map((p) => p.transport)).toEqual(["", "TLS", "WSS"]);
  });

  it("sofia xmlstatus: FreeSWITCH's retry note after a failing gateway's closing tag does not disturb the rows", () => {
    const reply = fixture("down", "sofia-xmlstatus");
    expect(reply).toMatch(/<\/gateway>\n \(retry: \d+s\)/);
    expect(parseSofiaXmlStatus(reply).profiles).toEqual(parseSofiaXmlStatus(fixture("up", "sofia-xmlstatus")).profiles);
  });

  it("sofia xmlstatus gateway: the REGISTER trunk REGED, the IP-auth trunk pinged UP", () => {
    const gateways = parseSofiaGatewaysXmlStatus(fixture("up", "sofia-xmlstatus-gateway"));
    const byName = Object.fromEntries(gateways.map((g) => [g.name, g]));
    expect(Object.keys(byName).sort()).toEqual(["oneandone", "plusnet"]);
    expect(byName.oneandone).toMatchObject({ profile: "internal", state: "REGED" });
    expect(byName.oneandone.proxy).toContain("sip.1und1.de");
    expect(byName.plusnet).toMatchObject({ profile: "external-ipv4", state: "NOREG", status: "UP", pinged: true });
  });

  it("sofia xmlstatus gateway: both trunks failing", () => {
    const byName = Object.fromEntries(
      parseSofiaGatewaysXmlStatus(fixture("down", "sofia-xmlstatus-gateway")).map((g) => [g.name, g]),
    );
    expect(["FAILED", "FAIL_WAIT"]).toContain(byName.oneandone.state);
    expect(byName.plusnet).toMatchObject({ state: "NOREG", status: "DOWN", pinged: true });
    // Unpinged, its status only echoes the failed registration: state is what to read.
    expect(byName.oneandone).toMatchObject({ status: "DOWN", pinged: false });
  });

  it("sofia xmlstatus profile: registrations and the call counters", () => {
    const internal = parseSofiaProfileXmlStatus(
      fixture("after-call", "sofia-xmlstatus-profile-internal-ipv4"),
      "internal-ipv4",
    );
    expect(internal.registrations).toBe(1);
    const external = parseSofiaProfileXmlStatus(
      fixture("after-call", "sofia-xmlstatus-profile-external-ipv4"),
      "external-ipv4",
    );
    expect(external.callsIn).toBeGreaterThanOrEqual(1);
    expect(external.failedCallsIn).toBeGreaterThanOrEqual(1);
    expect(() => parseSofiaProfileXmlStatus("Invalid Profile!\n", "nope")).toThrow(FreeswitchReplyError);
  });
});

describe("GET /metrics", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.freeswitch.waitForAuthenticated(1);
  });
  afterEach(async () => h.close());

  const scrape = async () => {
    const r = await h.request("GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return r.body;
  };

  it("serves the trunks' registration state and ping status as separate metrics", async () => {
    h.freeswitch.replyWith(answerAs("up"));
    const text = await scrape();
    expect(sample(text, "freeswitch_up")).toBe(1);
    expect(sample(text, "freeswitch_config_api_esl_state", { state: "connected" })).toBe(1);
    expect(sample(text, "freeswitch_config_api_esl_state", { state: "disconnected" })).toBe(0);
    const gateways = parseSofiaGatewaysXmlStatus(fixture("up", "sofia-xmlstatus-gateway"));
    const labels = (name: string) => {
      const g = gateways.find((x) => x.name === name)!;
      return { name, profile: g.profile, proxy: g.proxy };
    };
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...labels("oneandone"), state: "REGED" })).toBe(1);
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...labels("oneandone"), state: "FAIL_WAIT" })).toBe(0);
    expect(sample(text, "freeswitch_sofia_gateway_state", { ...labels("plusnet"), state: "NOREG" })).toBe(1);
    expect(sample(text, "freeswitch_sofia_gateway_status", labels("plusnet"))).toBe(1);
    for (const p of ["internal", "internal-ipv4", "external-ipv4"])
      expect(sample(text, "freeswitch_sofia_profile_up", { profile: p })).toBe(1);
    expect(sample(text, "freeswitch_current_calls")).toBe(0);
    expect(text).toContain("# TYPE freeswitch_sessions_total counter");
    expect(text).toContain("# TYPE freeswitch_sofia_profile_failed_calls_total counter");
  });

  it("gives no ping status for a gateway FreeSWITCH does not ping: its UP would mean nothing", async () => {
    h.freeswitch.replyWith(answerAs("up"));
    const text = await scrape();
    const oneandone = parseSofiaGatewaysXmlStatus(fixture("up", "sofia-xmlstatus-gateway")).find(
      (g) => g.name === "oneandone",
    )!;
    if (!oneandone.pinged) expect(text).not.toMatch(/^freeswitch_sofia_gateway_status\{[^}]*name="oneandone"/m);
  });

  it("serves the failing trunks as not REGED and DOWN", async () => {
    h.freeswitch.replyWith(answerAs("down"));
    const text = await scrape();
    expect(text).toMatch(/^freeswitch_sofia_gateway_state\{name="oneandone",[^}]*state="REGED"\} 0$/m);
    expect(text).toMatch(/^freeswitch_sofia_gateway_status\{name="plusnet",[^}]*\} 0$/m);
  });

  it("counts calls and failed calls per profile and direction, and registrations", async () => {
    h.freeswitch.replyWith(answerAs("after-call"));
    const text = await scrape();
    expect(
      sample(text, "freeswitch_sofia_profile_calls_total", { profile: "external-ipv4", direction: "inbound" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, "freeswitch_sofia_profile_failed_calls_total", { profile: "external-ipv4", direction: "inbound" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, "freeswitch_sofia_profile_registrations", { profile: "internal-ipv4" })).toBe(1);
  });

  it("with ESL down: freeswitch_up 0, the ESL state, and no stale FreeSWITCH series", async () => {
    h.freeswitch.replyWith(answerAs("up"));
    expect(sample(await scrape(), "freeswitch_current_calls")).toBe(0);
    h.api.esl.stop();
    const text = await scrape();
    expect(sample(text, "freeswitch_up")).toBe(0);
    expect(sample(text, "freeswitch_config_api_esl_state", { state: "disconnected" })).toBe(1);
    expect(text).not.toMatch(/^freeswitch_current_calls /m);
    expect(text).not.toMatch(/^freeswitch_sofia_gateway_state\{/m);
  });

  it("a reply it cannot read is freeswitch_up 0, not a 500", async () => {
    h.freeswitch.replyWith((command) => (command === "status" ? "-ERR\n" : answerAs("up")(command)));
    expect(sample(await scrape(), "freeswitch_up")).toBe(0);
  });

  it("counts the API's own requests by route pattern, with their latency", async () => {
    h.freeswitch.replyWith(answerAs("up"));
    await h.request("GET", "/api/v1/sip/extensions/1234/config");
    await h.xmlCurl({ section: "directory" });
    await h.xmlCurl({ section: "directory" });
    await h.xmlCurl({ section: "directory" }, basic(XML_CURL_USER, "wrong"));
    await h.request("POST", h.settings.xmlCurlPath, {
      headers: { authorization: basic(XML_CURL_USER, h.secrets.xmlCurlPassword), "content-type": "application/json" },
      body: "{}",
    });
    await h.request("GET", "/no/such/path");
    const text = await scrape();
    expect(
      sample(text, "freeswitch_config_api_http_requests_total", {
        method: "GET",
        route: "/api/v1/sip/extensions/:id/config",
        status: "401",
      }),
    ).toBe(1);
    // mod_xml_curl's path: every answer counted under its own status, refusals included.
    expect(
      sample(text, "freeswitch_config_api_http_requests_total", {
        method: "POST",
        route: h.settings.xmlCurlPath,
        status: "200",
      }),
    ).toBe(2);
    expect(
      sample(text, "freeswitch_config_api_http_requests_total", {
        method: "POST",
        route: h.settings.xmlCurlPath,
        status: "401",
      }),
    ).toBe(1);
    expect(
      sample(text, "freeswitch_config_api_http_requests_total", {
        method: "POST",
        route: h.settings.xmlCurlPath,
        status: "415",
      }),
    ).toBe(1);
    expect(
      sample(text, "freeswitch_config_api_http_requests_total", { method: "GET", route: "unmatched", status: "404" }),
    ).toBe(1);
    expect(
      sample(text, "freeswitch_config_api_http_request_duration_seconds_count", {
        method: "POST",
        route: h.settings.xmlCurlPath,
      }),
    ).toBe(4);
    const sum = sample(text, "freeswitch_config_api_http_request_duration_seconds_sum", {
      method: "POST",
      route: h.settings.xmlCurlPath,
    });
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(4 * 5);
    expect(text).not.toMatch(/route="[^"]*1234/);
  });

  it("serves GET /metrics, and nothing else, on its own listener (the port the firewall opens to the admin ranges)", async () => {
    h.freeswitch.replyWith(answerAs("up"));
    const base = h.api.metricsUrl!;
    expect(base).toBeDefined();
    expect(base).not.toBe(h.api.url);
    const ok = await fetch(`${base}/metrics`);
    expect(ok.status).toBe(200);
    expect(sample(await ok.text(), "freeswitch_up")).toBe(1);
    expect((await fetch(`${base}/metrics`, { method: "POST", body: "x" })).status).toBe(405);
    for (const path of [
      "/readyz",
      "/api/v1/sip/trunks",
      h.settings.xmlCurlPath,
      "/api/v1/sip/extensions/1000/config",
    ]) {
      const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${h.secrets.adminToken}` } });
      expect(r.status, path).toBe(404);
    }
    const put = await fetch(`${base}/api/v1/sip/trunks`, {
      method: "PUT",
      headers: { authorization: `Bearer ${h.secrets.adminToken}`, "content-type": "application/json" },
      body: "[]",
    });
    expect(put.status).toBe(404);
  });
});

describe("GET /metrics from a FreeSWITCH that accepts the event socket but never answers", () => {
  // Prometheus gives up on a target after the scrape_timeout docs/monitoring.md recommends; an
  // answer after that would fire TelephonyMetricsUnreachable instead of FreeswitchUnreachable.
  const scrapeTimeoutSeconds = Number(
    /scrape_timeout: (\d+)s/.exec(readFileSync(join(PROJECT_DIR, "docs", "monitoring.md"), "utf8"))![1],
  );
  let h: Harness;
  afterEach(async () => h.close());

  const timedScrape = async () => {
    const started = performance.now();
    const r = await h.request("GET", "/metrics");
    return { status: r.status, body: r.body, seconds: (performance.now() - started) / 1000 };
  };

  it("answers with freeswitch_up 0 before Prometheus gives up, and reads it again once it answers, on the same connection", async () => {
    h = await startHarness({ eslCommandTimeoutMs: ESL_COMMAND_TIMEOUT_MS });
    await h.freeswitch.waitForAuthenticated(1);
    h.freeswitch.replyWith(answerAs("up"));
    h.freeswitch.hang();
    const hung = await timedScrape();
    expect(hung.status).toBe(200);
    expect(hung.seconds).toBeLessThan(scrapeTimeoutSeconds);
    expect(sample(hung.body, "freeswitch_up")).toBe(0);
    expect(sample(hung.body, "freeswitch_config_api_esl_state", { state: "connected" })).toBe(1);
    expect(hung.body).not.toMatch(/^freeswitch_current_calls /m);
    expect(h.logs.some((l) => l.includes("could not read FreeSWITCH") && l.includes("did not answer"))).toBe(true);

    h.freeswitch.resume();
    const answered = await timedScrape();
    expect(sample(answered.body, "freeswitch_up")).toBe(1);
    // A scrape that stopped waiting left the connection alone: FreeSWITCH answered in time for the commands.
    expect(h.freeswitch.authenticated).toBe(1);
    expect(h.logs.filter((l) => l.includes("dropping ESL connection"))).toEqual([]);
  });

  it("a connection that stays hung is dropped by the command timeout, made anew, and read again once FreeSWITCH answers", async () => {
    h = await startHarness();
    await h.freeswitch.waitForAuthenticated(1);
    h.freeswitch.replyWith(answerAs("up"));
    h.freeswitch.hang();
    const hung = await timedScrape();
    expect(hung.status).toBe(200);
    expect(sample(hung.body, "freeswitch_up")).toBe(0);
    await h.freeswitch.waitForAuthenticated(2, 15_000);
    expect(h.logs.some((l) => l.includes("dropping ESL connection") && l.includes("command timed out"))).toBe(true);

    h.freeswitch.resume();
    await waitFor(
      "freeswitch_up 1 after FreeSWITCH answers again",
      15_000,
      async () => sample((await timedScrape()).body, "freeswitch_up") === 1,
    );
  });
});
