/**
 * The resolved stack model: config parsed by the schema, presets merged, names attached,
 * everything sorted so that renderers are deterministic. This module builds it and knows nothing
 * of the checks (checks.ts reads the model); sip/stack.ts composes the two, so a model reaches a
 * caller only when every check passes.
 */
import type { z } from "zod";
import { isBracketed, parseIp } from "./net";
import { PRESETS, type PresetName } from "./presets";
import { formatKey, problem, StackConfigError, type Problem } from "./problems";
import {
  E164,
  stackConfigSchema,
  type ExtensionConfig,
  type NumberConfig,
  type ProfileConfig,
  type SignalingPort,
  type StackConfig,
  type StandbyConfig,
} from "./schema";

export interface Profile extends ProfileConfig {
  readonly name: string;
  /** Set on the IPv4 twin of a `bind: dual` profile: the name of that profile (its config key). */
  readonly ipv4Of?: string;
}

/** The Sofia profile that carries a `bind: dual` profile's IPv4 listeners. */
export const ipv4TwinName = (name: string) => `${name}-ipv4`;

/**
 * A Sofia profile binds one address, and `::` listens on IPv6 only; a dual profile therefore runs
 * as itself on the server's IPv6 plus a twin on its IPv4 with the same settings, IPv4 media and
 * ipv4SipPort (the TLS and WSS ports stay the same on both families).
 */
function expandProfile(name: string, p: ProfileConfig): Profile[] {
  if (p.bind !== "dual") return [{ ...p, name }];
  const { ipv4SipPort, ...settings } = p;
  return [
    { ...p, name },
    {
      ...settings,
      name: ipv4TwinName(name),
      bind: "ipv4",
      mediaFamily: "ipv4",
      sipPort: ipv4SipPort ?? p.sipPort,
      ipv4Of: name,
    },
  ];
}

export interface Trunk {
  /** Also the Sofia gateway name: unique stack-wide so `killgw` is never ambiguous. */
  readonly name: string;
  readonly provider: PresetName;
  readonly profile: string;
  readonly family: "ipv4" | "ipv6";
  readonly proxy: string;
  /** IPv6 literals always bracketed. */
  readonly outboundProxy?: string;
  readonly realm?: string;
  readonly register: boolean;
  readonly username?: string;
  readonly fromDomain?: string;
  readonly callerId?: string;
  readonly callerIdInFrom?: boolean;
  readonly expireSeconds: number;
  readonly retrySeconds: number;
  /** Seconds between OPTIONS pings to an IP-authenticated trunk. */
  readonly pingSeconds: number;
  readonly sourceRanges: readonly string[];
  readonly signaling: readonly SignalingPort[];
  /** IP-auth trunks: the IPv4 the provider has on file for us (checked against our source IPv4). */
  readonly whitelistedIpv4?: string;
  readonly activeInStacks?: readonly string[];
  /** False for a REGISTER trunk in a stack its config does not name (e.g. a fresh clone). */
  readonly active: boolean;
}

export interface Extension extends ExtensionConfig {
  readonly id: string;
}

export interface StackModel {
  readonly stack: string;
  readonly environment: string;
  readonly production: boolean;
  readonly host: StackConfig["host"];
  readonly profiles: readonly Profile[];
  readonly trunks: readonly Trunk[];
  readonly numbers: readonly NumberConfig[];
  readonly extensions: readonly Extension[];
  readonly rtp: StackConfig["rtp"];
  readonly firewall: StackConfig["firewall"];
  readonly freeswitch: StackConfig["freeswitch"];
  readonly dns: StackConfig["dns"];
  /** Post-deploy verification, resolved: on by default in production. */
  readonly verify: { readonly enabled: boolean; readonly timeoutSeconds: number };
  readonly tls: Tls;
  readonly rotation: StackConfig["rotation"];
  /** Disruptive restarts wait up to maintenance.drainSeconds for calls to end (sip/drain.ts). */
  readonly maintenance: StackConfig["maintenance"];
  readonly alerts: StackConfig["alerts"];
  /** A second host that takes over (sip/standby.ts); absent without standby.enabled. */
  readonly standby?: StandbyConfig;
  /** True when host.hostname is set and this stack is named in host.hostnameOwnedBy. */
  readonly ownsHostname: boolean;
}

/**
 * The host name this stack may claim (DNS records, reverse DNS, ACME certificate): undefined when
 * there is none, or when it belongs to other stacks (a copied config; the checks refuse that too).
 */
export function claimedHostname(model: Pick<StackModel, "host" | "ownsHostname">): string | undefined {
  return model.ownsHostname ? model.host.hostname : undefined;
}

export interface Tls {
  readonly mode: "acme" | "self-signed" | "off";
  readonly email?: string;
  /** Set for acme only. */
  readonly challenge?: "dns-01" | "http-01";
  readonly acmeServer: string;
}

function resolveTls(config: StackConfig): Tls {
  const { mode, challenge, clientImage: _obsolete, ...rest } = config.tls;
  const resolved = mode ?? (config.host.hostname ? "acme" : "self-signed");
  return {
    ...rest,
    mode: resolved,
    challenge: resolved === "acme" ? (challenge ?? (config.dns ? "dns-01" : "http-01")) : undefined,
  };
}

