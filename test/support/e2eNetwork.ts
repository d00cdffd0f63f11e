/**
 * The end-to-end test's network, on documentation addresses only and in namespaces the test
 * creates, so nothing touches the machine's own network:
 *
 *   e2e-<run>-ctl (network namespace)   198.51.100.1   2001:db8:e2e::1   where `pulumi` and ssh run
 *                                       198.51.100.5   2001:db8:e2e::5   the stand-in SIP peer
 *                                       198.51.100.6   2001:db8:e2e::6   a second one
 *   host container (--network none)     198.51.100.10  2001:db8:e2e::10  the disposable server
 *
 * One veth pair joins them; neither side has a default route, so the host reaches nothing but
 * what the test made.
 */
import { sh } from "./exec";

export const ADDR = {
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
  for (const target of [["ip", "netns", "exec", ns], ["nsenter", "-t", String(containerPid), "-n"]]) {
    sh(target[0], [...target.slice(1), "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0"]);
  }
  sh("ip", ["link", "add", outer, "netns", ns, "type", "veth", "peer", "name", inner, "netns", String(containerPid)]);
  const inNs = (args: string[]) => sh("ip", ["-n", ns, ...args]);
  const inHost = (args: string[]) => sh("nsenter", ["-t", String(containerPid), "-n", "ip", ...args]);
  for (const [run, dev, addrs] of [
    [inNs, outer, [ADDR.controller, ADDR.peer, ADDR.secondPeer]],
    [inHost, inner, [ADDR.host]],
  ] as const) {
    for (const a of addrs) {
      run(["addr", "add", `${a.ipv4}/24`, "dev", dev]);
      run(["addr", "add", `${a.ipv6}/64`, "dev", dev, "nodad"]);
    }
    run(["link", "set", dev, "up"]);
  }
}
