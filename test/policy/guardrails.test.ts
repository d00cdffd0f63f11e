/**
 * The policy pack's guardrails, called as the engine calls them: validateResource/validateStack
 * with the argument bag @pulumi/policy builds, and a reportViolation spy. Each policy passes a
 * compliant resource or stack and fails a violating one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it, vi } from "vitest";
import {
  environmentContext,
  FIREWALL,
  FLOATING_IP,
  floatingIpsLeftToKeepalived,
  insideAny,
  isWorldWide,
  noPlaintextSecretConfig,
  plaintextSecretPaths,
  primaryIpv4ProtectedInProduction,
  PRIMARY_IP,
  sipNotOpenToWorld,
  sshFromAdminRangesOnly,
  metricsFromAdminRangesOnly,
  type StackContext,
} from "../../policy/policies";
import { PROJECT_DIR } from "../support/environment";

class NotApplicable extends Error {}

function resourceArgs(
  type: string,
  props: Record<string, unknown>,
  opts: { protect?: boolean; ignoreChanges?: string[] } = {},
): ResourceValidationArgs {
  return {
    type,
    props,
    urn: `urn:pulumi:prod::telephony::${type}::r`,
    name: "r",
    opts: {
      protect: opts.protect ?? false,
      ignoreChanges: opts.ignoreChanges ?? [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

const stackArgs: StackValidationArgs = {
  resources: [],
  stackTags: new Map(),
  getConfig: <T extends object>() => ({}) as T,
  notApplicable: (reason?: string): never => {
    throw new NotApplicable(reason);
  },
};

/** The messages a resource policy reports for `args`. */
async function violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
  const report = vi.fn<(message: string, urn?: string) => void>();
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
  for (const v of validations) await v(args, report);
  return report.mock.calls.map(([message]) => message);
}

async function stackViolations(policy: StackValidationPolicy): Promise<string[]> {
  const report = vi.fn<(message: string, urn?: string) => void>();
  await policy.validateStack(stackArgs, report);
  return report.mock.calls.map(([message]) => message);
}

function context(config: Record<string, unknown>, stackFile?: { name: string; text: string }): StackContext {
  // The CLI passes structured values JSON-encoded, plain strings as they are.
  const encoded = Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return { config: () => encoded, stackFile: () => stackFile };
}

const rule = (protocol: string, port: string | undefined, sourceIps: string[], description = "rule") => ({
  direction: "in",
  protocol,
  port,
  sourceIps,
  description,
});
const firewall = (...rules: ReturnType<typeof rule>[]) => resourceArgs(FIREWALL, { name: "telephony-prod", rules });

const PLUSNET = ["92.197.176.0/24", "92.197.177.0/24", "92.197.182.0/24"];
const ADMIN = ["198.51.100.0/24", "2001:db8:ad::/48"];

describe("sip-not-open-to-world", () => {
  const policy = sipNotOpenToWorld();

  it("passes SIP admitted from the providers' ranges, and media open to all", async () => {
    const fw = firewall(
      rule("udp", "5060", PLUSNET),
      rule("tcp", "5061", PLUSNET),
      rule("udp", "16384-16484", ["0.0.0.0/0", "::/0"]),
      rule("icmp", undefined, ["0.0.0.0/0", "::/0"]),
    );
    expect(await violations(policy, fw)).toEqual([]);
  });

  it("fails 5060 open to 0.0.0.0/0", async () => {
    expect(await violations(policy, firewall(rule("udp", "5060", ["0.0.0.0/0"], "SIP")))).toEqual([
      expect.stringContaining('"SIP" (udp 5060) opens SIP port 5060 to 0.0.0.0/0'),
    ]);
  });

  it("fails 5061 open to ::/0", async () => {
    expect(await violations(policy, firewall(rule("tcp", "5061", ["::/0"])))).toEqual([
      expect.stringContaining("opens SIP port 5061 to ::/0"),
    ]);
  });

  it("fails a port range or 'any' that covers SIP from the world", async () => {
    expect(await violations(policy, firewall(rule("udp", "5000-6000", ["0.0.0.0/0"])))).toHaveLength(1);
    expect(await violations(policy, firewall(rule("tcp", "any", ["::/0"])))).toEqual([
      expect.stringContaining("opens SIP port 5060, 5061"),
    ]);
  });

  it("fails the world split into halves (0.0.0.0/1 + 128.0.0.0/1)", async () => {
    expect(await violations(policy, firewall(rule("udp", "5060", ["0.0.0.0/1", "128.0.0.0/1"])))).toEqual([
      expect.stringContaining("0.0.0.0/1, 128.0.0.0/1"),
    ]);
  });

  it("ignores other resource types", async () => {
    expect(
      await violations(
        policy,
        resourceArgs("hcloud:index/server:Server", { rules: [rule("udp", "5060", ["0.0.0.0/0"])] }),
      ),
    ).toEqual([]);
  });
});

