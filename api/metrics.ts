/**
 * `/metrics`: FreeSWITCH's state read over ESL at each scrape, and the config API's own request
 * counts and latency, in Prometheus' text format (prom-client writes it). Names follow the
 * FreeSWITCH exporters (freeswitch_exporter and its forks): the `freeswitch_` prefix, gateways
 * labelled `name`, `profile`, `proxy`, and their metric names where they have one
 * (freeswitch_up, freeswitch_current_calls, freeswitch_sessions_total, freeswitch_sofia_gateway_status, ...).
 *
 * One scrape asks FreeSWITCH `status`, `show calls count`, `sofia xmlstatus`, `sofia xmlstatus
 * gateway` and `sofia xmlstatus profile <p>` for each configured profile, and replaces every
 * FreeSWITCH series with what it read: a gateway or profile FreeSWITCH no longer lists leaves no
 * stale series behind. When ESL is down or an answer cannot be read, freeswitch_up is 0 and no
 * FreeSWITCH series is served (absent, not stale). Concurrent scrapes share one round of commands.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { HaRole } from "../sip/standby";
import type { EslState } from "./esl";
import { HA_ROLES } from "./haRole";
import { HistogramWithTallies, RouteTally } from "./routeTally";
import {
  GATEWAY_STATES,
  parseCallsCount,
  parseSofiaGatewaysXmlStatus,
  parseSofiaProfileXmlStatus,
  parseSofiaXmlStatus,
  parseStatus,
  type CoreStatus,
  type SofiaGateway,
  type SofiaOverview,
  type SofiaProfileInfo,
} from "./freeswitchStatus";

export const ESL_STATES: readonly EslState[] = ["connecting", "connected", "disconnected", "auth-failed"];

/** Latency buckets for an API that answers most requests in well under a millisecond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export interface MetricsSource {
  readonly state: EslState;
  api(command: string): Promise<string>;
}

export interface FreeswitchReading {
  readonly status: CoreStatus;
  readonly calls: number;
  readonly sofia: SofiaOverview;
  readonly profiles: SofiaProfileInfo[];
  readonly gateways: SofiaGateway[];
}

/** One round of status commands, parsed. Profiles FreeSWITCH does not run are left out of `profiles`. */
export async function readFreeswitch(
  esl: Pick<MetricsSource, "api">,
  configuredProfiles: readonly string[],
): Promise<FreeswitchReading> {
  const status = parseStatus(await esl.api("status"));
  const calls = parseCallsCount(await esl.api("show calls count"));
  const sofia = parseSofiaXmlStatus(await esl.api("sofia xmlstatus"));
  const gateways = parseSofiaGatewaysXmlStatus(await esl.api("sofia xmlstatus gateway"));
  const running = new Set(sofia.profiles.map((p) => p.name));
  const names = [...new Set([...configuredProfiles, ...running])].filter((p) => running.has(p));
  const profiles: SofiaProfileInfo[] = [];
  for (const name of names)
    profiles.push(parseSofiaProfileXmlStatus(await esl.api(`sofia xmlstatus profile ${name}`), name));
  return { status, calls, sofia, profiles, gateways };
}

/**
 * `reading`, or an error after `ms`. The commands still waiting are left to the ESL
 * client: they stay paired with their replies, so a slow FreeSWITCH keeps its connection, and a
 * hung one is dropped and reconnected by the commands' own timeout.
 */
function withinDeadline<T>(reading: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`FreeSWITCH did not answer within ${ms} ms`)), ms);
  });
  // A reading that loses the race may still fail later; nobody waits for it any more.
  reading.catch(() => undefined);
  return Promise.race([reading, deadline]).finally(() => clearTimeout(timer));
}

