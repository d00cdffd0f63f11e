import { describe, expect, it } from "vitest";
import { canonicalCidr, cloudFirewallRules, Firewall } from "../../components/firewall";
import { stackNaming } from "../../components/naming";
import { WORLD, type InboundRule } from "../../sip/firewall";
import { startMockRun, TYPES } from "../support/pulumiMocks";

const rule = (over: Partial<InboundRule> = {}): InboundRule => ({
  description: "SIP 5060/udp from t",
  protocol: "udp",
  ports: { start: 5060, end: 5060 },
  sourceRanges: ["92.197.176.0/24"],
  purpose: "t",
  ...over,
});

describe("cloudFirewallRules", () => {
  it("maps each inbound rule to one inbound hcloud rule, ports as Hetzner writes them", () => {
    expect(
      cloudFirewallRules([
        rule(),
        rule({ protocol: "udp", ports: { start: 16384, end: 16484 }, sourceRanges: [...WORLD], description: "RTP" }),
      ]),
    ).toEqual([
      {
        direction: "in",
        protocol: "udp",
        port: "5060",
        sourceIps: ["92.197.176.0/24"],
        description: "SIP 5060/udp from t",
      },
      { direction: "in", protocol: "udp", port: "16384-16484", sourceIps: ["0.0.0.0/0", "::/0"], description: "RTP" },
    ]);
  });

  it("gives ICMP no port", () => {
    const [icmp] = cloudFirewallRules([rule({ protocol: "icmp", ports: undefined, sourceRanges: [...WORLD] })]);
    expect(icmp).not.toHaveProperty("port");
  });

  it("refuses a rule that would open ESL or the config API", () => {
    expect(() => cloudFirewallRules([rule({ protocol: "tcp", ports: { start: 8000, end: 8030 } })])).toThrow(
      /ESL or the config API/,
    );
  });

  it("refuses more rules than Hetzner allows per firewall", () => {
    const many = Array.from({ length: 51 }, (_, i) => rule({ ports: { start: 20000 + i, end: 20000 + i } }));
    expect(() => cloudFirewallRules(many)).toThrow(/50 per firewall/);
  });

  it("refuses more than 500 effective rules", () => {
    const wide = Array.from({ length: 6 }, (_, i) =>
      rule({
        ports: { start: 20000 + i, end: 20000 + i },
        sourceRanges: Array.from({ length: 100 }, (_, j) => `10.${i}.${j}.0/24`),
      }),
    );
    expect(() => cloudFirewallRules(wide)).toThrow(/effective rules/);
  });
});

describe("canonicalCidr", () => {
  it("writes IPv6 as Hetzner returns it, so previews do not diff on spelling", () => {
    expect(canonicalCidr("2001:DB8:0:0:0:0:0:0/32")).toBe("2001:db8::/32");
    expect(canonicalCidr("::/0")).toBe("::/0");
    expect(canonicalCidr("92.197.176.0/24")).toBe("92.197.176.0/24");
  });
});

describe("Firewall", () => {
  it("is one hcloud firewall named and labelled from project and stack only, attached by the server (no applyTos)", async () => {
    const run = await startMockRun({ stack: "test", config: {} });
    new Firewall("firewall", { naming: stackNaming("telephony", "test"), rules: [rule()] });
    await run.settle();
    const fw = run.one(TYPES.firewall);
    expect(fw.inputs.name).toBe("telephony-test-firewall");
    expect(fw.inputs.labels).toEqual({ "managed-by": "pulumi", project: "telephony", stack: "test" });
    expect(fw.inputs.applyTos).toBeUndefined();
    expect(fw.inputs.rules).toHaveLength(1);
  });
});
