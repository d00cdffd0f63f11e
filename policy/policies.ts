/**
 * The guardrails, as plain policy objects so tests can call them directly. They check what the
 * engine is about to create, independently of sip/: a bug in the model's firewall rules must not
 * also disarm the check that catches it.
 *
 * What a policy can see (read from @pulumi/policy 1.x): a resource's inputs (`props`, secrets
 * already unwrapped, so secretness is invisible there) and options (`opts.protect`), stack tags,
 * and, through the environment the CLI starts the pack with, the stack's name (PULUMI_STACK) and
 * its config (PULUMI_CONFIG, decrypted; which keys were secret is not passed). So:
 * - "production" comes from the stack config `telephony:environment`, as the program decides it,
 *   or a resource label environment=production;
 * - "no secret in plain config" reads the stack's Pulumi.<stack>.yaml, the only place where a
 *   value's encryption is visible, and fails a secret-named key stored in clear.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type {
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as ipaddr from "ipaddr.js";
import { parse } from "yaml";

export const FIREWALL = "hcloud:index/firewall:Firewall";
export const PRIMARY_IP = "hcloud:index/primaryIp:PrimaryIp";
export const FLOATING_IP = "hcloud:index/floatingIp:FloatingIp";
export const SIP_PORTS = [5060, 5061] as const;
export const SSH_PORT = 22;
/** The config API's /metrics listener (sip/hostLayout.ts METRICS_PORT, written again here on purpose). */
export const METRICS_PORT = 9282;
/**
 * Ranges at least this wide count as "the world": 0.0.0.0/1 plus 128.0.0.0/1 is 0.0.0.0/0 in
 * two rules. No SIP provider or admin network needs more than a /8 (IPv4) or /16 (IPv6).
 */
export const WORLD_PREFIX = { ipv4: 8, ipv6: 16 } as const;

/** Where the policies get what is not in the resource: the stack's name, config and config file. */
export interface StackContext {
  /** The stack's config as `pulumi config` shows it, values as strings (objects JSON-encoded). */
  config(): Readonly<Record<string, string>>;
  /** Pulumi.<stack>.yaml as stored (secrets still `secure:` ciphertext), or undefined if absent. */
  stackFile(): { readonly name: string; readonly text: string } | undefined;
}

/** The context of a `pulumi preview/up --policy-pack policy` run of this project. */
export function environmentContext(
  env: NodeJS.ProcessEnv = process.env,
  projectDir = join(__dirname, ".."),
): StackContext {
  return {
    config: () => {
      try {
        return JSON.parse(env.PULUMI_CONFIG ?? "{}") as Record<string, string>;
      } catch {
        return {};
      }
    },
    stackFile: () => {
      const stack = env.PULUMI_STACK ?? env.PULUMI_NODEJS_STACK;
      if (!stack) return undefined;
      const name = `Pulumi.${stack.split("/").pop()}.yaml`;
      try {
        return { name, text: readFileSync(join(projectDir, name), "utf8") };
      } catch {
        return undefined;
      }
    },
  };
}

interface FirewallRule {
  readonly direction?: string;
  readonly protocol?: string;
  readonly port?: string;
  readonly sourceIps?: readonly string[];
  readonly description?: string;
}

/** A firewall port field ("5060", "10000-10060", "any") as an inclusive range; undefined for port-less protocols. */
export function portRange(rule: FirewallRule): [number, number] | undefined {
  if (rule.protocol !== "tcp" && rule.protocol !== "udp") return undefined;
  const port = (rule.port ?? "any").trim();
  if (port === "any") return [1, 65535];
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  // An unreadable port is treated as every port: a guardrail fails closed.
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : [1, 65535];
}

function parseRange(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    if (ipaddr.isValidCIDR(cidr)) return ipaddr.parseCIDR(cidr);
    if (ipaddr.isValid(cidr)) {
      const addr = ipaddr.parse(cidr);
      return [addr, addr.kind() === "ipv4" ? 32 : 128];
    }
  } catch {
    /* fall through: unreadable */
  }
  return undefined;
}

/** True for 0.0.0.0/0, ::/0 and anything nearly as wide (or unreadable: fail closed). */
export function isWorldWide(cidr: string): boolean {
  const range = parseRange(cidr);
  if (!range) return true;
  const [addr, bits] = range;
  return bits < WORLD_PREFIX[addr.kind()];
}

