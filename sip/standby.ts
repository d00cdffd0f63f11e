/**
 * The standby pair, as data: which host serves first, where each sits on the private network that
 * carries VRRP, and in which order a restarting change reaches them. Pure: the renderers
 * (keepalived, its scripts), the checks, the components and `npm start` all read it from here.
 *
 * Two hosts serve the same configuration. The public SIP and media addresses are Hetzner floating
 * IPs (a primary IP moves only while its server is off); keepalived on each host, unicast over the
 * private network, decides which host holds them, and its notify script assigns them to itself
 * through the Hetzner API. The stack never moves them after the first assignment.
 */
import * as ipaddr from "ipaddr.js";
import type { StackModel } from "./model";
import { ipv6HostAddress } from "./net";

/** The two hosts by what they are at the first deploy; after a takeover either may be active. */
export type StandbyHostKey = "primary" | "standby";
export const STANDBY_HOST_KEYS: readonly StandbyHostKey[] = ["primary", "standby"];

export interface StandbyPlan {
  /** The private IPv4 network VRRP runs over (CIDR). */
  readonly network: string;
  readonly virtualRouterId: number;
  /** The Hetzner Cloud API base URL the notify script calls. */
  readonly hetznerApi: string;
  /** Each host's address on the private network: the primary on the network's .2, the standby on .3. */
  readonly privateIpv4: Readonly<Record<StandbyHostKey, string>>;
  /** Holds the floating addresses after the first deploy. */
  readonly firstActive: StandbyHostKey;
  /**
   * The order a restarting change (an image, a secret) reaches the hosts, each verified before the
   * next: the host that is standby at the first deploy goes first, so a bad image stops there.
   */
  readonly rolloutOrder: readonly StandbyHostKey[];
}

/** The n-th address of an IPv4 network (n = 2 → 10.77.0.2 for 10.77.0.0/24). */
export function nthAddress(cidr: string, n: number): string {
  const [base, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const size = 2 ** (32 - prefix);
  if (n <= 0 || n >= size - 1) throw new Error(`${cidr} has no host address number ${n}`);
  const start = ipaddr.IPv4.networkAddressFromCIDR(`${base.toString()}/${prefix}`).toByteArray();
  const value = ((start[0] << 24) >>> 0) + (start[1] << 16) + (start[2] << 8) + start[3] + n;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** The pair's plan, or undefined without standby (one host, as before). */
export function standbyPlan(model: Pick<StackModel, "standby">): StandbyPlan | undefined {
  const standby = model.standby;
  if (!standby) return undefined;
  return {
    network: standby.network,
    virtualRouterId: standby.virtualRouterId,
    hetznerApi: standby.hetznerApi.replace(/\/+$/, ""),
    privateIpv4: { primary: nthAddress(standby.network, 2), standby: nthAddress(standby.network, 3) },
    firstActive: "primary",
    rolloutOrder: ["standby", "primary"],
  };
}

/** The other host of the pair. */
export const peerOf = (key: StandbyHostKey): StandbyHostKey => (key === "primary" ? "standby" : "primary");

/**
 * What one host of the pair needs beyond the shared bundle: which host it is, and the Hetzner IDs
 * its notify script assigns the floating IPs with (known once the resources exist; placeholders
 * offline). The bundle's addresses are then the floating ones: the profiles bind them.
 */
export interface StandbyHostFacts {
  readonly key: StandbyHostKey;
  /** This host's Hetzner Cloud server ID (the floating IPs are assigned to it). */
  readonly serverId: string;
  readonly floatingIpv4Id: string;
  readonly floatingIpv6Id: string;
}

/** The role keepalived's notify script writes to HA_PATHS.state (one JSON object). */
export type HaRole = "active" | "standby" | "fault";
export interface HaState {
  readonly role: HaRole;
  /** ISO time of the transition. */
  readonly since: string;
  /** keepalived's reason, e.g. "MASTER", "BACKUP", "FAULT", "STOP". */
  readonly reason: string;
  readonly host: StandbyHostKey;
}

/**
 * host.provider existing: the floating addresses the profiles bind (standby.floatingIps), or
 * undefined when they are not configured (the checks then name the key).
 */
export function configuredFloatingAddresses(
  model: Pick<StackModel, "standby">,
): { readonly ipv4: string; readonly ipv6: string } | undefined {
  const ips = model.standby?.floatingIps;
  if (!ips) return undefined;
  return { ipv4: ips.ipv4, ipv6: ipv6HostAddress(ips.ipv6) };
}

/**
 * host.provider existing: each host's facts from standby.serverIds and standby.floatingIps; with
 * provider hetzner (or those keys absent) the IDs exist only once the stack created the
 * resources, and `unknown` stands in for them (offline rendering).
 */
export function configuredHostFacts(
  model: Pick<StackModel, "standby">,
  key: StandbyHostKey,
  unknown: string,
): StandbyHostFacts {
  const standby = model.standby;
  const id = (value: number | undefined) => (value === undefined ? unknown : String(value));
  return {
    key,
    serverId: id(standby?.serverIds?.[key]),
    floatingIpv4Id: id(standby?.floatingIps?.ipv4Id),
    floatingIpv6Id: id(standby?.floatingIps?.ipv6Id),
  };
}

/**
 * Shell that prints the role role.json (at `statePath`) records, or nothing when there is none yet:
 * what the deploy's steps on the host read it with (the verification, the enable steps).
 */
export function readRoleCommand(statePath: string): string {
  return `sed -n 's/.*"role"[[:space:]]*:[[:space:]]*"\\([a-z]*\\)".*/\\1/p' ${statePath} 2>/dev/null | head -n 1`;
}