describe("ssh-from-admin-ranges-only", () => {
  const configured = context({ "telephony:host": { adminSshRanges: ADMIN } });

  it("passes SSH from the configured admin ranges (or narrower)", async () => {
    const policy = sshFromAdminRangesOnly(configured);
    expect(await violations(policy, firewall(rule("tcp", "22", [...ADMIN, "198.51.100.7/32"])))).toEqual([]);
  });

  it("fails SSH from the world, with or without configured admin ranges", async () => {
    for (const ctx of [configured, context({})]) {
      expect(await violations(sshFromAdminRangesOnly(ctx), firewall(rule("tcp", "22", ["0.0.0.0/0"], "SSH")))).toEqual([
        expect.stringContaining('"SSH" (tcp 22) opens SSH to 0.0.0.0/0'),
      ]);
    }
  });

  it("fails SSH from a range outside telephony:host.adminSshRanges", async () => {
    expect(
      await violations(sshFromAdminRangesOnly(configured), firewall(rule("tcp", "22", ["203.0.113.0/24"]))),
    ).toEqual([expect.stringContaining("203.0.113.0/24, which is not inside telephony:host.adminSshRanges")]);
  });

  it("fails a tcp rule whose range includes 22 from the world", async () => {
    expect(
      await violations(sshFromAdminRangesOnly(context({})), firewall(rule("tcp", "1-1024", ["::/0"]))),
    ).toHaveLength(1);
  });

  it("does not treat udp 22 as SSH", async () => {
    expect(await violations(sshFromAdminRangesOnly(configured), firewall(rule("udp", "22", ["0.0.0.0/0"])))).toEqual(
      [],
    );
  });
});

describe("metrics-from-admin-ranges-only", () => {
  const configured = context({ "telephony:host": { adminSshRanges: ADMIN } });

  it("passes /metrics (9282/tcp) from the configured admin ranges", async () => {
    expect(await violations(metricsFromAdminRangesOnly(configured), firewall(rule("tcp", "9282", [...ADMIN])))).toEqual(
      [],
    );
  });

  it("fails /metrics from the world or from outside the admin ranges", async () => {
    expect(
      await violations(metricsFromAdminRangesOnly(configured), firewall(rule("tcp", "9282", ["::/0"], "metrics"))),
    ).toEqual([expect.stringContaining('"metrics" (tcp 9282) opens Prometheus /metrics to ::/0')]);
    expect(
      await violations(metricsFromAdminRangesOnly(configured), firewall(rule("tcp", "9000-9999", ["203.0.113.0/24"]))),
    ).toEqual([expect.stringContaining("203.0.113.0/24, which is not inside telephony:host.adminSshRanges")]);
  });

  it("agrees with the stack's port", async () => {
    const { METRICS_PORT } = await import("../../sip/hostLayout");
    const { METRICS_PORT: policyPort } = await import("../../policy/policies");
    expect(policyPort).toBe(METRICS_PORT);
  });
});

describe("primary-ipv4-protected-in-production", () => {
  const production = context({ "telephony:environment": "production" });
  const ipv4 = (props: Record<string, unknown>, protect: boolean) =>
    resourceArgs(PRIMARY_IP, { type: "ipv4", assigneeType: "server", ...props }, { protect });

  it("passes a protected IPv4 that is not auto-deleted", async () => {
    expect(await violations(primaryIpv4ProtectedInProduction(production), ipv4({ autoDelete: false }, true))).toEqual(
      [],
    );
  });

  it("fails an unprotected IPv4 in production", async () => {
    expect(await violations(primaryIpv4ProtectedInProduction(production), ipv4({ autoDelete: false }, false))).toEqual([
      expect.stringContaining("is not protected"),
    ]);
  });

  it("fails an auto-deleted IPv4 in production", async () => {
    expect(await violations(primaryIpv4ProtectedInProduction(production), ipv4({ autoDelete: true }, true))).toEqual([
      expect.stringContaining("autoDelete: false"),
    ]);
  });

  it("knows production from an environment=production label when the config does not say", async () => {
    expect(
      await violations(
        primaryIpv4ProtectedInProduction(context({})),
        ipv4({ autoDelete: false, labels: { environment: "production" } }, false),
      ),
    ).toHaveLength(1);
  });

  it("leaves a staging IPv4 and a production IPv6 alone", async () => {
    expect(
      await violations(
        primaryIpv4ProtectedInProduction(context({ "telephony:environment": "staging" })),
        ipv4({ autoDelete: true }, false),
      ),
    ).toEqual([]);
    expect(
      await violations(
        primaryIpv4ProtectedInProduction(production),
        resourceArgs(PRIMARY_IP, { type: "ipv6", autoDelete: false }),
      ),
    ).toEqual([]);
  });
});

