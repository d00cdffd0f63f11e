import { describe, expect, it } from "vitest";
import { Addresses } from "../../components/addresses";
import { ipv6HostAddress } from "../../sip/net";
import { stackNaming } from "../../components/naming";
import { promiseOf, startMockRun, TYPES } from "../support/pulumiMocks";

async function build(args: Partial<ConstructorParameters<typeof Addresses>[1]> = {}) {
  const run = await startMockRun({ stack: "test", config: {} });
  const addresses = new Addresses("addresses", {
    naming: stackNaming("telephony", "test"),
    location: "nbg1",
    protect: false,
    ...args,
  });
  const hostAddresses = await promiseOf(addresses.hostAddresses);
  await run.settle();
  return { run, addresses, hostAddresses };
}

describe("ipv6HostAddress", () => {
  it("is the first host of the network the provider reports as ip_address (…::)", () => {
    expect(ipv6HostAddress("2a01:4f8:c17:1234::")).toBe("2a01:4f8:c17:1234::1");
  });

  it("prefers ip_network when given, with or without a prefix on ip_address", () => {
    expect(ipv6HostAddress("2a01:4f8:c17:1234::", "2a01:4f8:c17:1234::/64")).toBe("2a01:4f8:c17:1234::1");
    expect(ipv6HostAddress("2a01:4f8:c17:1234::/64")).toBe("2a01:4f8:c17:1234::1");
  });

  it("refuses something that is not an IPv6 network", () => {
    expect(() => ipv6HostAddress("203.0.113.10")).toThrow(/IPv6 network/);
  });
});

describe("Addresses", () => {
  it("creates one IPv4 and one IPv6 primary IP in the location, auto-delete off, named after project and stack, assigned only through the server", async () => {
    const { run } = await build();
    const ips = run.ofType(TYPES.primaryIp).map((r) => r.inputs);
    expect(ips.map((i) => [i.type, i.name, i.location, i.autoDelete, i.assigneeType, i.assigneeId]).sort()).toEqual([
      ["ipv4", "telephony-test-ipv4", "nbg1", false, undefined, undefined],
      ["ipv6", "telephony-test-ipv6", "nbg1", false, undefined, undefined],
    ]);
  });

  it("derives the host addresses from the resources' outputs", async () => {
    const { run, hostAddresses } = await build();
    const state = (type: string) => run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === type)!.state;
    expect(hostAddresses).toEqual({ ipv4: state("ipv4").ipAddress, ipv6: `${state("ipv6").ipAddress}1` });
  });

  it("protects nothing outside production", async () => {
    const { run } = await build();
    for (const ip of run.ofType(TYPES.primaryIp)) {
      expect(ip.protect).toBe(false);
      expect(ip.inputs.deleteProtection).toBe(false);
    }
  });

  it("adopts existing primary IPs by ID through the import option", async () => {
    const { run } = await build({ existingIds: { ipv4: "4711" } });
    const byType = (t: string) => run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === t)!;
    expect(byType("ipv4").importId).toBe("4711");
    expect(byType("ipv4").id).toBe("4711");
    expect(byType("ipv6").importId).toBe("");
  });

  it("writes reverse DNS only when a host name is set", async () => {
    expect((await build()).run.ofType(TYPES.rdns)).toEqual([]);
    const { run, hostAddresses } = await build({ hostname: "sip.example.org" });
    expect(
      run
        .ofType(TYPES.rdns)
        .map((r) => [r.inputs.ipAddress, r.inputs.dnsPtr])
        .sort(),
    ).toEqual(
      [
        [hostAddresses.ipv4, "sip.example.org"],
        [hostAddresses.ipv6, "sip.example.org"],
      ].sort(),
    );
  });
});
