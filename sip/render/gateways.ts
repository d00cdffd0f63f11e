/**
 * The directory documents the config API serves to mod_xml_curl. One function per answer, shared
 * by the API and the tests, so the shape matches what mod_sofia parses:
 * parse_domain_tag() reads <gateways> only from <user> elements that are direct children of
 * <domain> (sofia.c), so gateways nested under <groups> or <users> would be ignored silently.
 */
import type { DirectoryUser, GatewaySpec } from "../apiContract";
import type { Trunk } from "../model";
import { ACL_GATEWAYS } from "./acl";
import { appendParams, assertWritable, xmlDocument } from "./xml";

export function gatewaySpecFromTrunk(trunk: Trunk, password: string | undefined): GatewaySpec {
  return {
    name: trunk.name,
    profile: trunk.profile,
    proxy: trunk.proxy,
    outboundProxy: trunk.outboundProxy,
    realm: trunk.realm,
    register: trunk.register,
    username: trunk.username ?? trunk.callerId ?? trunk.name,
    password: trunk.register ? password : undefined,
    // IP-authenticated trunks present the account's number in From.
    fromUser: trunk.register ? undefined : trunk.callerId,
    fromDomain: trunk.fromDomain,
    callerIdInFrom: trunk.callerIdInFrom,
    expireSeconds: trunk.expireSeconds,
    retrySeconds: trunk.retrySeconds,
    // A REGISTER trunk's registration is its sign of life; an IP-authenticated one has none
    // (NOREG) unless it is pinged.
    pingSeconds: trunk.register ? undefined : trunk.pingSeconds,
    context: "public",
  };
}

export const PING_MAX = 3;
export const PING_MIN = 1;

/** A stable, comparable form: two specs with the same key need no killgw. */
export function gatewayKey(spec: GatewaySpec): string {
  return JSON.stringify(gatewayParams(spec));
}

export function gatewayParams(spec: GatewaySpec) {
  return [
    ["username", spec.username],
    ["password", spec.register ? spec.password : undefined],
    ["realm", spec.realm],
    ["proxy", spec.proxy],
    // outbound-proxy routes calls only. REGISTER and the OPTIONS ping follow register-proxy, else
    // they resolve `proxy` by DNS (sofia.c parse_gateways; sofia_reg.c sends both with
    // NUTAG_PROXY(register_sticky_proxy)). The same fixed address serves all three, so the
    // firewall-range check on the outbound proxy covers registration and ping too.
    ["outbound-proxy", spec.outboundProxy],
    ["register-proxy", spec.outboundProxy],
    ["register", spec.register],
    // Sofia answers a registrar's 401 only when the challenge comes from the gateway's proxy
    // (sofia_reg.c is_legitimate_gateway): it compares an IP literal proxy with the bracket-less
    // source address, so a bracketed IPv6 proxy never matches, and resolves a host name by DNS,
    // synchronously, on the thread every SIP event waits on (no DNS: all signalling stalls).
    // gw-auth-acl replaces that check with the trunks' source ranges, the firewall's own list.
    ["gw-auth-acl", spec.register ? ACL_GATEWAYS : undefined],
    ["from-user", spec.fromUser],
    ["from-domain", spec.fromDomain],
    ["caller-id-in-from", spec.callerIdInFrom],
    ["expire-seconds", spec.register ? spec.expireSeconds : undefined],
    ["retry-seconds", spec.retrySeconds],
    // OPTIONS ping: any answer but 408/503 counts. ping-max 3 with ping-min 1: the gateway goes
    // DOWN (and refuses outbound calls) after three unanswered pings in a row, not after one lost
    // datagram; a single answer brings it UP again.
    ["ping", spec.pingSeconds],
    ["ping-max", spec.pingSeconds !== undefined ? PING_MAX : undefined],
    ["ping-min", spec.pingSeconds !== undefined ? PING_MIN : undefined],
    // Calls down a registration arrive at our Contact; route them by the number dialled (To).
    ["extension", spec.register ? "auto_to_user" : undefined],
    ["context", spec.context],
  ] as const;
}

