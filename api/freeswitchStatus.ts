/**
 * What FreeSWITCH 1.10's status commands print, read into plain data. Each parser takes the body
 * of one `api` reply as FreeSWITCH writes it (mod_sofia.c cmd_xml_status, mod_commands.c
 * status_function and show); the tests feed them replies recorded from a real FreeSWITCH
 * (test/fixtures/freeswitch/). Nothing here talks to FreeSWITCH.
 *
 * The "XML" of `sofia xmlstatus` is flat, written with printf, and not always well-formed: a
 * gateway in FAIL_WAIT, FAILED or TRYING gets " (retry: 29s)" written after its closing tag. So
 * it is read as a list of flat elements, each `<tag>text</tag>`, not by an XML parser that would
 * refuse the whole answer for one stray fragment.
 */

/** Sofia's gateway registration states (mod_sofia.c sofia_state_names), in FreeSWITCH's order. */
export const GATEWAY_STATES = [
  "UNREGED",
  "TRYING",
  "REGISTER",
  "REGED",
  "UNREGISTER",
  "FAILED",
  "FAIL_WAIT",
  "EXPIRED",
  "NOREG",
  "DOWN",
  "TIMEOUT",
] as const;
export type GatewayState = (typeof GATEWAY_STATES)[number];

export class FreeswitchReplyError extends Error {
  override name = "FreeswitchReplyError";
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decode = (text: string) => text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]).trim();

/** Every `<tag>…</tag>` block of `tag` in `text` (FreeSWITCH never nests a tag in itself). */
function blocks(text: string, tag: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g");
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) out.push(m[1]);
  return out;
}

/** The leaf elements of a block as tag → text (the first of a repeated tag wins). */
function fields(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  const pattern = /<([A-Za-z][\w-]*)>([^<]*)<\/\1>/g;
  for (let m = pattern.exec(block); m; m = pattern.exec(block)) if (!(m[1] in out)) out[m[1]] = decode(m[2]);
  return out;
}

function expectXml(reply: string, root: string, command: string): void {
  if (!reply.includes(`<${root}>`))
    throw new FreeswitchReplyError(`unexpected answer to "${command}": ${reply.trim().slice(0, 200) || "(empty)"}`);
}

const integer = (value: string | undefined): number => {
  const n = Number.parseInt(value ?? "", 10);
  return Number.isFinite(n) ? n : 0;
};

export interface SofiaProfileRow {
  readonly name: string;
  /** The profile's URL for this transport. */
  readonly data: string;
  /** "RUNNING" or "DOWN". */
  readonly state: string;
  /** Sessions the profile has in use (the number in "RUNNING (0)"). */
  readonly inUse: number;
  /** "" for UDP/TCP, else "TLS", "WS" or "WSS": one row per listener. */
  readonly transport: string;
}

export interface SofiaOverview {
  readonly profiles: SofiaProfileRow[];
  /** Aliases FreeSWITCH lists beside the profiles: alias name → profile. */
  readonly aliases: Record<string, string>;
}

/** `sofia xmlstatus`: one row per profile listener (aliases apart). Gateways are read from `sofia xmlstatus gateway`. */
export function parseSofiaXmlStatus(reply: string): SofiaOverview {
  expectXml(reply, "profiles", "sofia xmlstatus");
  const profiles = blocks(reply, "profile").map((block) => {
    const f = fields(block);
    const m = /^(\S+)\s*\((\d+)\)(?:\s*\((\w+)\))?/.exec(f.state ?? "");
    return {
      name: f.name ?? "",
      data: f.data ?? "",
      state: m ? m[1] : (f.state ?? ""),
      inUse: m ? Number(m[2]) : 0,
      transport: m?.[3] ?? "",
    };
  });
  const aliases = Object.fromEntries(
    blocks(reply, "alias")
      .map((b) => fields(b))
      .map((f) => [f.name ?? "", f.data ?? ""]),
  );
  return { profiles, aliases };
}

export interface SofiaProfileInfo {
  readonly name: string;
  /** Calls the profile took in / placed out since it started; failed = hung up unanswered (mod_sofia.c sofia_on_hangup). */
  readonly callsIn: number;
  readonly callsOut: number;
  readonly failedCallsIn: number;
  readonly failedCallsOut: number;
  /** Endpoints registered to the profile (sofia_profile_reg_count). */
  readonly registrations: number;
}

/** `sofia xmlstatus profile <name>`. Throws on "Invalid Profile!" and other non-XML answers. */
export function parseSofiaProfileXmlStatus(reply: string, profile: string): SofiaProfileInfo {
  expectXml(reply, "profile-info", `sofia xmlstatus profile ${profile}`);
  const f = fields(blocks(reply, "profile-info")[0]);
  return {
    name: f.name ?? profile,
    callsIn: integer(f["calls-in"]),
    callsOut: integer(f["calls-out"]),
    failedCallsIn: integer(f["failed-calls-in"]),
    failedCallsOut: integer(f["failed-calls-out"]),
    registrations: integer(f.registrations),
  };
}

