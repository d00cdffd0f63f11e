/**
 * Network namespaces for the suites that need a network, on documentation addresses only and in
 * namespaces the test creates, so nothing touches the machine's own network. Two networks:
 *
 * The real-FreeSWITCH suite's (TEST_NETWORK, createTestNetwork):
 *
 *   holder container (--network none)  owns the server's network namespace; FreeSWITCH and the
 *                                      config API join it (--network container:<holder>), so
 *                                      the API is on 127.0.0.1:8001 beside FreeSWITCH as on a host
 *   <run>-lan                          a bridge; every namespace below has one veth on it
 *   <run>-plusnet  198.51.100.16       Plusnet stand-in (outbound proxy)
 *   <run>-oneandone 2001:db8:1::129    1&1 stand-in (outbound proxy)
 *   <run>-phone    192.0.2.50, 2001:db8:10::50
 *   <run>-stranger 203.0.113.66, 2001:db8:66::66 (outside every trunk range)
 *
 * Every namespace routes only the documentation ranges, on the bridge: nothing else (no DNS, no
 * provider) is reachable.
 *
 * The end-to-end deploy's (E2E_NETWORK, createControllerNamespace, wire):
 *
 *   e2e-<run>-ctl (network namespace)   198.51.100.1   2001:db8:e2e::1   where `pulumi` and ssh run
 *                                       198.51.100.5   2001:db8:e2e::5   the stand-in SIP peer
 *                                       198.51.100.6   2001:db8:e2e::6   a second one
 *   host container (--network none)     198.51.100.10  2001:db8:e2e::10  the disposable server
 *
 * One veth pair joins them; neither side has a default route, so the host reaches nothing but
 * what the test made.
 *
 * The standby pair's (STANDBY_NETWORK, createRouterNamespace, wireStandbyHost): two hosts behind a
 * router namespace that plays Hetzner's network, where the floating addresses are routes to the
 * server they are assigned to (the Hetzner API stand-in replaces them on each assignment):
 *
 *   <run>-rtr (network namespace)       198.51.100.1   2001:db8:e2e::1   pulumi, ssh, the webhook and
 *                                                                        Hetzner API stand-ins; the hosts'
 *                                                                        default router
 *                                       198.51.100.5   2001:db8:e2e::5   the carrier stand-ins (and
 *                                                                        the test's phone: UFW admits
 *                                                                        plain SIP from trunk ranges only)
 *     br0 (the public network)          203.0.113.20/32   → the assigned host's own IPv4
 *                                       2001:db8:f100::/64 → the assigned host's own IPv6
 *     br1 (the private network, no address here: only the hosts talk on it)
 *   primary host  eth0 198.51.100.10  2001:db8:e2e::10   eth1 192.0.2.2/24
 *   standby host  eth0 198.51.100.11  2001:db8:e2e::11   eth1 192.0.2.3/24
 *
 * Each host has its own veth into each bridge, so a host that dies (its namespace with it) takes
 * only its own links down: the surviving host keeps both interfaces, as on a real network. The
 * router has no route anywhere else and does not forward, so nothing leaves the namespaces.
 */
import { sh, shAsync } from "./exec";

