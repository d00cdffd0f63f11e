/**
 * The inbound firewall policy, computed once from the stack model. The Hetzner Cloud firewall
 * (layer 1), the host's UFW script (layer 2) and the FreeSWITCH ACL (layer 3) are all rendered
 * from this, so a provider's ranges are written down exactly once (in its preset or config).
 */
import { METRICS_PORT, SSH_PORT } from "./hostLayout";
import type { StackModel } from "./model";
import { problem, type Problem } from "./problems";

export const WORLD_IPV4 = "0.0.0.0/0";
/** Hetzner normalises "::0/0" to "::/0"; writing anything else diffs on every preview. */
export const WORLD_IPV6 = "::/0";
export const WORLD = [WORLD_IPV4, WORLD_IPV6] as const;

/** Hetzner Cloud firewall limits. */
export const HETZNER_LIMITS = { rulesPerFirewall: 50, ipsPerRule: 100, effectiveRules: 500 } as const;

export interface PortRange {
  readonly start: number;
  readonly end: number;
}

export interface InboundRule {
  /** Shown in the Hetzner console and in previews. */
  readonly description: string;
  readonly protocol: "tcp" | "udp" | "icmp";
  /** Absent for ICMP. */
  readonly ports?: PortRange;
  readonly sourceRanges: readonly string[];
  /** Who the rule is for: a trunk's name, "webrtc", "rtp", "ssh", "metrics", "icmp", or an extra range. */
  readonly purpose: string;
}

export function formatPorts(ports: PortRange, separator = "-"): string {
  return ports.start === ports.end ? String(ports.start) : `${ports.start}${separator}${ports.end}`;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Every inbound rule, in a stable order: SSH, metrics, ICMP, trunks (by name), WebRTC, media. */
export function inboundRules(model: StackModel): InboundRule[] {
  const rules: InboundRule[] = [];
  const admin = chunk(model.host.adminSshRanges, HETZNER_LIMITS.ipsPerRule);
  for (const [i, ranges] of admin.entries()) {
    rules.push({
      description: `SSH from admin ranges${i ? ` (${i + 1})` : ""}`,
      protocol: "tcp",
      ports: { start: SSH_PORT, end: SSH_PORT },
      sourceRanges: ranges,
      purpose: "ssh",
    });
  }
  // Prometheus scrapes from where the admins are; the listener serves nothing but GET /metrics.
  for (const [i, ranges] of admin.entries()) {
    rules.push({
      description: `Prometheus /metrics from admin ranges${i ? ` (${i + 1})` : ""}`,
      protocol: "tcp",
      ports: { start: METRICS_PORT, end: METRICS_PORT },
      sourceRanges: ranges,
      purpose: "metrics",
    });
  }
  rules.push({
    description: "ICMP and ICMPv6 (path MTU discovery, ping)",
    protocol: "icmp",
    sourceRanges: WORLD,
    purpose: "icmp",
  });
  // Only trunks active in this stack are admitted: a clone whose REGISTER trunk is off must not
  // open its firewall to that provider.
  for (const trunk of model.trunks.filter((t) => t.active)) {
    for (const sig of trunk.signaling) {
      for (const [i, ranges] of chunk(trunk.sourceRanges, HETZNER_LIMITS.ipsPerRule).entries()) {
        rules.push({
          description: `SIP ${sig.port}/${sig.protocol} from ${trunk.name}${i ? ` (${i + 1})` : ""}`,
          protocol: sig.protocol,
          ports: { start: sig.port, end: sig.port },
          sourceRanges: ranges,
          purpose: trunk.name,
        });
      }
    }
  }
  // An IPv4 twin listens on its dual profile's WSS port: one rule serves both.
  for (const profile of model.profiles.filter((p) => p.ipv4Of === undefined)) {
    if (profile.wssPort !== undefined) {
      // Open to everyone: browsers connect from anywhere, and the listener speaks only TLS.
      rules.push({
        description: `WebRTC (WSS) on profile ${profile.name}`,
        protocol: "tcp",
        ports: { start: profile.wssPort, end: profile.wssPort },
        sourceRanges: WORLD,
        purpose: "webrtc",
      });
    }
  }
  // Media arrives from whatever address the far end negotiates in SDP, so RTP is open to all.
  rules.push({
    description: "RTP media (FreeSWITCH rtp-start-port..rtp-end-port)",
    protocol: "udp",
    ports: { start: model.rtp.start, end: model.rtp.end },
    sourceRanges: WORLD,
    purpose: "rtp",
  });
  if (model.tls.challenge === "http-01") {
    // ACME's validation servers are not published; UFW opens 80 only while a renewal runs.
    rules.push({
      description: "ACME http-01 (UFW admits it only during a renewal)",
      protocol: "tcp",
      ports: { start: 80, end: 80 },
      sourceRanges: WORLD,
      purpose: "acme",
    });
  }
  for (const extra of model.firewall.extraUdpRanges) {
    rules.push({
      description: `UDP ${extra.description}`,
      protocol: "udp",
      ports: extra,
      sourceRanges: WORLD,
      purpose: "extra",
    });
  }
  return rules;
}

/** Hetzner counts each source entry of each rule; keep the sum within its limit. */
export function effectiveRuleCount(rules: readonly InboundRule[]): number {
  return rules.reduce((sum, rule) => sum + rule.sourceRanges.length, 0);
}

export function checkFirewallLimits(rules: readonly InboundRule[]): Problem[] {
  const problems: Problem[] = [];
  if (rules.length > HETZNER_LIMITS.rulesPerFirewall) {
    problems.push(
      problem(
        "trunks",
        `the firewall needs ${rules.length} rules; Hetzner allows ${HETZNER_LIMITS.rulesPerFirewall} per firewall`,
        "merge trunks' signaling ports or source ranges, or drop unused trunks",
      ),
    );
  }
  const effective = effectiveRuleCount(rules);
  if (effective > HETZNER_LIMITS.effectiveRules) {
    problems.push(
      problem(
        "trunks",
        `the firewall has ${effective} effective rules (rules × source ranges); Hetzner allows ${HETZNER_LIMITS.effectiveRules}`,
        "aggregate trunks' sourceRanges into fewer, larger CIDRs",
      ),
    );
  }
  return problems;
}
