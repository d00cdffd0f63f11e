/**
 * The standby pair's Hetzner side and its enable steps (sip/standby.ts holds the plan as data):
 * the floating IPs carriers see, the private network keepalived's VRRP adverts travel over, the
 * spread placement group that keeps the two servers on different physical hosts, and the two
 * remote steps that let each host take part in the election, primary first.
 *
 * The stack assigns the floating IPs once, at creation, to the primary server. From then on
 * keepalived's notify script moves them (Hetzner API), so the stack ignores their assignment: a
 * refresh after a takeover shows the standby's server, and the next `up` changes nothing.
 */
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { HA_PATHS } from "../sip/hostLayout";
import type { HostAddresses } from "../sip/renderedFile";
import { readRoleCommand, type HaRole, type StandbyHostKey } from "../sip/standby";
import { ipv6HostAddress } from "../sip/net";
import { hetznerIpAddresses, type PublicAddresses } from "./addresses";
import type { SshConnection } from "./hostStep";
import type { StackNaming } from "./naming";

/** Hetzner's network zones by location: a subnet serves only the servers of its zone. */
const NETWORK_ZONES: Readonly<Record<string, string>> = {
  fsn1: "eu-central",
  nbg1: "eu-central",
  hel1: "eu-central",
  ash: "us-east",
  hil: "us-west",
  sin: "ap-southeast",
};

/** The network zone of a Hetzner location (fsn1 → eu-central); throws for a location Hetzner has no zone for here. */
export function networkZoneOf(location: string): string {
  const zone = NETWORK_ZONES[location];
  if (!zone)
    throw new Error(
      `host.location "${location}" has no known Hetzner network zone for standby's private network (known: ${Object.keys(NETWORK_ZONES).join(", ")})`,
    );
  return zone;
}

export interface StandbyInfrastructureArgs {
  readonly naming: StackNaming;
  readonly location: string;
  /** standby.network: the private IPv4 network VRRP runs over. */
  readonly network: string;
}

/** The placement group both servers join and the private network they exchange VRRP over. */
export class StandbyInfrastructure extends pulumi.ComponentResource {
  readonly placementGroupId: pulumi.Output<number>;
  readonly network: hcloud.Network;
  readonly subnet: hcloud.NetworkSubnet;

  constructor(name: string, args: StandbyInfrastructureArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:hcloud:StandbyInfrastructure", name, {}, opts);
    const networkZone = networkZoneOf(args.location);
    // spread: Hetzner puts the two servers on different physical hosts, so one hardware failure
    // cannot take both.
    const placementGroup = new hcloud.PlacementGroup(
      `${name}-placement`,
      { name: args.naming.name("standby"), type: "spread", labels: { ...args.naming.labels } },
      { parent: this },
    );
    this.placementGroupId = placementGroup.id.apply(Number);
    this.network = new hcloud.Network(
      `${name}-network`,
      { name: args.naming.name("vrrp"), ipRange: args.network, labels: { ...args.naming.labels } },
      { parent: this },
    );
    this.subnet = new hcloud.NetworkSubnet(
      `${name}-subnet`,
      { networkId: this.network.id.apply(Number), type: "cloud", networkZone, ipRange: args.network },
      { parent: this },
    );
    this.registerOutputs({ placementGroupId: this.placementGroupId });
  }
}

/** The floating addresses (what carriers see) with the Hetzner IDs the hosts assign them by. */
export interface FloatingAddresses extends PublicAddresses {
  readonly ipv6Network: pulumi.Output<string>;
  readonly ipv4Id: pulumi.Output<string>;
  readonly ipv6Id: pulumi.Output<string>;
}

export interface FloatingIpsArgs {
  readonly naming: StackNaming;
  /** The floating IPs' home location: the servers' location (routing stays inside it). */
  readonly location: string;
  /** The server they are assigned to at creation (the primary); keepalived moves them afterwards. */
  readonly firstServerId: pulumi.Input<string>;
  /** Production: Hetzner-side delete protection and Pulumi's protect. */
  readonly protect: boolean;
  /** When set, reverse DNS of both floating addresses names it. */
  readonly hostname?: string;
}

/** Two Hetzner floating IPs (IPv4, and an IPv6 /64 whose …::1 the hosts answer on). */
export class FloatingIps extends pulumi.ComponentResource implements FloatingAddresses {
  readonly ipv4: hcloud.FloatingIp;
  readonly ipv6: hcloud.FloatingIp;
  readonly ipv4Address: pulumi.Output<string>;
  readonly ipv6Address: pulumi.Output<string>;
  readonly ipv6Network: pulumi.Output<string>;
  readonly hostAddresses: pulumi.Output<HostAddresses>;
  readonly ipv4Id: pulumi.Output<string>;
  readonly ipv6Id: pulumi.Output<string>;

