/**
 * Network namespaces for the real-FreeSWITCH network: `ip` itself, commands run inside a namespace,
 * a bridge in a namespace of its own, and a namespace joined to that bridge by a veth pair, routing
 * only the documentation ranges (so nothing else, no DNS, no provider, is reachable).
 */
import { shAsync } from "./exec";

/** Prefix lengths of the on-link networks each address lives in. */
export const PREFIX = { ipv4: 24, ipv6: 64 } as const;
/** What any namespace of the test network may reach: the documentation ranges, nothing else. */
export const DOC_ROUTES = { ipv4: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"], ipv6: ["2001:db8::/32"] } as const;

/** `ip <args>`. */
export const ip = (...args: string[]) => shAsync("ip", args);

/** Runs a command in a namespace of the test network. */
export function netnsExec(netns: string, command: string[], input?: string): Promise<string> {
  return shAsync("ip", ["netns", "exec", netns, ...command], input);
}

/** A namespace of its own holding the bridge br0, which every namespace of the network joins (addInterface). */
export async function createBridge(lan: string): Promise<void> {
  await ip("netns", "add", lan);
  await ip("-n", lan, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0");
  await ip("-n", lan, "link", "set", "br0", "up");
}

/** Joins `netns` to the bridge in `lan` (its end there named `vethName`, eth0 inside) with `addresses` and the documentation routes. */
export async function addInterface(lan: string, vethName: string, netns: string, addresses: { ipv4?: string; ipv6?: string }): Promise<void> {
  await ip("-n", lan, "link", "add", vethName, "type", "veth", "peer", "name", "eth0", "netns", netns);
  await ip("-n", lan, "link", "set", vethName, "master", "br0", "up");
  await ip("-n", netns, "link", "set", "lo", "up");
  await ip("-n", netns, "link", "set", "eth0", "up");
  if (addresses.ipv4) {
    await ip("-n", netns, "addr", "add", `${addresses.ipv4}/${PREFIX.ipv4}`, "dev", "eth0");
    for (const r of DOC_ROUTES.ipv4) await ip("-n", netns, "route", "replace", r, "dev", "eth0");
  }
  if (addresses.ipv6) {
    await ip("-n", netns, "-6", "addr", "add", `${addresses.ipv6}/${PREFIX.ipv6}`, "dev", "eth0", "nodad");
    for (const r of DOC_ROUTES.ipv6) await ip("-n", netns, "-6", "route", "replace", r, "dev", "eth0");
  }
}
