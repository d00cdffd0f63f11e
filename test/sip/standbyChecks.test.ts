import { describe, expect, it } from "vitest";
import { problemsAfter } from "../support/stackConfig";
import { STANDBY_SECRETS, standbyProblems, type StandbyStack } from "./standbyFixtures";

/** The problems' keys, and all their text, for one changed fixture. */
function refused(stack: StandbyStack, mutate: (raw: Record<string, any>) => void, secrets?: ReadonlySet<string>) {
  const problems = standbyProblems(stack, mutate, secrets);
  for (const p of problems) expect(p.fix.length, `${p.key} has no fix`).toBeGreaterThan(10);
  return {
    keys: problems.map((p) => p.key),
    text: problems.map((p) => `${p.key}: ${p.message} / ${p.fix}`).join("\n"),
  };
}

describe("standby: the checks", () => {
  it("accepts both fixture stacks as they are", () => {
    expect(standbyProblems("standby-hetzner", () => {})).toEqual([]);
    expect(standbyProblems("standby-existing", () => {})).toEqual([]);
  });

  it("with host.provider existing, names each missing part of the pair at once", () => {
    const { keys, text } = refused("standby-existing", (raw) => (raw.standby = { enabled: true }));
    expect(keys).toEqual(["standby.existing", "standby.floatingIps", "standby.serverIds"]);
    expect(text).toContain("pulumi config set --path telephony:standby.existing.ipv4");
  });

  it("refuses ACME over http-01 for a pair: the challenge reaches only the host holding the floating IPv4", () => {
    const { keys, text } = refused("standby-hetzner", (raw) => (raw.tls.challenge = "http-01"));
    expect(keys).toEqual(["tls.challenge"]);
    expect(text).toContain("use tls.challenge dns-01");
    expect(refused("standby-hetzner", (raw) => (raw.tls = { mode: "self-signed" })).keys).toEqual([]);
  });

  it("refuses the existing-only keys with provider hetzner: the stack creates those", () => {
    const { keys } = refused("standby-hetzner", (raw) => {
      raw.standby.existing = { ipv4: "203.0.113.11", ipv6: "2001:db8:11::2" };
      raw.standby.floatingIps = { ipv4: "203.0.113.20", ipv6: "2001:db8:f100::/64", ipv4Id: 1, ipv6Id: 2 };
      raw.standby.serverIds = { primary: 1, standby: 2 };
    });
    expect(keys).toEqual(["standby.existing", "standby.floatingIps", "standby.serverIds"]);
  });

  it("refuses a floating IPv4 that is a machine's own address", () => {
    const { keys, text } = refused("standby-existing", (raw) => {
      raw.standby.floatingIps.ipv4 = "203.0.113.11";
      raw.trunks.plusnet.whitelistedIpv4 = "203.0.113.11";
    });
    expect(keys).toContain("standby.floatingIps.ipv4");
    expect(text).toMatch(/203\.0\.113\.11 is standby\.existing\.ipv4, a machine's own \(primary\) address/);
  });

  it("refuses a floating IPv6 network whose ::1 is a machine's own address, however it is written", () => {
    const { keys, text } = refused("standby-existing", (raw) => {
      raw.host.existing.ipv6 = "2001:DB8:f100:0::1";
    });
    expect(keys).toEqual(["standby.floatingIps.ipv6"]);
    expect(text).toContain("host.existing.ipv6");
  });

  it("refuses a floating IPv6 that is not a /64 network", () => {
    expect(refused("standby-existing", (raw) => (raw.standby.floatingIps.ipv6 = "2001:db8:f100::1")).keys).toEqual([
      "standby.floatingIps.ipv6",
    ]);
    expect(refused("standby-existing", (raw) => (raw.standby.floatingIps.ipv6 = "2001:db8:f100::/56")).keys).toEqual([
      "standby.floatingIps.ipv6",
    ]);
  });

  it("refuses standby.existing describing the same machine as host.existing", () => {
    const { keys, text } = refused("standby-existing", (raw) => {
      raw.standby.existing = { ipv4: "203.0.113.10", ipv6: "2001:db8:99::2" };
    });
    expect(keys).toEqual(["standby.existing"]);
    expect(text).toContain("the pair needs two machines");
  });

  it("refuses a private network without room for .2 and .3, or not IPv4, or not a network address", () => {
    for (const network of ["10.77.0.0/30", "fd00::/64", "10.77.0.5/24", "10.77.0.0"])
      expect(refused("standby-hetzner", (raw) => (raw.standby.network = network)).keys, network).toEqual([
        "standby.network",
      ]);
    expect(refused("standby-hetzner", (raw) => (raw.standby.network = "10.77.0.0/29")).keys).toEqual([]);
  });

  it("refuses a private network that overlaps a range a trunk sends SIP from", () => {
    const { keys, text } = refused("standby-hetzner", (raw) => (raw.standby.network = "92.197.176.0/28"));
    expect(keys).toEqual(["standby.network"]);
    expect(text).toContain("plusnet");
  });

  it("requires secrets.hetznerFloatingIpToken where the secrets can be read", () => {
    const without = new Set([...STANDBY_SECRETS["standby-hetzner"]].filter((s) => s !== "hetznerFloatingIpToken"));
    const { keys, text } = refused("standby-hetzner", () => {}, without);
    expect(keys).toEqual(["secrets.hetznerFloatingIpToken"]);
    expect(text).toContain("pulumi config set --secret --path 'telephony:secrets.hetznerFloatingIpToken'");
    // Offline the secrets are unreadable: checked at deploy instead.
    expect(standbyProblems("standby-hetzner", () => {}, "unknown" as unknown as ReadonlySet<string>)).toEqual([]);
  });

  it("ignores every standby key while standby is not enabled", () => {
    expect(
      refused("standby-hetzner", (raw) => {
        raw.standby = { enabled: false, network: "nonsense", serverIds: { primary: 1, standby: 2 } };
      }).keys,
    ).toEqual([]);
  });
});

describe("trunks.<name>.whitelistedIpv4", () => {
  it("with standby, refuses a host's own IPv4 and names the floating IPv4 to whitelist instead", () => {
    const { keys, text } = refused("standby-existing", (raw) => (raw.trunks.plusnet.whitelistedIpv4 = "203.0.113.10"));
    expect(keys).toEqual(["trunks.plusnet.whitelistedIpv4"]);
    expect(text).toContain("203.0.113.10 is the primary IPv4 of the primary host (host.existing)");
    expect(text).toContain("whitelist the floating IPv4 203.0.113.20 instead");
  });

  it("with standby, refuses any other address than the floating IPv4", () => {
    const { keys, text } = refused("standby-existing", (raw) => (raw.trunks.plusnet.whitelistedIpv4 = "198.51.100.7"));
    expect(keys).toEqual(["trunks.plusnet.whitelistedIpv4"]);
    expect(text).toContain("not the address this stack sends SIP from (203.0.113.20, the floating IPv4)");
  });

  it("without standby on a machine you bring, must be host.existing.ipv4", () => {
    const existing = (whitelisted: string) => (raw: Record<string, any>) => {
      raw.host = { ...raw.host, provider: "existing", existing: { ipv4: "203.0.113.10", ipv6: "2001:db8::10" } };
      raw.trunks.plusnet.whitelistedIpv4 = whitelisted;
    };
    const secrets = new Set(["trunkPasswords.oneandone", "dnsToken", "signalwireToken", "sshPrivateKey"]);
    expect(problemsAfter(existing("203.0.113.10"), secrets)).toEqual([]);
    expect(problemsAfter(existing("203.0.113.99"), secrets).map((p) => p.key)).toEqual([
      "trunks.plusnet.whitelistedIpv4",
    ]);
  });

  it("without standby on Hetzner, is not checked (the server's address exists only once it is created)", () => {
    expect(problemsAfter((raw) => (raw.trunks.plusnet.whitelistedIpv4 = "198.51.100.7"))).toEqual([]);
  });

  it("is refused on a REGISTER trunk, and when it is not an IPv4 address", () => {
    expect(problemsAfter((raw) => (raw.trunks.oneandone.whitelistedIpv4 = "203.0.113.10")).map((p) => p.key)).toEqual([
      "trunks.oneandone.whitelistedIpv4",
    ]);
    expect(problemsAfter((raw) => (raw.trunks.plusnet.whitelistedIpv4 = "2001:db8::1")).map((p) => p.key)).toEqual([
      "trunks.plusnet.whitelistedIpv4",
    ]);
  });
});
