/**
 * The production stack (Pulumi.prod.yaml) on Pulumi's mock runtime: the Hetzner resources it
 * registers, the firewall it opens, and the files it renders from the primary IPs' addresses.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { HETZNER_LIMITS, WORLD } from "../../sip/firewall";
import { isSecretValue, promiseOf, reveal, TYPES, type RegisteredResource } from "../support/pulumiMocks";
import { buildStack, prodConfig, TEST_SECRETS, type StackRun } from "../support/mockedStack";
import { paramMap, parseXml } from "../support/xml";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_API_PORT, ESL_PORT } from "../../sip/hostLayout";

let prod: StackRun;
beforeAll(async () => {
  prod = await buildStack("prod", prodConfig());
});

const primaryIps = () => prod.run.ofType(TYPES.primaryIp);
const ipOf = (family: "ipv4" | "ipv6") => primaryIps().find((r) => r.inputs.type === family)!;
const server = () => prod.run.one(TYPES.server);
const firewallRules = () =>
  prod.run.one(TYPES.firewall).inputs.rules as {
    protocol: string;
    port?: string;
    sourceIps: string[];
    description: string;
    direction: string;
  }[];

function portRange(port: string | undefined): [number, number] | undefined {
  if (!port) return undefined;
  const [start, end = start] = port.split("-").map(Number);
  return [start, end];
}

describe("primary IPs", () => {
  it("are two, one IPv4 and one IPv6, in the host's location", () => {
    expect(
      primaryIps()
        .map((r) => r.inputs.type)
        .sort(),
    ).toEqual(["ipv4", "ipv6"]);
    for (const ip of primaryIps()) expect(ip.inputs.location).toBe("fsn1");
  });

  it("outlive the server: auto-delete is off", () => {
    for (const ip of primaryIps()) expect(ip.inputs.autoDelete).toBe(false);
  });

  it("are protected in production, in Pulumi and at Hetzner", () => {
    for (const ip of primaryIps()) {
      expect(ip.protect).toBe(true);
      expect(ip.inputs.deleteProtection).toBe(true);
    }
  });

  it("get reverse DNS to the host name, IPv6 on the server's …::1 address", () => {
    const ptrs = prod.run.ofType(TYPES.rdns);
    expect(ptrs.map((p) => [p.inputs.primaryIpId, p.inputs.ipAddress, p.inputs.dnsPtr]).sort()).toEqual(
      [
        [Number(ipOf("ipv4").id), ipOf("ipv4").state.ipAddress, "sip.xynap.de"],
        [Number(ipOf("ipv6").id), ipOf("ipv6").state.ipAddress + "1", "sip.xynap.de"],
      ].sort(),
    );
  });
});

describe("server", () => {
  it("is one, on both primary IPs and behind the firewall", () => {
    const s = server();
    expect(s.inputs.publicNets).toEqual([
      { ipv4Enabled: true, ipv4: Number(ipOf("ipv4").id), ipv6Enabled: true, ipv6: Number(ipOf("ipv6").id) },
    ]);
    expect(s.inputs.firewallIds).toEqual([Number(prod.run.one(TYPES.firewall).id)]);
  });

  it("takes type, image and location from config and carries stack and environment labels", () => {
    expect(server().inputs).toMatchObject({
      serverType: "cx22",
      image: "debian-12",
      location: "fsn1",
      labels: { stack: "prod", environment: "production", "managed-by": "pulumi" },
    });
  });
});

describe("cloud firewall", () => {
  it("has exactly the replaced host's rules plus SSH and /metrics from the admin ranges, and ICMP", () => {
    const rules = firewallRules().map((r) => ({
      protocol: r.protocol,
      port: r.port,
      sourceIps: [...r.sourceIps].sort(),
    }));
    const replacedHost = [
      { protocol: "udp", port: "5060", sourceIps: ["92.197.176.0/24", "92.197.177.0/24", "92.197.182.0/24"] },
      { protocol: "tcp", port: "5061", sourceIps: ["92.197.176.0/24", "92.197.177.0/24", "92.197.182.0/24"] },
      { protocol: "udp", port: "5060", sourceIps: ["2001:8d8:104:100:212:227:124:128/125", "212.227.124.0/24"] },
      { protocol: "tcp", port: "7443", sourceIps: ["0.0.0.0/0", "::/0"] },
      { protocol: "udp", port: "10000-10060", sourceIps: ["0.0.0.0/0", "::/0"] },
      { protocol: "udp", port: "16384-16484", sourceIps: ["0.0.0.0/0", "::/0"] },
    ];
    const added = [
      { protocol: "tcp", port: "22", sourceIps: ["198.51.100.0/24", "2001:db8:ad::/48"] },
      { protocol: "tcp", port: "9282", sourceIps: ["198.51.100.0/24", "2001:db8:ad::/48"] },
      { protocol: "icmp", port: undefined, sourceIps: ["0.0.0.0/0", "::/0"] },
    ];
    const key = (r: { protocol: string; port?: string; sourceIps: string[] }) =>
      JSON.stringify([r.protocol, r.port ?? "", r.sourceIps]);
    expect(rules.map(key).sort()).toEqual([...replacedHost, ...added].map(key).sort());
    for (const r of firewallRules()) expect(r.direction).toBe("in");
  });

  it("never opens 5060 or 5061 to the whole Internet", () => {
    for (const r of firewallRules()) {
      const range = portRange(r.port);
      const sip = range && [5060, 5061].some((p) => p >= range[0] && p <= range[1]);
      if (sip) for (const world of WORLD) expect(r.sourceIps, r.description).not.toContain(world);
    }
  });

  it("writes the IPv6 world as ::/0 exactly", () => {
    const sources = firewallRules().flatMap((r) => r.sourceIps);
    expect(sources).toContain("::/0");
    expect(sources.filter((s) => /^::0+\/0$|^0:0/.test(s))).toEqual([]);
  });

  it("never names the config API or ESL port", () => {
    for (const r of firewallRules()) {
      const range = portRange(r.port);
      if (!range) continue;
      for (const port of [CONFIG_API_PORT, ESL_PORT])
        expect(port >= range[0] && port <= range[1], r.description).toBe(false);
    }
  });

  it("stays within Hetzner's limits", () => {
    const rules = firewallRules();
    expect(rules.length).toBeLessThanOrEqual(HETZNER_LIMITS.rulesPerFirewall);
    for (const r of rules) expect(r.sourceIps.length).toBeLessThanOrEqual(HETZNER_LIMITS.ipsPerRule);
    expect(rules.reduce((n, r) => n + r.sourceIps.length, 0)).toBeLessThanOrEqual(HETZNER_LIMITS.effectiveRules);
  });
});

describe("rendered files", () => {
  const profile = async (name: string) => {
    const file = prod.telephony.files.find((f) => f.path.endsWith(`/sip_profiles/${name}.xml`))!;
    return paramMap(parseXml(await promiseOf(file.content)));
  };

  it("give external-ipv4 the mocked primary IPv4, not the preview address", async () => {
    const params = await profile("external-ipv4");
    const ipv4 = ipOf("ipv4").state.ipAddress;
    expect(params).toMatchObject({ "sip-ip": ipv4, "ext-sip-ip": ipv4, "ext-rtp-ip": ipv4 });
    expect(ipv4).not.toBe(prod.telephony.model.host.previewAddresses.ipv4);
  });

  it("give internal the server's address in the mocked IPv6 network (…::1), not the preview address", async () => {
    const params = await profile("internal");
    const network = ipOf("ipv6").state.ipAddress as string;
    expect(network.endsWith("::")).toBe(true);
    expect(params).toMatchObject({ "sip-ip": `${network}1`, "ext-sip-ip": `${network}1`, "ext-rtp-ip": `${network}1` });
    expect(params["ext-rtp-ip"]).not.toBe(prod.telephony.model.host.previewAddresses.ipv6);
  });

  it("are secret Outputs exactly where they hold secrets", async () => {
    const flags = await Promise.all(
      prod.telephony.files.map(async (f) => [f.path, f.secret, await pulumi.isSecret(f.content)] as const),
    );
    for (const [path, marked, secret] of flags) expect(secret, path).toBe(marked);
    expect(flags.filter(([, marked]) => marked).length).toBeGreaterThan(0);
  });

  it("carry the generated secrets only in files marked secret", async () => {
    const secrets = await promiseOf(prod.telephony.secrets.values);
    for (const f of prod.telephony.files) {
      const content = await promiseOf(f.content);
      const holds = Object.values(secrets).some((s) => content.includes(s));
      if (!f.secret) expect(holds, f.path).toBe(false);
    }
  });
});

describe("secrets", () => {
  it("generate a Fernet key of 32 bytes in URL-safe base64", async () => {
    const { fernetKey } = await promiseOf(prod.telephony.secrets.values);
    expect(fernetKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(fernetKey, "base64url")).toHaveLength(32);
  });

  it("keep every generated value and the trunk passwords secret", async () => {
    expect(await pulumi.isSecret(prod.telephony.secrets.values)).toBe(true);
    expect(await pulumi.isSecret(prod.telephony.trunkPasswords.oneandone)).toBe(true);
    expect(await promiseOf(prod.telephony.trunkPasswords.oneandone)).toBe(TEST_SECRETS.trunkPasswords.oneandone);
  });

  it("never appear in a registered input that is not a Pulumi secret", async () => {
    const generated = Object.values(await promiseOf(prod.telephony.secrets.values));
    // Every random value the stack generated (extension passwords and API tokens included).
    const randoms = prod.run.ofType(TYPES.password).map((r) => r.state.result as string);
    const values = [
      ...generated,
      ...randoms,
      TEST_SECRETS.trunkPasswords.oneandone,
      TEST_SECRETS.dnsToken,
      "OPENSSH PRIVATE KEY",
    ];
    expect(randoms.length).toBeGreaterThanOrEqual(5);
    const leaks: string[] = [];
    const scan = (where: string, value: unknown) => {
      if (isSecretValue(value)) return;
      if (typeof value === "string") {
        for (const s of values) if (value.includes(s)) leaks.push(where);
      } else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) scan(`${where}.${k}`, v);
      }
    };
    for (const r of prod.run.resources) scan(`${r.type}:${r.name}`, r.inputs);
    expect(leaks).toEqual([]);
  });

  it("are found by that scan once unwrapped (the scan can fail)", async () => {
    const command = prod.run.ofType(TYPES.command)[0];
    expect(JSON.stringify(reveal(command.inputs))).toContain("OPENSSH PRIVATE KEY");
    // @pulumi/command marks the whole connection secret; the host's own object keeps the host plain.
    expect(isSecretValue(command.inputs.connection)).toBe(true);
    expect(await pulumi.isSecret(pulumi.output(prod.telephony.host.connection.privateKey))).toBe(true);
    expect(await pulumi.isSecret(pulumi.output(prod.telephony.host.connection.host))).toBe(false);
  });

  it("never appear in the stack outputs", () => {
    const text = JSON.stringify(prod.outputs);
    for (const s of [TEST_SECRETS.trunkPasswords.oneandone, TEST_SECRETS.dnsToken, "PRIVATE KEY", "mockpw"])
      expect(text).not.toContain(s);
  });
});

describe("outputs", () => {
  it("name the IPv4 each IP-auth provider must whitelist, and only for IP-auth trunks", () => {
    const ipv4 = ipOf("ipv4").state.ipAddress;
    expect(prod.outputs.ipv4).toBe(ipv4);
    expect(Object.keys(prod.outputs.ipAuthWhitelist)).toEqual(["plusnet"]);
    expect(prod.outputs.ipAuthWhitelist.plusnet).toContain(ipv4);
  });

  it("list the gateways each profile serves", () => {
    expect(prod.outputs.gateways).toEqual({
      "external-ipv4": ["plusnet"],
      internal: ["oneandone"],
      "internal-ipv4": [],
    });
  });

  it("give the server's IPv6 address and its network", () => {
    const network = ipOf("ipv6").state.ipAddress;
    expect(prod.outputs.ipv6).toBe(`${network}1`);
    expect(prod.outputs.ipv6Network).toBe(`${network}/64`);
  });

  it("summarise the firewall, one line per rule", () => {
    expect(prod.outputs.firewall.name).toBe("telephony-prod-firewall");
    expect(prod.outputs.firewall.rules).toHaveLength(firewallRules().length);
    expect(prod.outputs.firewall.rules).toContain(
      "tcp 5061 from 92.197.176.0/24, 92.197.177.0/24, 92.197.182.0/24: SIP 5061/tcp from plusnet",
    );
  });

  it("give host name, server name and id", () => {
    expect(prod.outputs).toMatchObject({
      hostname: "sip.xynap.de",
      serverName: "telephony-prod",
      serverId: server().id,
    });
  });
});

describe("resource names", () => {
  it("derive from project and stack", () => {
    const named = prod.run.resources.filter(
      (r: RegisteredResource) =>
        r.type.startsWith("hcloud:") && typeof r.inputs.name === "string" && r.type !== TYPES.rrset,
    );
    expect(named.length).toBeGreaterThanOrEqual(5);
    for (const r of named) expect(r.inputs.name, r.type).toMatch(/^telephony-prod(-|$)/);
  });

  it("keep the firewall's labels to project and stack, so they never change with config", () => {
    expect(prod.run.one(TYPES.firewall).inputs.labels).toEqual({
      "managed-by": "pulumi",
      project: "telephony",
      stack: "prod",
    });
  });
});