export interface ApiMetrics {
  readonly registry: Registry;
  /** Reads FreeSWITCH and renders every metric (Prometheus text format 0.0.4). */
  render(): Promise<string>;
  readonly contentType: string;
  /** Counts one HTTP request the API answered. `route` is the route's pattern, never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /**
   * The same for one fixed route, counted in plain numbers that prom-client takes when it
   * collects (api/routeTally.ts): for mod_xml_curl's path, which FreeSWITCH calls on every
   * registration and profile scan.
   */
  routeObserver(method: string, route: string): (status: number, seconds: number) => void;
}

/**
 * How long a scrape waits for FreeSWITCH's answers: half the 10 s scrape_timeout docs/monitoring.md
 * recommends, so a FreeSWITCH that accepts the event socket but never answers is served as
 * freeswitch_up 0 (FreeswitchUnreachable) before Prometheus gives up on the whole target
 * (TelephonyMetricsUnreachable). Each ESL command's own timeout (api/esl.ts) is longer.
 */
export const SCRAPE_DEADLINE_MS = 5_000;

/** A standby pair's host: which one it is and its role now (api/haRole.ts). */
export interface HaRoleSource {
  readonly host: string;
  role(): HaRole;
}

export function createApiMetrics(
  esl: MetricsSource,
  configuredProfiles: readonly string[],
  log: { warn(obj: object, msg: string): void },
  ha?: HaRoleSource,
): ApiMetrics {
  // Two registries: the API's own series always; FreeSWITCH's only when this scrape read them
  // (prom-client would print an unlabelled metric as 0 even after a reset).
  const registry = new Registry();
  const fromFreeswitch = new Registry();
  const registers = [registry];
  const gw = ["name", "profile", "proxy"] as const;

  const up = new Gauge({
    name: "freeswitch_up",
    help: "1 if the last scrape read FreeSWITCH over ESL, else 0",
    registers,
  });
  const eslState = new Gauge({
    name: "freeswitch_config_api_esl_state",
    help: "The config API's ESL connection to FreeSWITCH: 1 for its current state",
    labelNames: ["state"],
    registers,
  });
  // Only on a host of a standby pair; read from role.json, not from FreeSWITCH, so it is there with ESL down too.
  const haRole = ha
    ? new Gauge({
        name: "freeswitch_ha_role",
        help: "This host's role in the standby pair (keepalived's, from its notify script): 1 for its current role",
        labelNames: ["host", "role"],
        registers,
      })
    : undefined;
  // Routes FreeSWITCH calls on every registration are tallied in plain numbers (api/routeTally.ts).
  const tallies = new Map<string, RouteTally>();
  const requests = new Counter({
    name: "freeswitch_config_api_http_requests_total",
    help: "HTTP requests the config API answered",
    labelNames: ["method", "route", "status"],
    registers,
    collect: () => {
      for (const tally of tallies.values()) tally.addCountsTo(requests);
    },
  });
  const latencyMeta = {
    name: "freeswitch_config_api_http_request_duration_seconds",
    help: "Time the config API took to answer an HTTP request",
  };
  const latency = new Histogram({
    ...latencyMeta,
    labelNames: ["method", "route"],
    buckets: LATENCY_BUCKETS,
    registers: [],
  });
  const latencyFamily = new HistogramWithTallies(latency, latencyMeta);
  registry.registerMetric(latencyFamily.asMetric());

  // Series read from FreeSWITCH: reset and rewritten on every scrape.
  const fsRegisters = [fromFreeswitch];
  const fs = {
    uptime: new Gauge({
      name: "freeswitch_uptime_seconds",
      help: "Seconds since FreeSWITCH started",
      registers: fsRegisters,
    }),
    ready: new Gauge({
      name: "freeswitch_ready",
      help: "1 if FreeSWITCH says it is ready (status)",
      registers: fsRegisters,
    }),
    calls: new Gauge({
      name: "freeswitch_current_calls",
      help: "Calls in progress (show calls count)",
      registers: fsRegisters,
    }),
    sessions: new Gauge({
      name: "freeswitch_current_sessions",
      help: "Sessions (call legs) in progress",
      registers: fsRegisters,
    }),
    sessionsTotal: new Counter({
      name: "freeswitch_sessions_total",
      help: "Sessions (call legs) created since FreeSWITCH started",
      registers: fsRegisters,
    }),
    sessionsPeak: new Gauge({
      name: "freeswitch_current_sessions_peak",
      help: "Most sessions at once since FreeSWITCH started",
      registers: fsRegisters,
    }),
    maxSessions: new Gauge({
      name: "freeswitch_max_sessions",
      help: "Sessions FreeSWITCH allows at once (max-sessions)",
      registers: fsRegisters,
    }),
    sps: new Gauge({
      name: "freeswitch_current_sps",
      help: "Sessions created in the last second",
      registers: fsRegisters,
    }),
    maxSps: new Gauge({
      name: "freeswitch_max_sps",
      help: "Sessions per second FreeSWITCH allows (sessions-per-second)",
      registers: fsRegisters,
    }),
    idleCpu: new Gauge({
      name: "freeswitch_current_idle_cpu",
      help: "Idle CPU in percent as FreeSWITCH measures it",
      registers: fsRegisters,
    }),
    profileUp: new Gauge({
      name: "freeswitch_sofia_profile_up",
      help: "1 if the Sofia profile is running, 0 if it is configured but FreeSWITCH does not run it",
      labelNames: ["profile"],
      registers: fsRegisters,
    }),
    profileInUse: new Gauge({
      name: "freeswitch_sofia_profile_sessions",
      help: "Sessions the Sofia profile has in use",
      labelNames: ["profile"],
      registers: fsRegisters,
    }),
    registrations: new Gauge({
      name: "freeswitch_sofia_profile_registrations",
      help: "Endpoints registered to the Sofia profile",
      labelNames: ["profile"],
      registers: fsRegisters,
    }),
    profileCalls: new Counter({
      name: "freeswitch_sofia_profile_calls_total",
      help: "Calls the Sofia profile took in or placed out since it started",
      labelNames: ["profile", "direction"],
      registers: fsRegisters,
    }),
    profileFailed: new Counter({
      name: "freeswitch_sofia_profile_failed_calls_total",
      help: "Calls of the Sofia profile that hung up unanswered, since it started",
      labelNames: ["profile", "direction"],
      registers: fsRegisters,
    }),
    gatewayState: new Gauge({
      name: "freeswitch_sofia_gateway_state",
      help: "The gateway's registration state: 1 for its current state (NOREG: the gateway does not register)",
      labelNames: [...gw, "state"],
      registers: fsRegisters,
    }),
    gatewayStatus: new Gauge({
      name: "freeswitch_sofia_gateway_status",
      help: "The OPTIONS ping's verdict, 1 UP, 0 DOWN; only for gateways that ping",
      labelNames: gw,
      registers: fsRegisters,
    }),
    gatewayPing: new Gauge({
      name: "freeswitch_sofia_gateway_ping_seconds",
      help: "How long the gateway's last OPTIONS ping took to be answered",
      labelNames: gw,
      registers: fsRegisters,
    }),
    gatewayUptime: new Gauge({
      name: "freeswitch_sofia_gateway_uptime_seconds",
      help: "Seconds since the gateway's ping status last went UP (0 while DOWN)",
      labelNames: gw,
      registers: fsRegisters,
    }),
    gatewayCalls: new Counter({
      name: "freeswitch_sofia_gateway_calls_total",
      help: "Calls through the gateway since it was loaded",
      labelNames: [...gw, "direction"],
      registers: fsRegisters,
    }),
    gatewayFailed: new Counter({
      name: "freeswitch_sofia_gateway_failed_calls_total",
      help: "Calls through the gateway that hung up unanswered, since it was loaded",
      labelNames: [...gw, "direction"],
      registers: fsRegisters,
    }),
  };

  const write = (r: FreeswitchReading) => {
    for (const metric of Object.values(fs)) metric.reset();
    const s = r.status;
    fs.uptime.set(s.uptimeSeconds);
    fs.ready.set(s.ready ? 1 : 0);
    fs.calls.set(r.calls);
    fs.sessions.set(s.sessions);
    fs.sessionsTotal.inc(s.sessionsSinceStartup);
    fs.sessionsPeak.set(s.sessionsPeak);
    fs.maxSessions.set(s.maxSessions);
    fs.sps.set(s.sps);
    fs.maxSps.set(s.maxSps);
    fs.idleCpu.set(s.idleCpu);
    const running = new Map<string, number>();
    for (const row of r.sofia.profiles)
      if (row.state === "RUNNING") running.set(row.name, Math.max(running.get(row.name) ?? 0, row.inUse));
    for (const profile of new Set([...configuredProfiles, ...r.sofia.profiles.map((p) => p.name)])) {
      fs.profileUp.set({ profile }, running.has(profile) ? 1 : 0);
      if (running.has(profile)) fs.profileInUse.set({ profile }, running.get(profile)!);
    }
    for (const p of r.profiles) {
      fs.registrations.set({ profile: p.name }, p.registrations);
      fs.profileCalls.inc({ profile: p.name, direction: "inbound" }, p.callsIn);
      fs.profileCalls.inc({ profile: p.name, direction: "outbound" }, p.callsOut);
      fs.profileFailed.inc({ profile: p.name, direction: "inbound" }, p.failedCallsIn);
      fs.profileFailed.inc({ profile: p.name, direction: "outbound" }, p.failedCallsOut);
    }
    for (const g of r.gateways) {
      const labels = { name: g.name, profile: g.profile, proxy: g.proxy };
      const states = (GATEWAY_STATES as readonly string[]).includes(g.state)
        ? GATEWAY_STATES
        : [...GATEWAY_STATES, g.state];
      for (const state of states) fs.gatewayState.set({ ...labels, state }, state === g.state ? 1 : 0);
      // Without pings, FreeSWITCH's status only echoes registration (read `state` for that).
      if (g.pinged) {
        fs.gatewayStatus.set(labels, g.status === "UP" ? 1 : 0);
        fs.gatewayPing.set(labels, g.pingSeconds);
      }
      fs.gatewayUptime.set(labels, g.uptimeSeconds);
      fs.gatewayCalls.inc({ ...labels, direction: "inbound" }, g.callsIn);
      fs.gatewayCalls.inc({ ...labels, direction: "outbound" }, g.callsOut);
      fs.gatewayFailed.inc({ ...labels, direction: "inbound" }, g.failedCallsIn);
      fs.gatewayFailed.inc({ ...labels, direction: "outbound" }, g.failedCallsOut);
    }
  };

  let inFlight: Promise<string> | undefined;
  const scrape = async (): Promise<string> => {
    for (const state of ESL_STATES) eslState.set({ state }, state === esl.state ? 1 : 0);
    if (ha && haRole) {
      const current = ha.role();
      for (const role of HA_ROLES) haRole.set({ host: ha.host, role }, role === current ? 1 : 0);
    }
    try {
      write(await withinDeadline(readFreeswitch(esl, configuredProfiles), SCRAPE_DEADLINE_MS));
      up.set(1);
      return (await registry.metrics()) + (await fromFreeswitch.metrics());
    } catch (error) {
      up.set(0);
      if (esl.state === "connected") log.warn({ err: (error as Error).message }, "metrics: could not read FreeSWITCH");
      return registry.metrics();
    }
  };

  return {
    registry,
    contentType: registry.contentType,
    render() {
      inFlight ??= scrape().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    routeObserver(method, route) {
      const key = `${method} ${route}`;
      const tally = tallies.get(key) ?? new RouteTally(method, route, LATENCY_BUCKETS);
      if (!tallies.has(key)) {
        tallies.set(key, tally);
        latencyFamily.include(tally);
      }
      return (status, seconds) => tally.record(status, seconds);
    },
  };
}
