/**
 * Optional DNS records in a Hetzner zone the stack may write to (telephony:dns.zone): A and AAAA
 * for the host name, and SRV records so `sip:user@domain` finds the server (RFC 3263, Locating
 * SIP Servers).
 *
 * Hetzner's zones have no NAPTR record type. SRV alone serves SIP clients: RFC 3263 lets a client
 * go straight to SRV when a domain has no NAPTR records, and many SIP clients look up only
 * _sip._udp and _sip._tcp and ignore NAPTR anyway.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { Profile } from "../sip/model";
import type { HostAddresses } from "../sip/renderedFile";
import type { StackNaming } from "./naming";

export interface DnsArgs {
  readonly naming: StackNaming;
  /** The zone's name, e.g. "xynap.de"; the zone itself is not managed here. */
  readonly zone: string;
  readonly ttl: number;
  /** The server's name (A/AAAA owner, SRV target), inside the zone. */
  readonly hostname: string;
  /** The SIP domain callers use (sip:user@domain): the SRV records' owner, inside the zone. */
  readonly sipDomain: string;
  readonly profiles: readonly Profile[];
  readonly addresses: pulumi.Input<HostAddresses>;
  /**
   * Hetzner Cloud API token of a project that holds only the zone (telephony:secrets.dnsToken).
   * The records are written with it, through a provider of their own, rather than with the
   * stack's hcloud:token: the same token sits on the host for ACME dns-01, and there it can change
   * this zone and nothing else. Undefined only where no secrets are read (offline, checks refuse
   * a stack with a zone and no token).
   */
  readonly token?: pulumi.Input<string>;
}

export interface SrvRecord {
  /** Owner relative to the zone, e.g. "_sip._udp" or "_sip._udp.sip". */
  readonly name: string;
  readonly service: "_sip._udp" | "_sip._tcp" | "_sips._tcp";
  /** "priority weight port target." */
  readonly value: string;
}

/** A name relative to its zone, "@" for the apex; undefined when it lies outside the zone. */
export function relativeName(fqdn: string, zone: string): string | undefined {
  const name = fqdn.toLowerCase().replace(/\.$/, "");
  const apex = zone.toLowerCase().replace(/\.$/, "");
  if (name === apex) return "@";
  return name.endsWith(`.${apex}`) ? name.slice(0, -(apex.length + 1)) : undefined;
}

/**
 * The profile SIP clients reach for the domain: the one that authenticates callers (extensions),
 * else the first with TLS, else the first.
 */
export function clientProfile(profiles: readonly Profile[]): Profile | undefined {
  return profiles.find((p) => p.authCalls) ?? profiles.find((p) => p.tlsPort !== undefined) ?? profiles[0];
}

/** SRV records (RFC 2782: priority weight port target, e.g. "10 0 5060 host."): UDP and TCP on the SIP port, TLS on the TLS port. */
export function srvRecords(args: Pick<DnsArgs, "zone" | "hostname" | "sipDomain" | "profiles">): SrvRecord[] {
  const owner = relativeName(args.sipDomain, args.zone);
  const profile = clientProfile(args.profiles);
  if (owner === undefined || !profile) return [];
  const target = `${args.hostname.replace(/\.$/, "")}.`;
  const at = (service: SrvRecord["service"]) => (owner === "@" ? service : `${service}.${owner}`);
  const records: SrvRecord[] = [
    { service: "_sip._udp", name: at("_sip._udp"), value: `10 0 ${profile.sipPort} ${target}` },
    { service: "_sip._tcp", name: at("_sip._tcp"), value: `10 0 ${profile.sipPort} ${target}` },
  ];
  if (profile.tlsPort !== undefined)
    records.push({ service: "_sips._tcp", name: at("_sips._tcp"), value: `10 0 ${profile.tlsPort} ${target}` });
  return records;
}

export class Dns extends pulumi.ComponentResource {
  readonly records: hcloud.ZoneRrset[] = [];
  /** "name type value" lines for the stack outputs. */
  readonly summary: pulumi.Output<string[]>;

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:hcloud:Dns", name, {}, opts);
    const host = relativeName(args.hostname, args.zone);
    if (host === undefined) throw new Error(`host name ${args.hostname} is not inside the DNS zone ${args.zone}`);
    const addresses = pulumi.output(args.addresses);
    const srv = srvRecords(args);
    if (relativeName(args.sipDomain, args.zone) === undefined) {
      // A constructor cannot await; the promise never rejects (Pulumi falls back to stderr) and its
      // runtime keeps the program alive until the engine has the message.
      void pulumi.log.warn(
        `SIP domain ${args.sipDomain} is not inside the DNS zone ${args.zone}: no SRV records are written`,
        this,
      );
    }

    const provider = new hcloud.Provider(
      `${name}-zone-project`,
      { token: args.token === undefined ? undefined : pulumi.secret(args.token) },
      { parent: this },
    );
    const rrset = (key: string, rrName: string, type: string, value: pulumi.Input<string>) => {
      const record = new hcloud.ZoneRrset(
        `${name}-${key}`,
        { zone: args.zone, name: rrName, type, ttl: args.ttl, records: [{ value }], labels: { ...args.naming.labels } },
        { parent: this, provider },
      );
      this.records.push(record);
      return pulumi.interpolate`${rrName} ${type} ${value}`;
    };

    const lines = [
      rrset("a", host, "A", addresses.ipv4),
      rrset("aaaa", host, "AAAA", addresses.ipv6),
      ...srv.map((r) => rrset(`srv-${r.service.replace(/^_/, "").replace(/\._/g, "-")}`, r.name, "SRV", r.value)),
    ];
    this.summary = pulumi.all(lines);
    this.registerOutputs({ summary: this.summary });
  }
}
