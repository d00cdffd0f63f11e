/**
 * Address and CIDR arithmetic for the checks and renderers, on top of ipaddr.js.
 * Pure: no Pulumi, no I/O.
 */
import * as ipaddr from "ipaddr.js";

export type IpFamily = "ipv4" | "ipv6";

export interface Cidr {
  /** Canonical text, e.g. "198.51.100.0/24" or "2001:db8::8/125". */
  readonly text: string;
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

function familyOf(addr: ipaddr.IPv4 | ipaddr.IPv6): IpFamily {
  return addr.kind() === "ipv4" ? "ipv4" : "ipv6";
}

/** Parses "a.b.c.d/n" or "x::y/n"; returns undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  if (!text.includes("/")) return undefined;
  try {
    const [address, prefix] = ipaddr.parseCIDR(text);
    return { text, family: familyOf(address), address, prefix };
  } catch {
    return undefined;
  }
}

/** True when the CIDR's address has no bits set beyond its prefix (198.51.100.0/24, not .5/24). */
export function isNetworkAligned(cidr: Cidr): boolean {
  const net =
    cidr.family === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(cidr.text)
      : ipaddr.IPv6.networkAddressFromCIDR(cidr.text);
  return net.toString() === cidr.address.toString();
}

/** Parses a bare IP literal (IPv6 may be bracketed); undefined for host names. */
export function parseIp(text: string): { family: IpFamily; address: ipaddr.IPv4 | ipaddr.IPv6 } | undefined {
  const bare = stripBrackets(text);
  if (!ipaddr.isValid(bare)) return undefined;
  // ipaddr.isValid accepts shorthand IPv4 such as "10.1"; SIP wants dotted quads only.
  if (!bare.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return undefined;
  const address = ipaddr.parse(bare);
  return { family: familyOf(address), address };
}

export function stripBrackets(text: string): string {
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}

export function isBracketed(text: string): boolean {
  return text.startsWith("[") && text.endsWith("]");
}

export function cidrContains(cidr: Cidr, address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (familyOf(address) !== cidr.family) return false;
  return address.match([cidr.address, cidr.prefix] as [typeof address, number]);
}

/**
 * Splits a SIP host part into host and optional port: "198.51.100.16", "sip.example.net:5060",
 * "[2001:db8::1]:5060". A bare IPv6 literal (several colons, no brackets) has no port.
 */
export function splitHostPort(text: string): { host: string; port?: number } {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    const rest = text.slice(end + 1);
    return { host: text.slice(0, end + 1), port: rest.startsWith(":") ? Number(rest.slice(1)) : undefined };
  }
  const colons = text.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = text.split(":");
    return { host, port: Number(port) };
  }
  return { host: text };
}

/** The first and last address of a CIDR as integers (IPv4: 32 bits, IPv6: 128 bits). */
function cidrBounds(cidr: Cidr): [bigint, bigint] {
  const bits = cidr.family === "ipv4" ? 32 : 128;
  const value = cidr.address.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const hostBits = BigInt(bits - cidr.prefix);
  const first = (value >> hostBits) << hostBits;
  return [first, first + (1n << hostBits) - 1n];
}

/**
 * The families whose whole address space the union of `cidrs` covers: 0.0.0.0/1 with
 * 128.0.0.0/1 is as open as 0.0.0.0/0, so no single entry has to be /0 for this to be true.
 */
export function familiesCoveredEntirely(cidrs: readonly Cidr[]): IpFamily[] {
  return (["ipv4", "ipv6"] as const).filter((family) => {
    const last = family === "ipv4" ? (1n << 32n) - 1n : (1n << 128n) - 1n;
    const spans = cidrs
      .filter((c) => c.family === family)
      .map(cidrBounds)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let next = 0n; // the first address not yet covered
    for (const [first, end] of spans) {
      if (first > next) return false;
      if (end + 1n > next) next = end + 1n;
    }
    return next > last;
  });
}

/**
 * The address Hetzner configures on a server from a primary or floating IPv6: the network's first host
 * (`…::1`). The provider reports the IP's ip_address as the network itself (`…::`, or
 * with a prefix), and ip_network as `…::/64`; either is accepted.
 */
export function ipv6HostAddress(ipAddress: string, ipNetwork?: string): string {
  const text = ipNetwork?.trim() || ipAddress.trim();
  const [address, prefixText] = text.split("/");
  const prefix = prefixText === undefined ? 64 : Number(prefixText);
  if (!ipaddr.IPv6.isValid(address) || !Number.isInteger(prefix) || prefix < 0 || prefix > 112) {
    throw new Error(`expected an IPv6 network such as 2001:db8::/64, got "${text}"`);
  }
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`);
  const parts = [...network.parts];
  parts[7] = parts[7] | 1;
  return new ipaddr.IPv6(parts).toRFC5952String();
}
