/**
 * `pulumi stack init staging --copy-config-from prod` and the README's other clone steps: the
 * clone must build next to production in the same Hetzner project without a clash, on its own
 * addresses and under its own host name; prod's config copied as it is must be refused.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { configSourceFromYaml } from "../../bin/stackFile";
import { buildDeployment } from "../../components/deployment";
import { stackNaming } from "../../components/naming";
import { buildTelephony } from "../../components/telephony";
import { loadStack } from "../../sip/config";
import type { StackModel } from "../../sip/model";
import { renderAcmeRenewScript } from "../../sip/render/tls";
import { promiseOf, startMockRun, TYPES, type RegisteredResource } from "../support/pulumiMocks";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { readmeCloneCommands, runCloneCommands } from "../support/readmeClone";
import { buildStack, prodConfig, runProgram, TEST_SECRETS, type StackRun } from "../support/mockedStack";
import { paramMap, parseXml } from "../support/xml";
import { PROJECT_DIR } from "../support/environment";

let prod: StackRun;
let clone: StackRun;
beforeAll(async () => {
  prod = await buildStack("prod", prodConfig());
  clone = await buildStack("staging", readmeClone());
});

/** The config the README's clone steps make from Pulumi.prod.yaml, with prod's secrets (copied). */
function readmeClone(): Record<string, any> {
  const prodYaml = readFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
  const staging = runCloneCommands(readmeCloneCommands(), new Map([["prod", prodYaml]])).files.get("staging")!;
  return { ...parse(staging).config, "telephony:secrets": TEST_SECRETS };
}

/** Names Hetzner requires to be unique within a project. */
const hetznerNames = (run: StackRun) =>
  run.run.resources
    .filter(
      (r: RegisteredResource) =>
        r.type.startsWith("hcloud:") && r.type !== TYPES.rrset && typeof r.inputs.name === "string",
    )
    .map((r) => `${r.type} ${r.inputs.name}`);

const address = (run: StackRun, family: "ipv4" | "ipv6") =>
  run.run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === family)!.state.ipAddress as string;

describe("a stack cloned from prod", () => {
  it("builds the same set of resources, but for production's post-deploy verification", () => {
    const shape = (run: StackRun) => run.run.resources.map((r) => `${r.type} ${r.name}`).sort();
    expect(shape(clone)).toEqual(shape(prod).filter((r) => !/ verify(-|$)/.test(r)));
    expect(shape(prod).length - shape(clone).length).toBe(2);
  });

  it("shares no Hetzner resource name with prod", () => {
    const names = hetznerNames(clone);
    expect(names.length).toBeGreaterThanOrEqual(5);
    expect(names.filter((n) => hetznerNames(prod).includes(n))).toEqual([]);
    for (const n of names) expect(n).toMatch(/ telephony-staging(-|$)/);
  });

  it("registers only its own deploy key with Hetzner, never prod's or a shared admin key (Hetzner refuses duplicate fingerprints)", () => {
    const keys = (run: StackRun) => run.run.ofType(TYPES.sshKey).map((k) => k.inputs.publicKey as string);
    expect(keys(clone)).toHaveLength(1);
    expect(keys(prod)).not.toContain(keys(clone)[0]);
    for (const admin of prod.telephony.model.host.sshPublicKeys) expect(keys(clone)).not.toContain(admin);
  });

  it("gets primary IPs of its own", () => {
    expect(address(clone, "ipv4")).not.toBe(address(prod, "ipv4"));
    expect(address(clone, "ipv6")).not.toBe(address(prod, "ipv6"));
  });

  it("renders its profiles with its own addresses", async () => {
    const ext = async (run: StackRun, profile: string) =>
      paramMap(
        parseXml(
          await promiseOf(run.telephony.files.find((f) => f.path.endsWith(`/sip_profiles/${profile}.xml`))!.content),
        ),
      )["ext-rtp-ip"];
    expect(await ext(clone, "external-ipv4")).toBe(address(clone, "ipv4"));
    expect(await ext(clone, "internal")).toBe(`${address(clone, "ipv6")}1`);
  });

  it("tells its own IPv4 to whitelist with the IP-auth providers", () => {
    expect(clone.outputs.ipAuthWhitelist.plusnet).toContain(address(clone, "ipv4"));
    expect(clone.outputs.ipAuthWhitelist.plusnet).not.toContain(address(prod, "ipv4"));
  });

  it("writes no DNS record set prod writes, and points its reverse DNS and certificate at its own name", async () => {
    const rrsets = (run: StackRun) =>
      run.run.ofType(TYPES.rrset).map((r) => `${r.inputs.zone} ${r.inputs.name} ${r.inputs.type}`);
    expect(rrsets(clone).length).toBeGreaterThanOrEqual(5);
    expect(rrsets(clone).filter((r) => rrsets(prod).includes(r))).toEqual([]);
    const ptrs = (run: StackRun) => run.run.ofType(TYPES.rdns).map((r) => r.inputs.dnsPtr);
    expect(ptrs(prod)).toEqual(["sip.xynap.de", "sip.xynap.de"]);
    expect(ptrs(clone)).toEqual(["sip-staging.xynap.de", "sip-staging.xynap.de"]);
    const acme = clone.deployment.acme!;
    expect(await promiseOf(acme.issue.create)).toContain("renew.sh");
    const script = await promiseOf(clone.telephony.files.find((f) => f.path.endsWith("/tls/renew.sh"))!.content);
    expect(script).toContain("--domains sip-staging.xynap.de");
    expect(script).not.toContain("sip.xynap.de");
  });
});

describe("prod's config copied as it is", () => {
  it("is refused before any resource is registered: no DNS record, no reverse DNS, no certificate for prod's name", async () => {
    const { run, error } = await runProgram("staging", prodConfig());
    expect(String(error)).toMatch(/telephony:host\.hostname: sip\.xynap\.de belongs to prod/);
    expect(run.resources.filter((r) => r.type.startsWith("hcloud:"))).toEqual([]);
  });
});

describe("the components, given a model whose host name this stack does not own", () => {
  it("claim none of its names: no DNS record, no reverse DNS, no certificate for it (belt and braces behind the check)", async () => {
    const run = await startMockRun({ stack: "prod", config: {} });
    const { model } = loadStack(
      configSourceFromYaml("prod", readFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8")),
    );
    const unowned: StackModel = {
      ...model,
      ownsHostname: false,
      tls: { ...model.tls, mode: "self-signed", challenge: undefined },
    };
    const telephony = buildTelephony(
      { model: unowned, secrets: { trunkPasswords: {}, signalwireToken: "signalwire-test-token" } },
      stackNaming("telephony", "prod"),
    );
    const deployment = buildDeployment(telephony, PROJECT_DIR);
    await run.settle();
    expect(run.ofType(TYPES.rrset)).toEqual([]);
    expect(run.ofType(TYPES.rdns)).toEqual([]);
    expect(deployment.acme).toBeUndefined();
    expect(
      run.resources.find((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")!.inputs.dnsNames ?? [],
    ).toEqual([]);
    // With ACME, the renewal job is not even rendered for a name the stack does not own.
    expect(() => renderAcmeRenewScript({ ...model, ownsHostname: false })).toThrow(/does not own a host name/);
  });
});