/** What sip/stack.ts's buildModel is given besides the raw config; the checks read it too. */
export interface BuildContext {
  readonly stack: string;
  /**
   * Paths set in `telephony:secrets` (e.g. "trunkPasswords.oneandone", "acmeDnsToken"), or
   * "unknown" when the secrets cannot be read (offline rendering): they are then checked at deploy.
   */
  readonly secretPaths: ReadonlySet<string> | "unknown";
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Accepts a bare IPv6 outbound proxy and emits it bracketed, as Sofia needs. */
function normalizeProxy(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ip = parseIp(value);
  return ip?.family === "ipv6" && !isBracketed(value) ? `[${value}]` : value;
}

export function resolveTrunk(name: string, config: StackConfig["trunks"][string], stack: string): Trunk {
  const preset = PRESETS[config.preset].fields;
  const merged = { ...preset, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) };
  const register = merged.register ?? false;
  return {
    name,
    provider: config.preset,
    profile: merged.profile ?? "",
    family: merged.family ?? "ipv4",
    proxy: merged.proxy ?? "",
    outboundProxy: normalizeProxy(merged.outboundProxy),
    realm: merged.realm,
    register,
    username: merged.username,
    fromDomain: merged.fromDomain,
    callerId: merged.callerId,
    callerIdInFrom: merged.callerIdInFrom,
    expireSeconds: merged.expireSeconds ?? 600,
    retrySeconds: merged.retrySeconds ?? 30,
    pingSeconds: merged.pingSeconds ?? 30,
    sourceRanges: merged.sourceRanges ?? [],
    signaling: merged.signaling ?? [],
    ...(config.whitelistedIpv4 !== undefined ? { whitelistedIpv4: config.whitelistedIpv4 } : {}),
    activeInStacks: config.activeInStacks,
    active: !register || (config.activeInStacks ?? []).includes(stack),
  };
}

/** The value the user wrote at `path`, or undefined. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

const describeType = (value: unknown) =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "a list"
      : typeof value === "object"
        ? "a map"
        : `a ${typeof value} (${JSON.stringify(value)})`;
/** Keys whose value is a phone number: a YAML reader turns an unquoted one into a number. */
const PHONE_NUMBER_KEY = /(^|\.)(number|callerId|outboundCallerId)$/;

function wrongTypeFix(key: string, expected: string, input: unknown): string {
  const base = `${key} must be ${expected === "array" ? "a list" : expected === "object" ? "a map" : `a ${expected}`}, not ${describeType(input)}`;
  if (expected === "string" && (typeof input === "number" || typeof input === "boolean")) {
    // YAML reads +493455667290 as the number 493455667290: the + is gone before we see it.
    const e164 = PHONE_NUMBER_KEY.test(key);
    const suggestion = e164 && E164.test(`+${input}`) ? `"+${input}"` : `"${input}"`;
    return `${base}: quote it in the YAML, e.g. ${suggestion}${e164 ? ", written in E.164 (+, country code and number, no spaces)" : ""}`;
  }
  return `${base}; see docs/configuration.md`;
}

function schemaProblems(error: z.ZodError, raw: unknown): Problem[] {
  return error.issues.map((issue) => {
    const key = formatKey(issue.path) || "(root)";
    const input = valueAt(raw, issue.path);
    const fix =
      issue.code === "custom" && typeof issue.params?.fix === "string"
        ? issue.params.fix
        : issue.code === "unrecognized_keys"
          ? `remove or correct ${issue.keys.map((k) => `"${k}"`).join(", ")}; see docs/configuration.md`
          : issue.code === "invalid_type" && input === undefined
            ? `set ${key}; see docs/configuration.md`
            : issue.code === "invalid_type"
              ? wrongTypeFix(key, issue.expected, input)
              : `correct ${key}; see docs/configuration.md`;
    return problem(key, issue.message, fix);
  });
}

/** Parses a stack's raw configuration with the schema. Throws StackConfigError listing every shape problem. */
export function parseStackConfig(raw: unknown, stack: string): StackConfig {
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) throw new StackConfigError(stack, schemaProblems(parsed.error, raw));
  return parsed.data;
}

/** The model of a parsed configuration, unchecked: sip/stack.ts's buildModel runs the checks on it. */
export function resolveModel(config: StackConfig, stack: string): StackModel {
  return {
    stack,
    environment: config.environment,
    production: config.environment === "production",
    host: config.host,
    profiles: Object.entries(config.profiles)
      .flatMap(([name, p]) => expandProfile(name, p))
      .sort(byName),
    trunks: Object.entries(config.trunks)
      .map(([name, t]) => resolveTrunk(name, t, stack))
      .sort(byName),
    // Config order, not sorted: problems name numbers[i] as the user wrote them.
    numbers: config.numbers,
    extensions: Object.entries(config.extensions)
      .map(([id, e]) => ({ ...e, id }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    rtp: config.rtp,
    firewall: config.firewall,
    freeswitch: config.freeswitch,
    dns: config.dns,
    tls: resolveTls(config),
    verify: {
      enabled: config.verify.enabled ?? config.environment === "production",
      timeoutSeconds: config.verify.timeoutSeconds,
    },
    rotation: config.rotation,
    maintenance: config.maintenance,
    alerts: config.alerts,
    ...(config.standby?.enabled ? { standby: config.standby } : {}),
    ownsHostname: config.host.hostname !== undefined && (config.host.hostnameOwnedBy ?? []).includes(stack),
  };
}