/** Answer to section=directory, purpose=gateways, profile=<name>: that profile's gateways only. */
export function renderGatewaysDirectory(domain: string, profile: string, gateways: readonly GatewaySpec[]): string {
  return xmlDocument("document", { type: "freeswitch/xml" }, (root) => {
    const d = root.ele("section", { name: "directory" }).ele("domain", { name: domain });
    const mine = gateways.filter((g) => g.profile === profile).sort((a, b) => (a.name < b.name ? -1 : 1));
    // A holder user for the profile's gateways; it has no password and cannot register.
    const gws = d.ele("user", { id: `gateways-${profile}` }).ele("gateways");
    for (const g of mine) appendParams(gws.ele("gateway", { name: g.name }), gatewayParams(g));
  });
}

/** Bytes mod_sofia's two passes below leave alone: printable ASCII except / : @ % " \\. */
const SAFE_IN_CALLER_ID_NAME = /^[\x20-\x7e]$/;
const CUT_BY_SOFIA = new Set(["/", ":", "@", "%", '"', "\\", "$"]);

/**
 * A caller-ID name as mod_sofia must receive it to put it on the wire intact. On every outgoing
 * leg sofia_outgoing_channel passes the name through switch_sanitize_number, which keeps only
 * what follows the last '/' or ':' and cuts at '@' ("Reception / IVR" goes out as " IVR"); the
 * From header is then built with check_decode (mod_sofia.h), which URL-decodes a name holding
 * a '%' and keeps only what lies between its first and last '"'. So a name that needs it is
 * written as a SIP quoted-string (inner '"' and '\\' escaped, RFC 3261 25.1), percent-encoded:
 * nothing in it can be cut, check_decode restores the quoted-string, and the quotes it strips are
 * our own. Non-ASCII letters travel as their UTF-8 bytes. Plain names stay as they are.
 */
export function sofiaCallerIdName(name: string): string {
  // Percent-encoding would carry anything; what XML or FreeSWITCH's loader must never see is still refused.
  assertWritable(name, "effective_caller_id_name");
  const chars = [...name];
  if (chars.every((c) => SAFE_IN_CALLER_ID_NAME.test(c) && !CUT_BY_SOFIA.has(c))) return name;
  const quoted = `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  let out = "";
  for (const byte of Buffer.from(quoted, "utf8")) {
    const c = String.fromCharCode(byte);
    out +=
      SAFE_IN_CALLER_ID_NAME.test(c) && !CUT_BY_SOFIA.has(c)
        ? c
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Answer to a user lookup (sip_auth, user_call, ...): that extension with its credentials.
 * `cacheMs` > 0 adds `cacheable="<ms>"` to the user: switch_xml_locate_user_merged (switch_xml.c)
 * then keeps the merged user in FreeSWITCH's user cache under key + id + domain for that long, and
 * `xml_flush_cache id <id> <domain>` drops it. Without the attribute nothing is cached.
 */
export function renderUserDirectory(domain: string, user: DirectoryUser, cacheMs = 0): string {
  return xmlDocument("document", { type: "freeswitch/xml" }, (root) => {
    const d = root.ele("section", { name: "directory" }).ele("domain", { name: domain });
    appendParams(d.ele("params"), [
      [
        "dial-string",
        "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}",
      ],
    ]);
    // A bare `cacheable` (no number) would cache for ever: always a number here.
    const u = d.ele("user", cacheMs > 0 ? { id: user.id, cacheable: String(Math.trunc(cacheMs)) } : { id: user.id });
    appendParams(u.ele("params"), [["password", user.password]]);
    appendParams(
      u.ele("variables"),
      [
        ["user_context", user.context],
        ["effective_caller_id_name", sofiaCallerIdName(user.displayName)],
        ["effective_caller_id_number", user.id],
        ["outbound_caller_id_number", user.outboundCallerId],
      ],
      "variable",
    );
  });
}

/** FreeSWITCH's "not found" answer: it then falls back to the (empty) static directory. */
export function renderNotFound(): string {
  return xmlDocument("document", { type: "freeswitch/xml" }, (root) => {
    root.ele("section", { name: "result" }).ele("result", { status: "not found" });
  });
}

/**
 * The gateways this stack hands to the config API: active trunks only. A REGISTER trunk is active
 * only in the stacks its `activeInStacks` names, so a stack cloned with `--copy-config-from prod`
 * serves no gateway for the copied trunk and cannot take over production's registration (and its
 * copied password never reaches the clone's API).
 */
export function activeGatewaySpecs(
  model: { readonly trunks: readonly Trunk[] },
  passwords: Readonly<Record<string, string>>,
): GatewaySpec[] {
  return model.trunks.filter((t) => t.active).map((t) => gatewaySpecFromTrunk(t, passwords[t.name]));
}