/** Prefix lengths of the on-link networks each address lives in (both networks). */
export const PREFIX = { ipv4: 24, ipv6: 64 } as const;
/** What any namespace of the real-FreeSWITCH suite's test network may reach: the documentation ranges, nothing else. */
export const DOC_ROUTES = {
  ipv4: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
  ipv6: ["2001:db8::/32"],
} as const;

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
export async function addInterface(
  lan: string,
  vethName: string,
  netns: string,
  addresses: { ipv4?: string; ipv6?: string },
): Promise<void> {
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

// The real-FreeSWITCH suite's network.

/** Addresses of the test network (documentation ranges only). */
export const TEST_NETWORK = {
  server: { ipv4: "192.0.2.10", ipv6: "2001:db8:10::1" },
  plusnet: { ipv4: "198.51.100.16" },
  oneandone: { ipv6: "2001:db8:1::129" },
  phone: { ipv4: "192.0.2.50", ipv6: "2001:db8:10::50" },
  stranger: { ipv4: "203.0.113.66", ipv6: "2001:db8:66::66" },
} as const;

export type Peer = "plusnet" | "oneandone" | "phone" | "stranger";
const PEERS: Record<Peer, { ipv4?: string; ipv6?: string }> = {
  plusnet: TEST_NETWORK.plusnet,
  oneandone: TEST_NETWORK.oneandone,
  phone: TEST_NETWORK.phone,
  stranger: TEST_NETWORK.stranger,
};

/** Network namespace names (`ip netns exec <name>`). */
export type NetworkNamespaces = Readonly<Record<Peer | "server" | "lan", string>>;

/** What runs a command on the test network needs: its namespaces' names. */
export interface OnTestNetwork {
  readonly netns: NetworkNamespaces;
}

/** Builds the network around the server's namespace, which the process `serverPid` (the holder container) owns. */
export async function createTestNetwork(netns: NetworkNamespaces, serverPid: string): Promise<void> {
  await ip("netns", "attach", netns.server, serverPid);
  await createBridge(netns.lan);
  await addInterface(netns.lan, "server", netns.server, TEST_NETWORK.server);
  for (const [peer, addresses] of Object.entries(PEERS) as [Peer, { ipv4?: string; ipv6?: string }][]) {
    await ip("netns", "add", netns[peer]);
    await addInterface(netns.lan, peer, netns[peer], addresses);
  }
}

// The end-to-end deploy's network.

/** Addresses of the end-to-end network (documentation ranges only). */
export const E2E_NETWORK = {
  controller: { ipv4: "198.51.100.1", ipv6: "2001:db8:e2e::1" },
  peer: { ipv4: "198.51.100.5", ipv6: "2001:db8:e2e::5" },
  /** The trunk the test adds later. */
  secondPeer: { ipv4: "198.51.100.6", ipv6: "2001:db8:e2e::6" },
  host: { ipv4: "198.51.100.10", ipv6: "2001:db8:e2e::10" },
} as const;

export function createControllerNamespace(name: string): void {
  sh("ip", ["netns", "add", name]);
  sh("ip", ["-n", name, "link", "set", "lo", "up"]);
}

export function deleteNamespace(name: string): void {
  try {
    sh("ip", ["netns", "delete", name]);
  } catch {
    // already gone
  }
}

/** Joins the container's network namespace (by its PID) to the controller namespace with a veth pair. */
export function wire(ns: string, containerPid: number, vethPrefix: string): void {
  const outer = `${vethPrefix}c`;
  const inner = `${vethPrefix}h`;
  try {
    sh("ip", ["-n", ns, "link", "del", outer]);
  } catch {
    // a host that was destroyed took its end with it
  }
  // Docker turns IPv6 off in a container without a network; the server needs it.
  for (const target of [
    ["ip", "netns", "exec", ns],
    ["nsenter", "-t", String(containerPid), "-n"],
  ]) {
    sh(target[0], [
      ...target.slice(1),
      "sysctl",
      "-q",
      "-w",
      "net.ipv6.conf.all.disable_ipv6=0",
      "net.ipv6.conf.default.disable_ipv6=0",
    ]);
  }
  sh("ip", ["link", "add", outer, "netns", ns, "type", "veth", "peer", "name", inner, "netns", String(containerPid)]);
  const inNs = (args: string[]) => sh("ip", ["-n", ns, ...args]);
  const inHost = (args: string[]) => sh("nsenter", ["-t", String(containerPid), "-n", "ip", ...args]);
  for (const [run, dev, addrs] of [
    [inNs, outer, [E2E_NETWORK.controller, E2E_NETWORK.peer, E2E_NETWORK.secondPeer]],
    [inHost, inner, [E2E_NETWORK.host]],
  ] as const) {
    for (const a of addrs) {
      run(["addr", "add", `${a.ipv4}/${PREFIX.ipv4}`, "dev", dev]);
      run(["addr", "add", `${a.ipv6}/${PREFIX.ipv6}`, "dev", dev, "nodad"]);
    }
    run(["link", "set", dev, "up"]);
  }
}

// The standby pair's network.

/** Addresses of the standby pair's network (documentation ranges only). */
export const STANDBY_NETWORK = {
  controller: E2E_NETWORK.controller,
  carrier: E2E_NETWORK.peer,
  hosts: {
    primary: { ipv4: "198.51.100.10", ipv6: "2001:db8:e2e::10", private: "192.0.2.2" },
    standby: { ipv4: "198.51.100.11", ipv6: "2001:db8:e2e::11", private: "192.0.2.3" },
  },
  /** standby.network: the private link VRRP runs over. */
  privateNetwork: "192.0.2.0/24",
  floating: { ipv4: "203.0.113.20", ipv6Network: "2001:db8:f100::/64", ipv6: "2001:db8:f100::1" },
} as const;

export type StandbyHost = keyof typeof STANDBY_NETWORK.hosts;

/** Inside each host: the public interface (default route) and the private one. */
export const STANDBY_LINKS = { public: "eth0", private: "eth1" } as const;

/** The router namespace: the public bridge with the deploying side's and the carrier's addresses, and the private bridge. */
export function createRouterNamespace(name: string): void {
  sh("ip", ["netns", "add", name]);
  const inNs = (...args: string[]) => sh("ip", ["-n", name, ...args]);
  inNs("link", "set", "lo", "up");
  sh("ip", [
    "netns",
    "exec",
    name,
    "sysctl",
    "-q",
    "-w",
    "net.ipv6.conf.all.disable_ipv6=0",
    "net.ipv6.conf.default.disable_ipv6=0",
  ]);
  for (const bridge of ["br0", "br1"]) {
    inNs("link", "add", bridge, "type", "bridge", "mcast_snooping", "0");
    inNs("link", "set", bridge, "up");
  }
  for (const a of [STANDBY_NETWORK.controller, STANDBY_NETWORK.carrier]) {
    inNs("addr", "add", `${a.ipv4}/${PREFIX.ipv4}`, "dev", "br0");
    inNs("addr", "add", `${a.ipv6}/${PREFIX.ipv6}`, "dev", "br0", "nodad");
  }
}

/**
 * Joins a host container's network namespace (by its PID) to the router's bridges: eth0 on the
 * public one with the host's own addresses and default routes via the router, eth1 on the private
 * one. Removes what is left of the host's earlier links first (a restarted container is a new namespace).
 */
export function wireStandbyHost(router: string, containerPid: number, host: StandbyHost, vethPrefix: string): void {
  const addresses = STANDBY_NETWORK.hosts[host];
  const inNs = (...args: string[]) => sh("ip", ["-n", router, ...args]);
  const inHost = (...args: string[]) => sh("nsenter", ["-t", String(containerPid), "-n", "ip", ...args]);
  sh("nsenter", [
    ...["-t", String(containerPid), "-n"],
    ...["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0"],
  ]);
  const links = [
    { outer: `${vethPrefix}p`, inner: STANDBY_LINKS.public, bridge: "br0" },
    { outer: `${vethPrefix}v`, inner: STANDBY_LINKS.private, bridge: "br1" },
  ];
  for (const { outer, inner, bridge } of links) {
    try {
      inNs("link", "del", outer);
    } catch {
      // a host that died took its end with it
    }
    sh("ip", [
      "link",
      "add",
      outer,
      "netns",
      router,
      "type",
      "veth",
      "peer",
      "name",
      inner,
      "netns",
      String(containerPid),
    ]);
    inNs("link", "set", outer, "master", bridge, "up");
  }
  inHost("link", "set", "lo", "up");
  inHost("addr", "add", `${addresses.ipv4}/${PREFIX.ipv4}`, "dev", STANDBY_LINKS.public);
  inHost("addr", "add", `${addresses.ipv6}/${PREFIX.ipv6}`, "dev", STANDBY_LINKS.public, "nodad");
  inHost("addr", "add", `${addresses.private}/24`, "dev", STANDBY_LINKS.private);
  for (const link of Object.values(STANDBY_LINKS)) inHost("link", "set", link, "up");
  inHost("route", "add", "default", "via", STANDBY_NETWORK.controller.ipv4);
  inHost("-6", "route", "add", "default", "via", STANDBY_NETWORK.controller.ipv6);
}

/** The router's routes to the floating addresses (`ip route` lines), to see where they point. */
export function floatingRoutes(router: string): { ipv4: string; ipv6: string } {
  const show = (family: string, prefix: string) => sh("ip", ["-n", router, family, "route", "show", prefix]).trim();
  return {
    ipv4: show("-4", `${STANDBY_NETWORK.floating.ipv4}/32`),
    ipv6: show("-6", STANDBY_NETWORK.floating.ipv6Network),
  };
}
