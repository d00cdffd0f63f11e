/**
 * The host firewall (UFW), layer 2: the same rules as the Hetzner Cloud firewall, from the same
 * inboundRules(). Re-running the script converges the host to exactly these rules.
 */
import { formatPorts, inboundRules, WORLD, type InboundRule } from "../firewall";
import { CONFIG_API_PORT, ESL_PORT, METRICS_PORT } from "../hostLayout";
import type { StackModel } from "../model";
import { peerOf, standbyPlan, type StandbyHostKey } from "../standby";

const isWorld = (ranges: readonly string[]) => WORLD.every((w) => ranges.includes(w)) && ranges.length === WORLD.length;

function ufwLines(rule: InboundRule): string[] {
  // ICMP is admitted by UFW's own before.rules (echo, PMTU, ICMPv6 neighbour discovery).
  if (rule.protocol === "icmp" || !rule.ports) return [];
  // The ACME renewal job opens port 80 itself for the minutes it needs it.
  if (rule.purpose === "acme") return [];
  const ports = formatPorts(rule.ports, ":");
  const comment = `comment '${rule.description.replace(/'/g, "")}'`;
  if (isWorld(rule.sourceRanges)) return [`ufw allow proto ${rule.protocol} to any port ${ports} ${comment}`];
  return rule.sourceRanges.map(
    (cidr) => `ufw allow proto ${rule.protocol} from ${cidr} to any port ${ports} ${comment}`,
  );
}

/** standby: VRRP (IP protocol 112) from the pair's other host only, to this host's private address. */
function vrrpLines(model: StackModel, host: StandbyHostKey | undefined): string[] {
  const plan = standbyPlan(model);
  if (!plan || !host) return [];
  const from = plan.privateIpv4[peerOf(host)];
  return [
    `ufw allow proto vrrp from ${from} to ${plan.privateIpv4[host]} comment 'VRRP from the standby pair (${peerOf(host)})'`,
  ];
}

/** `host` (standby only): which host of the pair the script is for; it then admits the other's VRRP adverts. */
export function renderUfwScript(model: StackModel, host?: StandbyHostKey): string {
  const rules = inboundRules(model);
  return [
    "#!/usr/bin/env bash",
    "# Host firewall (UFW), rendered by the stack from the same rules as the Hetzner Cloud firewall.",
    "# Idempotent: resets to exactly these rules. Established connections (this SSH session) survive.",
    "set -euo pipefail",
    "ufw --force reset >/dev/null",
    "ufw default deny incoming",
    "ufw default allow outgoing",
    "sed -i 's/^IPV6=.*/IPV6=yes/' /etc/default/ufw",
    ...rules.flatMap(ufwLines),
    ...vrrpLines(model, host),
    `# ESL (${ESL_PORT}) and the config API (${CONFIG_API_PORT}) listen on loopback only and are never opened here;`,
    `# the API's /metrics listener (${METRICS_PORT}) is admitted from the admin ranges only, above.`,
    "ufw --force enable",
    "",
  ].join("\n");
}
