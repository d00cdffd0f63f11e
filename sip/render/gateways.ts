/**
 * The directory documents the config API serves to mod_xml_curl. One function per answer, shared
 * by the API and the tests, so the shape matches what mod_sofia parses:
 * parse_domain_tag() reads <gateways> only from <user> elements that are direct children of
 * <domain> (sofia.c), so gateways nested under <groups> or <users> would be ignored silently.
 */
import type { Trunk } from "../model";
import { appendParams, xmlDocument } from "./xml";

/** What Sofia needs to run one gateway; the API stores these (password encrypted at rest). */
export interface GatewaySpec {
  readonly name: string;
  readonly profile: string;
  readonly proxy: string;
  readonly outboundProxy?: string;
  readonly realm?: string;
  readonly register: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly fromUser?: string;
  readonly fromDomain?: string;
  readonly callerIdInFrom?: boolean;
  readonly expireSeconds: number;
  readonly retrySeconds: number;
  readonly context: string;
}

export interface DirectoryUser {
  readonly id: string;
  readonly password: string;
  readonly displayName: string;
  readonly outboundCallerId?: string;
  readonly context: string;
}

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
    context: "public",
  };
}

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
    ["outbound-proxy", spec.outboundProxy],
    ["register", spec.register],
    ["from-user", spec.fromUser],
    ["from-domain", spec.fromDomain],
    ["caller-id-in-from", spec.callerIdInFrom],
    ["expire-seconds", spec.register ? spec.expireSeconds : undefined],
    ["retry-seconds", spec.retrySeconds],
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

/** Answer to a user lookup (sip_auth, user_call, ...): that extension with its credentials. */
export function renderUserDirectory(domain: string, user: DirectoryUser): string {
  return xmlDocument("document", { type: "freeswitch/xml" }, (root) => {
    const d = root.ele("section", { name: "directory" }).ele("domain", { name: domain });
    appendParams(d.ele("params"), [["dial-string", "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}"]]);
    const u = d.ele("user", { id: user.id });
    appendParams(u.ele("params"), [["password", user.password]]);
    appendParams(
      u.ele("variables"),
      [
        ["user_context", user.context],
        ["effective_caller_id_name", user.displayName],
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
export function activeGatewaySpecs(model: { readonly trunks: readonly Trunk[] }, passwords: Readonly<Record<string, string>>): GatewaySpec[] {
  return model.trunks.filter((t) => t.active).map((t) => gatewaySpecFromTrunk(t, passwords[t.name]));
}