  constructor(name: string, args: FloatingIpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:hcloud:FloatingIps", name, {}, opts);
    const floatingIp = (family: "ipv4" | "ipv6") =>
      new hcloud.FloatingIp(
        `${name}-${family}`,
        {
          name: args.naming.name(`floating-${family}`),
          type: family,
          homeLocation: args.location,
          serverId: pulumi.output(args.firstServerId).apply(Number),
          deleteProtection: args.protect,
          labels: { ...args.naming.labels, family },
        },
        // The first assignment only: after it, keepalived's notify script owns it (a takeover must
        // not be undone by the next `up`).
        { parent: this, protect: args.protect, ignoreChanges: ["serverId"] },
      );
    this.ipv4 = floatingIp("ipv4");
    this.ipv6 = floatingIp("ipv6");
    this.ipv4Id = this.ipv4.id;
    this.ipv6Id = this.ipv6.id;
    // Known only once each exists, as for the primary IPs (a targeted up may leave them out).
    const addresses = hetznerIpAddresses(this.ipv4, this.ipv6);
    this.ipv4Address = addresses.ipv4Address;
    this.ipv6Network = addresses.ipv6Network;
    this.ipv6Address = addresses.ipv6Address;
    this.hostAddresses = addresses.hostAddresses;

    if (args.hostname) {
      new hcloud.Rdns(
        `${name}-ipv4-ptr`,
        { floatingIpId: this.ipv4.id.apply(Number), ipAddress: this.ipv4Address, dnsPtr: args.hostname },
        { parent: this },
      );
      new hcloud.Rdns(
        `${name}-ipv6-ptr`,
        { floatingIpId: this.ipv6.id.apply(Number), ipAddress: this.ipv6Address, dnsPtr: args.hostname },
        { parent: this },
      );
    }
    this.registerOutputs({ ipv4Address: this.ipv4Address, ipv6Address: this.ipv6Address });
  }
}

/** host.provider existing: the floating IPs the user created, from standby.floatingIps. */
export function configuredFloatingAddresses(floating: {
  readonly ipv4: string;
  readonly ipv6: string;
  readonly ipv4Id: number;
  readonly ipv6Id: number;
}): FloatingAddresses {
  const ipv6 = ipv6HostAddress(floating.ipv6);
  return {
    ipv4Address: pulumi.output(floating.ipv4),
    ipv6Address: pulumi.output(ipv6),
    ipv6Network: pulumi.output(floating.ipv6),
    hostAddresses: pulumi.output({ ipv4: floating.ipv4, ipv6 }),
    ipv4Id: pulumi.output(String(floating.ipv4Id)),
    ipv6Id: pulumi.output(String(floating.ipv6Id)),
  };
}

/** How long an enable step waits for keepalived to report the expected role. */
export const HA_ENABLE_TIMEOUT_SECONDS = 90;

/**
 * Lets a host take part in the election (creates HA_PATHS.enabled, which the track script needs)
 * and waits until keepalived's notify script has written the expected role. The primary expects
 * active (nobody else is enabled yet, so it takes the addresses); the standby expects standby.
 *
 * A primary server replaced after a takeover finds the standby active: it then stays standby for
 * the whole wait, which is accepted (nopreempt: it does not take the addresses back).
 */
export function haEnableCommand(expected: Exclude<HaRole, "fault">, timeoutSeconds = HA_ENABLE_TIMEOUT_SECONDS) {
  const roleOf = readRoleCommand(HA_PATHS.state);
  return [
    "set -eu",
    `install -d -m 0755 ${HA_PATHS.dir}`,
    `touch ${HA_PATHS.enabled}`,
    `deadline=$(( $(date +%s) + ${timeoutSeconds} ))`,
    'role=""',
    'while [ "$(date +%s)" -lt "$deadline" ]; do',
    `  role=$(${roleOf})`,
    `  if [ "$role" = "${expected}" ]; then echo "ha: this host is ${expected}"; exit 0; fi`,
    "  sleep 2",
    "done",
    ...(expected === "active"
      ? [
          'if [ "$role" = "standby" ]; then echo "ha: this host is standby: its peer holds the floating IPs (a takeover happened before)"; exit 0; fi',
        ]
      : []),
    `echo "ha: after ${timeoutSeconds}s this host's role is '\${role:-none}' (${HA_PATHS.state}), expected ${expected}: see journalctl -u keepalived and ${HA_PATHS.check}" >&2`,
    "exit 1",
  ].join("\n");
}

export interface HaEnableArgs {
  readonly key: StandbyHostKey;
  readonly connection: SshConnection;
  /** Re-run on a new server only: an `up` after a takeover changes nothing. */
  readonly serverId: pulumi.Input<string>;
  readonly after: readonly pulumi.Resource[];
}

/** `ha-enable-<key>`: create only, so it runs once per server. */
export function haEnable(args: HaEnableArgs): command.remote.Command {
  return new command.remote.Command(
    `ha-enable-${args.key}`,
    {
      connection: args.connection,
      create: haEnableCommand(args.key === "primary" ? "active" : "standby"),
      triggers: [args.serverId],
      logging: "stderr",
    },
    { dependsOn: [...args.after] },
  );
}
