/**
 * The host's stable addresses: a Hetzner primary IPv4 and IPv6 that outlive any server. Plusnet
 * authenticates by source IPv4, so that address must never change by accident: auto-delete is off
 * (with it on, replacing the server would delete the IP), production protects both, and an
 * existing primary IP can be adopted by its ID. Reverse DNS is set for both when a host name is.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { ipv6HostAddress } from "../sip/net";
import type { HostAddresses } from "../sip/renderedFile";
import type { StackNaming } from "./naming";

export interface AddressesArgs {
  readonly naming: StackNaming;
  /** Hetzner location (fsn1, nbg1, hel1, ...): a primary IP can only go to a server there. */
  readonly location: string;
  /** Protect both IPs: `pulumi destroy` and a replacement must not release them. */
  readonly protect: boolean;
  /** When set, PTR records for both addresses point here. */
  readonly hostname?: string;
  /** Adopt existing primary IPs (Hetzner IDs) instead of creating new ones. */
  readonly existingIds?: { readonly ipv4?: string; readonly ipv6?: string };
}

/** A Hetzner IP resource: a primary IP or a floating IP, which report their addresses alike. */
interface HetznerIp {
  readonly id: pulumi.Output<string>;
  readonly ipAddress: pulumi.Output<string>;
  readonly ipNetwork: pulumi.Output<string>;
}

/**
 * `value`, known only once `ip` exists. A `pulumi up --target` that leaves an IP out (say, on a
 * fresh stack) hands the program `undefined` for its outputs, as if known, but leaves its ID
 * unknown; tied to the ID, everything derived from the address waits instead of failing on it
 * (the engine refuses to create anything that depends on an untargeted new resource anyway).
 */
function existing<T>(ip: HetznerIp, value: pulumi.Output<T>) {
  return pulumi.all([ip.id, value]).apply(([, v]) => v);
}

/**
 * The addresses of an IPv4 and an IPv6 Hetzner IP (primary or floating): the IPv4, the routed /64
 * and the address the host answers on in it (…::1, not the network), and the pair the renderers
 * take. Always from the resources' outputs, never literals.
 */
export function hetznerIpAddresses(ipv4: HetznerIp, ipv6: HetznerIp) {
  const ipv4Address = existing(ipv4, ipv4.ipAddress);
  const ipv6Network = existing(ipv6, pulumi.all([ipv6.ipNetwork, ipv6.ipAddress])).apply(
    ([network, address]) => network || `${address.split("/")[0]}/64`,
  );
  const ipv6Address = existing(ipv6, pulumi.all([ipv6.ipAddress, ipv6.ipNetwork])).apply(([address, network]) =>
    ipv6HostAddress(address, network),
  );
  const hostAddresses = pulumi
    .all([ipv4Address, ipv6Address])
    .apply(([v4, v6]): HostAddresses => ({ ipv4: v4, ipv6: v6 }));
  return { ipv4Address, ipv6Network, ipv6Address, hostAddresses };
}

/** The host's public addresses, wherever they come from (primary IPs, or config for a machine you bring). */
export interface PublicAddresses {
  readonly ipv4Address: pulumi.Output<string>;
  readonly ipv6Address: pulumi.Output<string>;
  /** Known for Hetzner primary IPs only. */
  readonly ipv6Network?: pulumi.Output<string>;
  readonly hostAddresses: pulumi.Output<HostAddresses>;
}

export class Addresses extends pulumi.ComponentResource implements PublicAddresses {
  readonly ipv4: hcloud.PrimaryIp;
  readonly ipv6: hcloud.PrimaryIp;
  /** The server's public IPv4: what IP-auth providers whitelist. */
  readonly ipv4Address: pulumi.Output<string>;
  /** The address the server answers on (…::1), not the network. */
  readonly ipv6Address: pulumi.Output<string>;
  /** The routed /64. */
  readonly ipv6Network: pulumi.Output<string>;
  /** What the renderers take: always from these resources' outputs, never literals. */
  readonly hostAddresses: pulumi.Output<HostAddresses>;
  readonly ipv4Id: pulumi.Output<number>;
  readonly ipv6Id: pulumi.Output<number>;

  constructor(name: string, args: AddressesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:hcloud:Addresses", name, {}, opts);

    const primaryIp = (family: "ipv4" | "ipv6") =>
      new hcloud.PrimaryIp(
        `${name}-${family}`,
        {
          name: args.naming.name(family),
          type: family,
          location: args.location,
          // No assigneeType: the provider wants it only together with assigneeId (and warns
          // otherwise). The server attaches the IP through its publicNets, so the IP names none.
          // Never true: Hetzner would delete the IP together with the server it is attached to,
          // and a replaced server would come back on a different address.
          autoDelete: false,
          // Hetzner-side protection too, so the console or API cannot delete a production IP.
          deleteProtection: args.protect,
          labels: { ...args.naming.labels, family },
        },
        {
          parent: this,
          protect: args.protect,
          // Adoption: Pulumi reads the existing IP and takes it over. Type and location must match
          // it (they force replacement, which protect then refuses); name and labels are updated.
          import: args.existingIds?.[family],
        },
      );
    this.ipv4 = primaryIp("ipv4");
    this.ipv6 = primaryIp("ipv6");

    this.ipv4Id = this.ipv4.id.apply(Number);
    this.ipv6Id = this.ipv6.id.apply(Number);
    const addresses = hetznerIpAddresses(this.ipv4, this.ipv6);
    this.ipv4Address = addresses.ipv4Address;
    this.ipv6Network = addresses.ipv6Network;
    this.ipv6Address = addresses.ipv6Address;
    this.hostAddresses = addresses.hostAddresses;

    if (args.hostname) {
      new hcloud.Rdns(
        `${name}-ipv4-ptr`,
        { primaryIpId: this.ipv4Id, ipAddress: this.ipv4Address, dnsPtr: args.hostname },
        { parent: this },
      );
      new hcloud.Rdns(
        `${name}-ipv6-ptr`,
        { primaryIpId: this.ipv6Id, ipAddress: this.ipv6Address, dnsPtr: args.hostname },
        { parent: this },
      );
    }

    this.registerOutputs({
      ipv4Address: this.ipv4Address,
      ipv6Address: this.ipv6Address,
      ipv6Network: this.ipv6Network,
    });
  }
}
