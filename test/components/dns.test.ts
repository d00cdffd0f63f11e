import { describe, expect, it } from "vitest";
import { clientProfile, Dns, relativeName, srvRecords } from "../../components/dns";
import { stackNaming } from "../../components/naming";
import type { Profile } from "../../sip/model";
import { isSecretValue, promiseOf, reveal, startMockRun, TYPES } from "../support/pulumiMocks";
import { buildStack, prodConfig, TEST_SECRETS } from "../support/mockedStack";

const profile = (over: Partial<Profile>): Profile => ({
  name: "p",
  bind: "dual",
  mediaFamily: "ipv6",
  sipPort: 5060,
  authCalls: false,
  context: "public",
  ...over,
});
const PROFILES = [
  profile({ name: "external-ipv4", bind: "ipv4", mediaFamily: "ipv4" }),
  profile({ name: "internal", authCalls: true, tlsPort: 5061, wssPort: 7443 }),
];

describe("relativeName", () => {
  it("names records relative to the zone, @ for the apex", () => {
    expect(relativeName("sip.xynap.de", "xynap.de")).toBe("sip");
    expect(relativeName("xynap.de.", "xynap.de")).toBe("@");
    expect(relativeName("sip.example.org", "xynap.de")).toBeUndefined();
    expect(relativeName("notxynap.de", "xynap.de")).toBeUndefined();
  });
});

describe("srvRecords", () => {
  it("points _sip._udp, _sip._tcp and _sips._tcp at the host with the client profile's ports", () => {
    expect(
      srvRecords({ zone: "xynap.de", hostname: "sip.xynap.de", sipDomain: "xynap.de", profiles: PROFILES }),
    ).toEqual([
      { service: "_sip._udp", name: "_sip._udp", value: "10 0 5060 sip.xynap.de." },
      { service: "_sip._tcp", name: "_sip._tcp", value: "10 0 5060 sip.xynap.de." },
      { service: "_sips._tcp", name: "_sips._tcp", value: "10 0 5061 sip.xynap.de." },
    ]);
  });

  it("places them under the SIP domain when it is below the apex", () => {
    expect(
      srvRecords({ zone: "xynap.de", hostname: "sip.xynap.de", sipDomain: "sip.xynap.de", profiles: PROFILES }).map(
        (r) => r.name,
      ),
    ).toEqual(["_sip._udp.sip", "_sip._tcp.sip", "_sips._tcp.sip"]);
  });

  it("writes no _sips._tcp without a TLS port", () => {
    const records = srvRecords({
      zone: "xynap.de",
      hostname: "sip.xynap.de",
      sipDomain: "xynap.de",
      profiles: [profile({ authCalls: true, sipPort: 5080 })],
    });
    expect(records.map((r) => r.value)).toEqual(["10 0 5080 sip.xynap.de.", "10 0 5080 sip.xynap.de."]);
  });

  it("writes none for a SIP domain outside the zone", () => {
    expect(
      srvRecords({ zone: "xynap.de", hostname: "sip.xynap.de", sipDomain: "example.org", profiles: PROFILES }),
    ).toEqual([]);
  });

  it("takes the profile that authenticates callers", () => {
    expect(clientProfile(PROFILES)?.name).toBe("internal");
  });
});

describe("Dns", () => {
  it("writes A, AAAA and the SRV record sets into the zone with the configured TTL, and no NAPTR", async () => {
    const run = await startMockRun({ stack: "test", config: {} });
    const dns = new Dns("dns", {
      naming: stackNaming("telephony", "test"),
      zone: "xynap.de",
      ttl: 600,
      hostname: "sip.xynap.de",
      sipDomain: "xynap.de",
      profiles: PROFILES,
      addresses: { ipv4: "203.0.113.10", ipv6: "2001:db8:1234:5678::1" },
    });
    const summary = await promiseOf(dns.summary);
    await run.settle();
    const sets = run.ofType(TYPES.rrset).map((r) => r.inputs);
    expect(sets.map((s) => [s.zone, s.name, s.type, s.ttl, s.records[0].value]).sort()).toEqual(
      [
        ["xynap.de", "sip", "A", 600, "203.0.113.10"],
        ["xynap.de", "sip", "AAAA", 600, "2001:db8:1234:5678::1"],
        ["xynap.de", "_sip._udp", "SRV", 600, "10 0 5060 sip.xynap.de."],
        ["xynap.de", "_sip._tcp", "SRV", 600, "10 0 5060 sip.xynap.de."],
        ["xynap.de", "_sips._tcp", "SRV", 600, "10 0 5061 sip.xynap.de."],
      ].sort(),
    );
    expect(sets.some((s) => s.type === "NAPTR")).toBe(false);
    expect(summary).toContain("sip A 203.0.113.10");
  });

  it("writes the records with a provider of their own, holding the zone project's token (a secret), not the stack's", async () => {
    const { run } = await buildStack("prod", prodConfig());
    const providers = run.ofType("pulumi:providers:hcloud");
    expect(providers.map((p) => p.name)).toEqual(["dns-zone-project"]);
    expect(isSecretValue(providers[0].inputs.token)).toBe(true);
    expect(reveal(providers[0].inputs.token)).toBe(TEST_SECRETS.dnsToken);
    const rrsets = run.ofType(TYPES.rrset);
    expect(rrsets.length).toBe(5);
    for (const r of rrsets) expect(r.provider, r.name).toMatch(/::dns-zone-project::/);
    // Everything else (server, IPs and their reverse DNS, firewall) stays with the stack's default provider.
    for (const type of [TYPES.server, TYPES.primaryIp, TYPES.firewall, TYPES.rdns]) {
      for (const r of run.ofType(type)) expect(r.provider, r.name).not.toMatch(/dns-zone-project/);
    }
  });
});