describe("floating-ips-left-to-keepalived", () => {
  const production = context({ "telephony:environment": "production" });
  const staging = context({ "telephony:environment": "staging" });
  const floating = (props: Record<string, unknown>, opts: { protect?: boolean; ignoreChanges?: string[] }) =>
    resourceArgs(FLOATING_IP, { type: "ipv4", homeLocation: "fsn1", serverId: 42, ...props }, opts);

  it("passes a floating IP whose assignment is ignored, protected in production", async () => {
    const ok = floating({ deleteProtection: true }, { protect: true, ignoreChanges: ["serverId"] });
    expect(await violations(floatingIpsLeftToKeepalived(production), ok)).toEqual([]);
    expect(
      await violations(floatingIpsLeftToKeepalived(staging), floating({}, { ignoreChanges: ["serverId"] })),
    ).toEqual([]);
  });

  it("fails a floating IP the next update would move back, in any environment", async () => {
    expect(await violations(floatingIpsLeftToKeepalived(staging), floating({}, {}))).toEqual([
      expect.stringContaining('ignoreChanges: ["serverId"]'),
    ]);
  });

  it("fails an unprotected floating IP in production", async () => {
    expect(
      await violations(
        floatingIpsLeftToKeepalived(production),
        floating({ deleteProtection: false }, { protect: true, ignoreChanges: ["serverId"] }),
      ),
    ).toEqual([expect.stringContaining("is not protected")]);
    expect(
      await violations(
        floatingIpsLeftToKeepalived(production),
        floating({ deleteProtection: true }, { ignoreChanges: ["serverId"] }),
      ),
    ).toEqual([expect.stringContaining("is not protected")]);
  });

  it("leaves other resources alone", async () => {
    expect(
      await violations(floatingIpsLeftToKeepalived(production), resourceArgs(PRIMARY_IP, { type: "ipv4" })),
    ).toEqual([]);
  });
});

describe("no-plaintext-secret-config", () => {
  const file = (text: string) => ({ name: "Pulumi.prod.yaml", text });

  it("passes the committed stack files, whose secrets are set with --secret", async () => {
    for (const stack of ["prod", "staging"]) {
      const text = readFileSync(join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8");
      expect(await stackViolations(noPlaintextSecretConfig(context({}, file(text))))).toEqual([]);
    }
  });

  it("passes secrets stored as `secure:` ciphertext", async () => {
    const text = [
      "config:",
      "  hcloud:token:",
      "    secure: AAABAKx1",
      "  telephony:secrets:",
      "    trunkPasswords:",
      "      oneandone:",
      "        secure: AAABAJ9z",
      "  telephony:host:",
      "    sshPublicKeys: [ssh-ed25519 AAAA ops@example]",
    ].join("\n");
    expect(await stackViolations(noPlaintextSecretConfig(context({}, file(text))))).toEqual([]);
  });

  it("fails a trunk password and an API token in plain text, naming the keys and never the values", async () => {
    const text = [
      "config:",
      "  hcloud:token: hunter2-token",
      "  telephony:secrets:",
      "    trunkPasswords:",
      "      oneandone: hunter2-password",
    ].join("\n");
    const messages = await stackViolations(noPlaintextSecretConfig(context({}, file(text))));
    expect(messages).toEqual([
      expect.stringContaining("hcloud:token is stored in plain text"),
      expect.stringContaining("telephony:secrets.trunkPasswords.oneandone is stored in plain text"),
    ]);
    expect(messages.join("\n")).not.toContain("hunter2");
  });

  it("is not applicable when the stack file is not beside the pack", async () => {
    await expect(stackViolations(noPlaintextSecretConfig(context({})))).rejects.toThrow(NotApplicable);
  });

  it("finds the stack file from the CLI's environment (PULUMI_STACK)", () => {
    const dir = mkdtempSync(join(tmpdir(), "policy-"));
    try {
      writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  telephony:secrets:\n    adminToken: plain\n");
      const ctx = environmentContext(
        { PULUMI_STACK: "dev", PULUMI_CONFIG: '{"telephony:environment":"production"}' },
        dir,
      );
      expect(ctx.config()["telephony:environment"]).toBe("production");
      expect(plaintextSecretPaths(ctx.stackFile()!.text)).toEqual(["telephony:secrets.adminToken"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("range helpers", () => {
  it("counts /0 and very wide ranges as the world, provider ranges not", () => {
    expect(["0.0.0.0/0", "::/0", "::0/0", "10.0.0.0/7", "2000::/3", "not-an-ip"].every(isWorldWide)).toBe(true);
    expect(["92.197.176.0/24", "2001:8d8:104:100:212:227:124:128/125", "92.197.176.16"].some(isWorldWide)).toBe(false);
  });

  it("checks containment within the same family only", () => {
    expect(insideAny("198.51.100.7/32", ADMIN)).toBe(true);
    expect(insideAny("2001:db8:ad:1::/64", ADMIN)).toBe(true);
    expect(insideAny("198.51.0.0/16", ADMIN)).toBe(false);
    expect(insideAny("2001:db8:ae::/48", ADMIN)).toBe(false);
  });
});
