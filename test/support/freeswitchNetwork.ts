/**
 * The real-FreeSWITCH suite's network, made of namespaces on documentation addresses only:
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
 */
import { addInterface, createBridge, ip } from "./namespaces";

/** Addresses of the test network (documentation ranges only). */
export const ADDR = {
  server: { ipv4: "192.0.2.10", ipv6: "2001:db8:10::1" },
  plusnet: { ipv4: "198.51.100.16" },
  oneandone: { ipv6: "2001:db8:1::129" },
  phone: { ipv4: "192.0.2.50", ipv6: "2001:db8:10::50" },
  stranger: { ipv4: "203.0.113.66", ipv6: "2001:db8:66::66" },
} as const;

export type Peer = "plusnet" | "oneandone" | "phone" | "stranger";
const PEERS: Record<Peer, { ipv4?: string; ipv6?: string }> = { plusnet: ADDR.plusnet, oneandone: ADDR.oneandone, phone: ADDR.phone, stranger: ADDR.stranger };

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
  await addInterface(netns.lan, "server", netns.server, ADDR.server);
  for (const [peer, addresses] of Object.entries(PEERS) as [Peer, { ipv4?: string; ipv6?: string }][]) {
    await ip("netns", "add", netns[peer]);
    await addInterface(netns.lan, peer, netns[peer], addresses);
  }
}
