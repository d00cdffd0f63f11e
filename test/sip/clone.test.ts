/**
 * Environment cloning: `pulumi stack init staging --copy-config-from prod` copies prod's config,
 * secrets included. A REGISTER trunk must stay off in the clone until the clone is named in the
 * trunk's activeInStacks, or the clone would register the same account and take over prod's calls;
 * the host name (DNS records, reverse DNS, certificate) must not be claimed until the clone has
 * one of its own. The README's steps are run as written (test/support/readmeClone.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { configSourceFromYaml } from "../../bin/stackFile";
import { loadStack, type ConfigSource } from "../../sip/config";
import { inboundRules } from "../../sip/firewall";
import { StackConfigError } from "../../sip/problems";
import { renderAcl } from "../../sip/render/acl";
import { activeGatewaySpecs, renderGatewaysDirectory } from "../../sip/directory";
import { renderUfwScript } from "../../sip/render/ufw";
import { readmeCloneCommands, runCloneCommands } from "../support/readmeClone";
import { PROJECT_DIR } from "../support/environment";

const prodYaml = readFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
const PASSWORD = "copied-1und1-password";

/** A stack whose secrets are readable, as under `pulumi up` (copy-config-from re-encrypts them). */
function deployedStack(stack: string, yamlText: string): ConfigSource {
  return {
    ...configSourceFromYaml(stack, yamlText),
    getSecret: () => ({
      trunkPasswords: { oneandone: PASSWORD },
      dnsToken: "dns-token",
      signalwireToken: "signalwire-token",
    }),
  };
}

const readmeSteps = readmeCloneCommands();
/** Pulumi.staging.yaml as the README's steps make it from Pulumi.prod.yaml. */
const clonedYaml = runCloneCommands(readmeSteps, new Map([["prod", prodYaml]])).files.get("staging")!;

function problemsOf(stack: string, yamlText: string) {
  try {
    loadStack(deployedStack(stack, yamlText));
    return [];
  } catch (err) {
    if (err instanceof StackConfigError) return [...err.problems];
    throw err;
  }
}

function servedGateways(stack: string, yamlText: string) {
  const { model, secrets } = loadStack(deployedStack(stack, yamlText));
  return activeGatewaySpecs(model, secrets!.trunkPasswords);
}

describe("the README's clone steps", () => {
  it("copy prod, set the environment, give the clone a name of its own, then render it", () => {
    expect(readmeSteps[0]).toBe("pulumi stack init staging --copy-config-from prod");
    const run = runCloneCommands(readmeSteps, new Map([["prod", prodYaml]]));
    expect(run.rendered).toEqual(["staging"]);
    expect(problemsOf("staging", clonedYaml)).toEqual([]);
    const { model } = loadStack(deployedStack("staging", clonedYaml));
    expect(model.environment).toBe("staging");
    expect(model.host.hostname).not.toBe("sip.xynap.de");
    expect(model.ownsHostname).toBe(true);
  });

  it("before the renaming steps, refuse the copy: prod's host name is not the clone's, and the fix is the README's next commands", () => {
    const copied = runCloneCommands(readmeSteps.slice(0, 2), new Map([["prod", prodYaml]])).files.get("staging")!;
    const problems = problemsOf("staging", copied);
    expect(problems.map((p) => p.key)).toEqual(["host.hostname"]);
    expect(problems[0].message).toMatch(/sip\.xynap\.de belongs to prod .*DNS records.*reverse DNS.*ACME/);
    for (const command of readmeSteps.slice(2, 4)) expect(problems[0].fix).toContain(command);
  });

  it("a copy made by hand, without the first commands, is refused too", () => {
    expect(problemsOf("staging", prodYaml).map((p) => p.key)).toEqual(["host.hostname"]);
  });

  it("produce the repository's Pulumi.staging.yaml, but for the preview addresses", () => {
    const strip = (text: string) => {
      const config = parse(text).config;
      delete config["telephony:host"].previewAddresses;
      return config;
    };
    expect(strip(readFileSync(join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8"))).toEqual(strip(clonedYaml));
  });
});

describe("a stack cloned from prod", () => {
  it("does not admit the providers of trunks that are off in it: cloud firewall, UFW and ACL", () => {
    const { model } = loadStack(deployedStack("staging", clonedYaml));
    const oneandone = model.trunks.find((t) => t.name === "oneandone")!;
    expect(oneandone.active).toBe(false);
    expect(inboundRules(model).filter((r) => r.purpose === "oneandone")).toEqual([]);
    const ufw = renderUfwScript(model);
    const acl = renderAcl(model);
    for (const range of oneandone.sourceRanges) {
      expect(ufw).not.toContain(range);
      expect(acl).not.toContain(range);
    }
    // The IP-authenticated trunk is active in the clone and stays admitted.
    expect(acl).toContain(model.trunks.find((t) => t.name === "plusnet")!.sourceRanges[0]);
    // Prod admits both.
    const prod = loadStack(deployedStack("prod", prodYaml)).model;
    expect(inboundRules(prod).filter((r) => r.purpose === "oneandone").length).toBeGreaterThan(0);
    expect(renderAcl(prod)).toContain(oneandone.sourceRanges[0]);
  });

  it("serves no gateway for the copied REGISTER trunk when the clone is not named in activeInStacks", () => {
    const specs = servedGateways("staging", clonedYaml);
    expect(specs.map((g) => g.name)).toEqual(["plusnet"]);
    expect(specs.some((g) => g.register)).toBe(false);
  });

  it("answers FreeSWITCH's gateway lookup for the REGISTER trunk's profile without that gateway or its password", () => {
    const xml = renderGatewaysDirectory("sip.example", "internal", servedGateways("staging", clonedYaml));
    expect(xml).not.toContain('name="oneandone"');
    expect(xml).not.toContain(PASSWORD);
  });

  it("still serves the IP-authenticated trunk, which follows the clone's own IPv4", () => {
    const xml = renderGatewaysDirectory("sip.example", "external-ipv4", servedGateways("staging", clonedYaml));
    expect(xml).toContain('<gateway name="plusnet">');
  });

  it("serves the REGISTER trunk once the clone is named in activeInStacks", () => {
    const doc = parse(clonedYaml);
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
  const stagingYaml = readFileSync(join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");

  it("keeps the copied 1&1 trunk off: no REGISTER gateway is served", () => {
    expect(servedGateways("staging", stagingYaml).map((g) => g.name)).toEqual(["plusnet"]);
  });
});