/** True when `cidr` lies inside one of `ranges` (same family, at least as narrow). */
export function insideAny(cidr: string, ranges: readonly string[]): boolean {
  const inner = parseRange(cidr);
  if (!inner) return false;
  return ranges.some((r) => {
    const outer = parseRange(r);
    return !!outer && outer[0].kind() === inner[0].kind() && inner[1] >= outer[1] && inner[0].match(outer);
  });
}

function inboundRules(props: Record<string, unknown>): FirewallRule[] {
  const rules = Array.isArray(props.rules) ? (props.rules as FirewallRule[]) : [];
  return rules.filter((r) => (r.direction ?? "in") === "in");
}

const describeRule = (r: FirewallRule) =>
  `${r.description ? `"${r.description}" ` : ""}(${r.protocol} ${r.port ?? "any"})`;

/** Reads a structured config value, which the CLI passes JSON-encoded. */
function configObject(config: Readonly<Record<string, string>>, key: string): Record<string, unknown> | undefined {
  const raw = config[key];
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sipNotOpenToWorld(): ResourceValidationPolicy {
  return {
    name: "sip-not-open-to-world",
    description:
      "SIP (5060/udp+tcp, 5061/tcp) is admitted only from trunk providers' ranges, never from the whole Internet.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (args.type !== FIREWALL) return;
      for (const rule of inboundRules(args.props)) {
        const range = portRange(rule);
        if (!range) continue;
        const sip = SIP_PORTS.filter((p) => p >= range[0] && p <= range[1]);
        const world = (rule.sourceIps ?? []).filter(isWorldWide);
        if (sip.length && world.length) {
          report(
            `firewall rule ${describeRule(rule)} opens SIP port ${sip.join(", ")} to ${world.join(", ")}: admit only the providers' ranges (telephony:trunks.<name>.sourceRanges or the preset's)`,
          );
        }
      }
    },
  };
}

/** A TCP port that only the admins reach: every source of a rule covering it lies inside telephony:host.adminSshRanges. */
function adminPortFromAdminRangesOnly(
  context: StackContext,
  name: string,
  port: number,
  what: string,
): ResourceValidationPolicy {
  return {
    name,
    description: `${what} (${port}/tcp) is admitted only from the admin ranges in telephony:host.adminSshRanges, never from the whole Internet.`,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (args.type !== FIREWALL) return;
      const host = configObject(context.config(), "telephony:host");
      const admin = Array.isArray(host?.adminSshRanges) ? (host.adminSshRanges as string[]) : undefined;
      for (const rule of inboundRules(args.props)) {
        const range = portRange(rule);
        if (!range || rule.protocol !== "tcp" || port < range[0] || port > range[1]) continue;
        for (const cidr of rule.sourceIps ?? []) {
          if (isWorldWide(cidr)) {
            report(
              `firewall rule ${describeRule(rule)} opens ${what} to ${cidr}: list your admin networks in telephony:host.adminSshRanges`,
            );
          } else if (admin && !insideAny(cidr, admin)) {
            report(
              `firewall rule ${describeRule(rule)} opens ${what} to ${cidr}, which is not inside telephony:host.adminSshRanges (${admin.join(", ")})`,
            );
          }
        }
      }
    },
  };
}

export function sshFromAdminRangesOnly(context: StackContext): ResourceValidationPolicy {
  return adminPortFromAdminRangesOnly(context, "ssh-from-admin-ranges-only", SSH_PORT, "SSH");
}

/** The config API's /metrics listener shows trunk names, proxies and call counts: the admins' business only. */
export function metricsFromAdminRangesOnly(context: StackContext): ResourceValidationPolicy {
  return adminPortFromAdminRangesOnly(context, "metrics-from-admin-ranges-only", METRICS_PORT, "Prometheus /metrics");
}

function isProduction(context: StackContext, props: Record<string, unknown>): boolean {
  const labels = (props.labels ?? {}) as Record<string, unknown>;
  return context.config()["telephony:environment"] === "production" || labels.environment === "production";
}

