/**
 * Layer 1: one Hetzner Cloud firewall, built from sip/firewall.ts inboundRules(), the same rules
 * the host's UFW script (layer 2) and the FreeSWITCH ACL (layer 3) are rendered from.
 *
 * Hetzner replaces a firewall's rule list whole on every change, and rules have been lost when a
 * firewall's name or labels changed: both derive from project and stack only, never from config.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { CONFIG_API_PORT, ESL_PORT } from "../sip/hostLayout";
import { checkFirewallLimits, formatPorts, type InboundRule } from "../sip/firewall";
import { parseCidr } from "../sip/net";
import { formatProblem } from "../sip/problems";
import type { StackNaming } from "./naming";

export interface FirewallArgs {
  readonly naming: StackNaming;
  /** inboundRules(model): already split to Hetzner's per-rule CIDR limit. */
  readonly rules: readonly InboundRule[];
}

/** A rule as the hcloud provider takes it, with plain values. */
export interface CloudFirewallRule {
  readonly direction: "in";
  readonly protocol: "tcp" | "udp" | "icmp";
  readonly port?: string;
  readonly sourceIps: string[];
  readonly description: string;
}

/**
 * Writes a CIDR as the Hetzner API returns it (RFC 5952 for IPv6), so a preview never diffs on
 * spelling alone; "::/0" stays exactly "::/0".
 */
export function canonicalCidr(text: string): string {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`firewall source "${text}" is not a CIDR`);
  const address =
    cidr.address.kind() === "ipv6" ? (cidr.address as ipaddr.IPv6).toRFC5952String() : cidr.address.toString();
  return `${address}/${cidr.prefix}`;
}

const LOOPBACK_ONLY = [ESL_PORT, CONFIG_API_PORT];

export function cloudFirewallRules(rules: readonly InboundRule[]): CloudFirewallRule[] {
  const problems = checkFirewallLimits(rules);
  if (problems.length > 0)
    throw new Error(`the Hetzner firewall would exceed its limits:\n${problems.map(formatProblem).join("\n")}`);
  return rules.map((rule) => {
    if (rule.ports && LOOPBACK_ONLY.some((p) => p >= rule.ports!.start && p <= rule.ports!.end)) {
      // ESL and the config API never leave loopback; the config checks prevent this already.
      throw new Error(
        `firewall rule "${rule.description}" would open port ${formatPorts(rule.ports)}, which includes ESL or the config API`,
      );
    }
    return {
      direction: "in",
      protocol: rule.protocol,
      ...(rule.ports ? { port: formatPorts(rule.ports) } : {}),
      sourceIps: rule.sourceRanges.map(canonicalCidr),
      description: rule.description,
    };
  });
}

/** One line per rule, for the stack outputs and a reviewer. */
export function firewallSummary(rules: readonly CloudFirewallRule[]): string[] {
  return rules.map(
    (r) => `${r.protocol}${r.port ? ` ${r.port}` : ""} from ${r.sourceIps.join(", ")}: ${r.description}`,
  );
}

export class Firewall extends pulumi.ComponentResource {
  readonly firewall: hcloud.Firewall;
  readonly firewallId: pulumi.Output<number>;
  readonly name: string;
  readonly rules: readonly CloudFirewallRule[];
  readonly summary: string[];

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:hcloud:Firewall", name, {}, opts);
    this.rules = cloudFirewallRules(args.rules);
    this.summary = firewallSummary(this.rules);
    this.name = args.naming.name("firewall");
    this.firewall = new hcloud.Firewall(
      `${name}-firewall`,
      {
        name: this.name,
        labels: { ...args.naming.labels },
        rules: this.rules.map((r) => ({ ...r, sourceIps: [...r.sourceIps] })),
        // No applyTos: the server attaches itself through firewallIds (see host.ts).
      },
      { parent: this },
    );
    this.firewallId = this.firewall.id.apply(Number);
    this.registerOutputs({ firewallId: this.firewallId, summary: this.summary });
  }
}
