/**
 * `pulumi stack init staging --copy-config-from prod`: the same config under another stack name
 * must build next to production in the same Hetzner project without a clash, on its own addresses.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { promiseOf, TYPES, type RegisteredResource } from "../helpers/pulumi";
import { buildStack, prodConfig, type StackRun } from "../helpers/stack";
import { paramMap, parseXml } from "../helpers/xml";

let prod: StackRun;
let clone: StackRun;
beforeAll(async () => {
  prod = await buildStack("prod", prodConfig());
  clone = await buildStack("staging", prodConfig());
});

/** Names Hetzner requires to be unique within a project. */
const hetznerNames = (run: StackRun) =>
  run.run.resources.filter((r: RegisteredResource) => r.type.startsWith("hcloud:") && r.type !== TYPES.rrset && typeof r.inputs.name === "string").map((r) => `${r.type} ${r.inputs.name}`);

const address = (run: StackRun, family: "ipv4" | "ipv6") => run.run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === family)!.state.ipAddress as string;

describe("a stack cloned from prod", () => {
  it("builds the same set of resources", () => {
    const shape = (run: StackRun) => run.run.resources.map((r) => `${r.type} ${r.name}`).sort();
    expect(shape(clone)).toEqual(shape(prod));
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
      paramMap(parseXml(await promiseOf(run.telephony.files.find((f) => f.path.endsWith(`/sip_profiles/${profile}.xml`))!.content)))["ext-rtp-ip"];
    expect(await ext(clone, "external-ipv4")).toBe(address(clone, "ipv4"));
    expect(await ext(clone, "internal")).toBe(`${address(clone, "ipv6")}1`);
  });

  it("tells its own IPv4 to whitelist with the IP-auth providers", () => {
    expect(clone.outputs.ipAuthWhitelist.plusnet).toContain(address(clone, "ipv4"));
    expect(clone.outputs.ipAuthWhitelist.plusnet).not.toContain(address(prod, "ipv4"));
  });

  it("writes the same DNS names as prod while it keeps prod's host name (the one thing to change; Hetzner then refuses the duplicate record set)", () => {
    const rrsets = (run: StackRun) => run.run.ofType(TYPES.rrset).map((r) => `${r.inputs.zone} ${r.inputs.name} ${r.inputs.type}`);
    expect(rrsets(clone)).toEqual(rrsets(prod));
  });
});

describe("a clone with its own host name", () => {
  it("writes no DNS record set prod writes", async () => {
    const renamed = await buildStack("staging", prodConfig((c) => (c["telephony:host"].hostname = "sip-staging.xynap.de")));
    const rrsets = (run: StackRun) => run.run.ofType(TYPES.rrset).map((r) => `${r.inputs.zone} ${r.inputs.name} ${r.inputs.type}`);
    expect(rrsets(renamed).filter((r) => rrsets(prod).includes(r))).toEqual([]);
  });
});