export interface SofiaGateway {
  readonly name: string;
  readonly profile: string;
  /** The proxy as Sofia uses it, e.g. "sip:sip.1und1.de;transport=udp". */
  readonly proxy: string;
  /** Registration state (GATEWAY_STATES; NOREG for a gateway that does not register). */
  readonly state: string;
  /**
   * "UP" or "DOWN". For a gateway that pings, the OPTIONS ping's verdict; for one that does not,
   * it only mirrors registration (sofia_reg.c: UP once REGED, DOWN after a failure, UP for a
   * gateway that neither registers nor pings).
   */
  readonly status: string;
  /** Whether the gateway sends OPTIONS pings (pingfreq > 0; `ping` is the next ping's time, not a flag). */
  readonly pinged: boolean;
  /** Seconds the last ping took (pingtime, milliseconds in FreeSWITCH). */
  readonly pingSeconds: number;
  readonly uptimeSeconds: number;
  readonly callsIn: number;
  readonly callsOut: number;
  readonly failedCallsIn: number;
  readonly failedCallsOut: number;
}

/** `sofia xmlstatus gateway`: every gateway of every running profile. */
export function parseSofiaGatewaysXmlStatus(reply: string): SofiaGateway[] {
  expectXml(reply, "gateways", "sofia xmlstatus gateway");
  return blocks(reply, "gateway").map((block) => {
    const f = fields(block);
    return {
      name: f.name ?? "",
      profile: f.profile ?? "",
      proxy: f.proxy ?? "",
      state: f.state ?? "",
      status: f.status ?? "",
      pinged: integer(f.pingfreq) > 0,
      pingSeconds: (Number.parseFloat(f.pingtime ?? "") || 0) / 1000,
      uptimeSeconds: integer(f["uptime-usec"]) / 1e6,
      callsIn: integer(f["calls-in"]),
      callsOut: integer(f["calls-out"]),
      failedCallsIn: integer(f["failed-calls-in"]),
      failedCallsOut: integer(f["failed-calls-out"]),
    };
  });
}

/** `show calls count`: "\n3 total.\n". */
export function parseCallsCount(reply: string): number {
  const m = /(\d+)\s+total\./.exec(reply);
  if (!m)
    throw new FreeswitchReplyError(
      `unexpected answer to "show calls count": ${reply.trim().slice(0, 200) || "(empty)"}`,
    );
  return Number(m[1]);
}

export interface CoreStatus {
  readonly uptimeSeconds: number;
  readonly ready: boolean;
  readonly version: string;
  /** Sessions (call legs) created since FreeSWITCH started. */
  readonly sessionsSinceStartup: number;
  readonly sessions: number;
  readonly sessionsPeak: number;
  readonly sessionsPeakFiveMin: number;
  /** Sessions per second now, the configured maximum, its peak and its last-5-minute peak. */
  readonly sps: number;
  readonly maxSps: number;
  readonly spsPeak: number;
  readonly spsPeakFiveMin: number;
  readonly maxSessions: number;
  readonly minIdleCpu: number;
  readonly idleCpu: number;
}

/** `status` (mod_commands.c status_function, plain text). */
export function parseStatus(reply: string): CoreStatus {
  const need = (pattern: RegExp) => {
    const m = pattern.exec(reply);
    if (!m)
      throw new FreeswitchReplyError(
        `unexpected answer to "status" (no match for ${pattern}): ${reply.trim().slice(0, 200) || "(empty)"}`,
      );
    return m;
  };
  const up = need(
    /^UP (\d+) years?, (\d+) days?, (\d+) hours?, (\d+) minutes?, (\d+) seconds?, (\d+) milliseconds?, (\d+) microseconds?/m,
  )
    .slice(1)
    .map(Number);
  const version = need(/^FreeSWITCH \(Version (.+)\) is (ready|not ready)/m);
  const since = need(/^(\d+) session\(s\) since startup/m);
  const now = need(/^(\d+) session\(s\) - peak (\d+), last 5min (\d+)/m);
  const sps = need(/^(\d+) session\(s\) per Sec out of max (\d+), peak (\d+), last 5min (\d+)/m);
  const max = need(/^(\d+) session\(s\) max/m);
  const cpu = need(/^min idle cpu ([\d.]+)\/([\d.]+)/m);
  const [yr, day, hr, min, sec, ms, us] = up;
  return {
    // switch_core_measure_time counts a year as 365 days.
    uptimeSeconds: (((yr * 365 + day) * 24 + hr) * 60 + min) * 60 + sec + ms / 1e3 + us / 1e6,
    ready: version[2] === "ready",
    version: version[1],
    sessionsSinceStartup: Number(since[1]),
    sessions: Number(now[1]),
    sessionsPeak: Number(now[2]),
    sessionsPeakFiveMin: Number(now[3]),
    sps: Number(sps[1]),
    maxSps: Number(sps[2]),
    spsPeak: Number(sps[3]),
    spsPeakFiveMin: Number(sps[4]),
    maxSessions: Number(max[1]),
    minIdleCpu: Number(cpu[1]),
    idleCpu: Number(cpu[2]),
  };
}