export function primaryIpv4ProtectedInProduction(context: StackContext): ResourceValidationPolicy {
  return {
    name: "primary-ipv4-protected-in-production",
    description:
      "In production the primary IPv4 (Plusnet authenticates by it) is protected and never auto-deleted with the server.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (args.type !== PRIMARY_IP || args.props.type !== "ipv4" || !isProduction(context, args.props)) return;
      const opts: Partial<PolicyResourceOptions> = args.opts ?? {};
      if (opts.protect !== true) {
        report(
          `primary IPv4 ${args.name} is not protected: a production stack must create it with { protect: true } so no update or destroy can release the address Plusnet whitelists`,
        );
      }
      if (args.props.autoDelete !== false) {
        report(
          `primary IPv4 ${args.name} must set autoDelete: false: with auto-delete, replacing the server deletes the address`,
        );
      }
    },
  };
}

/**
 * standby: the floating IPs carry what carriers see. keepalived moves them on a takeover, so the
 * stack must ignore their assignment (or the next `up` would move them back to a host that may be
 * down); in production they are protected like the primary IPv4.
 */
export function floatingIpsLeftToKeepalived(context: StackContext): ResourceValidationPolicy {
  return {
    name: "floating-ips-left-to-keepalived",
    description:
      "A floating IP's assignment is keepalived's after the first deploy (ignoreChanges serverId); in production it is protected.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (args.type !== FLOATING_IP) return;
      const opts: Partial<PolicyResourceOptions> = args.opts ?? {};
      if (!(opts.ignoreChanges ?? []).includes("serverId")) {
        report(
          `floating IP ${args.name} must be created with { ignoreChanges: ["serverId"] }: after a takeover the next update would move it back to a host that may be down`,
        );
      }
      if (isProduction(context, args.props) && (opts.protect !== true || args.props.deleteProtection !== true)) {
        report(
          `floating IP ${args.name} is not protected: a production stack must create it with { protect: true } and deleteProtection so no update or destroy can release the address carriers know`,
        );
      }
    },
  };
}

/** Config keys whose values are secrets by name. Public keys are not secrets. */
const SECRET_NAME = /password|passwd|passphrase|secret|token|private.?key|api.?key|credential|fernet/i;
const isSecretName = (key: string) => SECRET_NAME.test(key) && !/public/i.test(key);

/** Paths (dotted, as `pulumi config set --path` takes them) of secret-named values stored in clear. */
export function plaintextSecretPaths(stackFileText: string): string[] {
  const doc = parse(stackFileText) as { config?: Record<string, unknown> } | null;
  const found: string[] = [];
  const walk = (value: unknown, path: string, secretNamed: boolean): void => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      // `{ secure: <ciphertext> }` is how Pulumi stores a secret; nothing below it is plain.
      if (entries.length === 1 && entries[0][0] === "secure") return;
      for (const [k, v] of entries) walk(v, path ? `${path}.${k}` : k, secretNamed || isSecretName(k));
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, secretNamed));
    } else if (secretNamed && value !== null && value !== undefined && value !== "") {
      found.push(path);
    }
  };
  for (const [key, value] of Object.entries(doc?.config ?? {}))
    walk(value, key, isSecretName(key.split(":").pop() ?? key));
  return found;
}

export function noPlaintextSecretConfig(context: StackContext): StackValidationPolicy {
  return {
    name: "no-plaintext-secret-config",
    description:
      "Values named like secrets (password, token, secret, private key, ...) are stored in stack config only as Pulumi secrets.",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const file = context.stackFile();
      if (!file)
        args.notApplicable(
          "the stack's Pulumi.<stack>.yaml is not beside the policy pack, so its encryption cannot be checked",
        );
      for (const path of plaintextSecretPaths(file.text)) {
        // Name the key only: the value is the secret.
        report(
          `${file.name}: ${path} is stored in plain text; set it with: pulumi config set --secret --path '${path}' <value>`,
        );
      }
    },
  };
}

export function guardrails(
  context: StackContext = environmentContext(),
): (ResourceValidationPolicy | StackValidationPolicy)[] {
  return [
    sipNotOpenToWorld(),
    sshFromAdminRangesOnly(context),
    metricsFromAdminRangesOnly(context),
    primaryIpv4ProtectedInProduction(context),
    floatingIpsLeftToKeepalived(context),
    noPlaintextSecretConfig(context),
  ];
}
