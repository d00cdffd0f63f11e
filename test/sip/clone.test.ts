/**
 * Environment cloning: `pulumi stack init staging --copy-config-from prod` copies prod's config,
 * secrets included. A REGISTER trunk must stay off in the clone until the clone is named in the
 * trunk's activeInStacks, or the clone would register the same account and take over prod's calls.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { configSourceFromYaml } from "../../bin/stackFile";
import { loadStack, type ConfigSource } from "../../sip/config";
import { activeGatewaySpecs, renderGatewaysDirectory } from "../../sip/render/gateways";

const root = join(__dirname, "..", "..");
const prodYaml = readFileSync(join(root, "Pulumi.prod.yaml"), "utf8");
const PASSWORD = "copied-1und1-password";

/** A stack whose secrets are readable, as under `pulumi up` (copy-config-from re-encrypts them). */
function deployedStack(stack: string, yamlText: string): ConfigSource {
  return { ...configSourceFromYaml(stack, yamlText), getSecret: () => ({ trunkPasswords: { oneandone: PASSWORD }, dnsToken: "dns-token" }) };
}

function servedGateways(stack: string, yamlText: string) {
  const { model, secrets } = loadStack(deployedStack(stack, yamlText));
  return activeGatewaySpecs(model, secrets!.trunkPasswords);
}

describe("a stack cloned from prod", () => {
  it("serves no gateway for the copied REGISTER trunk when the clone is not named in activeInStacks", () => {
    const specs = servedGateways("staging", prodYaml);
    expect(specs.map((g) => g.name)).toEqual(["plusnet"]);
    expect(specs.some((g) => g.register)).toBe(false);
  });

  it("answers FreeSWITCH's gateway lookup for the REGISTER trunk's profile without that gateway or its password", () => {
    const xml = renderGatewaysDirectory("sip.example", "internal", servedGateways("staging", prodYaml));
    expect(xml).not.toContain('name="oneandone"');
    expect(xml).not.toContain(PASSWORD);
  });

  it("still serves the IP-authenticated trunk, which follows the clone's own IPv4", () => {
    const xml = renderGatewaysDirectory("sip.example", "external-ipv4", servedGateways("staging", prodYaml));
    expect(xml).toContain('<gateway name="plusnet">');
  });

  it("serves the REGISTER trunk once the clone is named in activeInStacks", () => {
    const doc = parse(prodYaml);
    doc.config["telephony:trunks"].oneandone.activeInStacks = ["prod", "staging"];
    const specs = servedGateways("staging", stringify(doc));
    expect(specs.find((g) => g.name === "oneandone")).toMatchObject({ register: true, password: PASSWORD });
  });
});

describe("prod", () => {
  it("serves the REGISTER trunk with its password, and the IP-authenticated one", () => {
    const specs = servedGateways("prod", prodYaml);
    expect(specs.map((g) => g.name)).toEqual(["oneandone", "plusnet"]);
    expect(specs.find((g) => g.name === "oneandone")).toMatchObject({ register: true, password: PASSWORD });
    expect(renderGatewaysDirectory("sip.example", "internal", specs)).toContain('<gateway name="oneandone">');
  });
});

describe("the example Pulumi.staging.yaml", () => {
  const stagingYaml = readFileSync(join(root, "Pulumi.staging.yaml"), "utf8");

  it("is prod's config with only the environment, hostname and preview addresses changed", () => {
    const prod = parse(prodYaml).config;
    const staging = parse(stagingYaml).config;
    expect(staging["telephony:environment"]).toBe("staging");
    const withoutEdits = (c: Record<string, any>) => {
      const { hostname: _h, previewAddresses: _p, ...host } = c["telephony:host"];
      return { ...c, "telephony:environment": undefined, "telephony:host": host };
    };
    expect(withoutEdits(staging)).toEqual(withoutEdits(prod));
    expect(staging["telephony:host"].previewAddresses).not.toEqual(prod["telephony:host"].previewAddresses);
  });

  it("keeps the copied 1&1 trunk off: no REGISTER gateway is served", () => {
    expect(servedGateways("staging", stagingYaml).map((g) => g.name)).toEqual(["plusnet"]);
  });
});
