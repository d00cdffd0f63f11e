import { describe, expect, it } from "vitest";
import { buildModel } from "../../sip/stack";
import { StackConfigError } from "../../sip/problems";
import { PROD_SECRETS, problemsAfter, prodRawConfig } from "../support/stackConfig";

/** Asserts that the change is refused with a problem on exactly `key`, whose text says `says`. */
function expectRefused(
  mutate: (raw: Record<string, any>) => void,
  key: string,
  says: RegExp,
  passwords?: ReadonlySet<string>,
) {
  const problems = problemsAfter(mutate, passwords);
  const onKey = problems.filter((p) => p.key === key);
  expect(onKey, `problems were: ${JSON.stringify(problems, null, 1)}`).not.toHaveLength(0);
  expect(onKey.map((p) => p.message).join(" | ")).toMatch(says);
  for (const p of onKey) expect(p.fix.length).toBeGreaterThan(5);
}

describe("the production config", () => {
  it("passes every check", () => {
    expect(problemsAfter(() => {})).toEqual([]);
  });
});

describe("a configuration that falls into a known pitfall is refused, naming the key", () => {
  it("1&1 realm set to the parent domain 1und1.de (401 with correct credentials)", () => {
    expectRefused((c) => (c.trunks.oneandone.realm = "1und1.de"), "trunks.oneandone.realm", /parent domain/);
  });

  it("a realm other than the proxy host on a 1&1 trunk", () => {
    expectRefused(
      (c) => (c.trunks.oneandone.realm = "voip.example.net"),
      "trunks.oneandone.realm",
      /realm is the proxy host/,
    );
  });

  it("a malformed bracketed IPv6 outbound proxy", () => {
    expectRefused(
      (c) => (c.trunks.oneandone.outboundProxy = "[2001:8d8:104:100:212:227:124:129"),
      "trunks.oneandone.outboundProxy",
      /bracketed IPv6/,
    );
  });

  it("an IP-authenticated trunk without an outbound proxy (INVITE and ACK to different servers, 408)", () => {
    expectRefused((c) => (c.trunks.plusnet.outboundProxy = ""), "trunks.plusnet.outboundProxy", /408/);
    expectRefused(
      (c) =>
        (c.trunks.plusnet = {
          preset: "generic",
          profile: "external-ipv4",
          family: "ipv4",
          proxy: "sip.plusnet.de",
          register: false,
          sourceRanges: ["92.197.176.0/24"],
          signaling: [{ port: 5060, protocol: "udp" }],
        }),
      "trunks.plusnet.outboundProxy",
      /fixed outbound proxy/,
    );
  });

  it("a trunk whose family differs from its profile's ext-rtp-ip (silence both ways)", () => {
    expectRefused((c) => (c.trunks.oneandone.profile = "external-ipv4"), "trunks.oneandone.profile", /silence/);
  });

  it("an outbound proxy outside the ranges the firewall admits for the trunk", () => {
    expectRefused(
      (c) => (c.trunks.plusnet.outboundProxy = "92.197.190.16"),
      "trunks.plusnet.outboundProxy",
      /outside the ranges/,
    );
  });

  it("an IPv4 outbound proxy on an IPv6 trunk", () => {
    expectRefused(
      (c) => (c.trunks.oneandone.outboundProxy = "212.227.124.129"),
      "trunks.oneandone.outboundProxy",
      /ipv4 but the trunk's family is ipv6/,
    );
  });

  it("an RTP range whose start is not below its end", () => {
    expectRefused((c) => (c.rtp = { start: 20000, end: 16384 }), "rtp", /must be below/);
  });

  it("an RTP range that swallows a SIP port", () => {
    expectRefused((c) => (c.rtp = { start: 5000, end: 6000 }), "rtp", /contains port 5060/);
  });

  it("an RTP range starting on an odd port", () => {
    expectRefused((c) => (c.rtp = { start: 16385, end: 16484 }), "rtp.start", /odd/);
  });

  it("two trunks whose gateway names differ only in case (killgw would be ambiguous)", () => {
    expectRefused((c) => (c.trunks.Plusnet = { ...c.trunks.plusnet }), "trunks.plusnet", /killgw would be ambiguous/);
  });

  it("a source range that is not a CIDR", () => {
    expectRefused(
      (c) => (c.trunks.plusnet.sourceRanges = ["92.197.176.0/24", "92.197.300.0/24"]),
      "trunks.plusnet.sourceRanges[1]",
      /not a CIDR/,
    );
  });

  it("a source range with host bits set", () => {
    expectRefused(
      (c) => (c.trunks.plusnet.sourceRanges = ["92.197.176.5/24"]),
      "trunks.plusnet.sourceRanges[0]",
      /host bits/,
    );
  });

  it("a trunk admitting SIP from the whole Internet", () => {
    expectRefused(
      (c) => (c.trunks.plusnet.sourceRanges = ["0.0.0.0/0"]),
      "trunks.plusnet.sourceRanges[0]",
      /whole Internet/,
    );
  });

  it("SSH open to the whole Internet", () => {
    expectRefused((c) => (c.host.adminSshRanges = ["::/0"]), "host.adminSshRanges[0]", /whole Internet/);
  });

  it("a number that is not E.164", () => {
    expectRefused((c) => (c.numbers[0].number = "+49 345 566 7290"), "numbers[0].number", /not E\.164/);
  });

  it("the same number listed twice", () => {
    expectRefused((c) => c.numbers.push({ ...c.numbers[0] }), "numbers[3].number", /listed twice/);
  });

  it("a number routed to an extension that does not exist", () => {
    expectRefused((c) => (c.numbers[1].destination = "999"), "numbers[1].destination", /not an extension/);
  });

  it("a number on a trunk that does not exist", () => {
    expectRefused((c) => (c.numbers[1].trunk = "telekom"), "numbers[1].trunk", /not defined/);
  });

  it("a REGISTER trunk without a user name", () => {
    expectRefused((c) => delete c.trunks.oneandone.username, "trunks.oneandone.username", /user name/);
  });

  it("a REGISTER trunk without a password in the secrets", () => {
    expectRefused(() => {}, "secrets.trunkPasswords.oneandone", /no password/, new Set(["dnsToken"]));
  });

  it("a REGISTER trunk that does not name the stacks allowed to register it", () => {
    expectRefused((c) => delete c.trunks.oneandone.activeInStacks, "trunks.oneandone.activeInStacks", /cloned stack/);
  });

  it("a trunk on a profile that does not exist", () => {
    expectRefused((c) => (c.trunks.plusnet.profile = "external"), "trunks.plusnet.profile", /not defined/);
  });

  it("a caller ID that is not E.164", () => {
    expectRefused((c) => (c.trunks.plusnet.callerId = "03455667290"), "trunks.plusnet.callerId", /not E\.164/);
  });

  it("a FreeSWITCH image that is not pinned by digest (a tag can move)", () => {
    expectRefused(
      (c) => (c.freeswitch.image = "safarov/freeswitch:latest"),
      "freeswitch.image",
      /not pinned by digest/,
    );
    expectRefused(
      (c) => (c.freeswitch.image = "safarov/freeswitch:1.10.12"),
      "freeswitch.image",
      /not pinned by digest/,
    );
    expectRefused((c) => (c.freeswitch.image = "safarov/freeswitch"), "freeswitch.image", /not pinned by digest/);
    expectRefused(
      (c) => (c.freeswitch.image = `sha256:${"ab".repeat(31)}`),
      "freeswitch.image",
      /not pinned by digest/,
    );
  });

  it("FreeSWITCH from SignalWire's packages without the token they are served with", () => {
    const withoutToken = new Set([...PROD_SECRETS].filter((s) => s !== "signalwireToken"));
    expectRefused(() => {}, "secrets.signalwireToken", /SignalWire personal access token/, withoutToken);
    const [fix] = problemsAfter(() => {}, withoutToken).map((p) => p.fix);
    expect(fix).toContain("pulumi config set --secret --path 'telephony:secrets.signalwireToken'");
    expect(fix).toContain("telephony:freeswitch.image");
  });

  it("needs no SignalWire token for an image pinned by digest or by local image ID", () => {
    const withoutToken = new Set([...PROD_SECRETS].filter((s) => s !== "signalwireToken"));
    for (const image of [`example/freeswitch@sha256:${"ab".repeat(32)}`, `sha256:${"cd".repeat(32)}`]) {
      expect(problemsAfter((c) => (c.freeswitch.image = image), withoutToken)).toEqual([]);
    }
  });

  it("a dual profile whose IPv4 twin would take the trunk profile's SIP port", () => {
    expectRefused(
      (c) => delete c.profiles.internal.ipv4SipPort,
      "profiles.internal.ipv4SipPort",
      /IPv4 twin would listen on ipv4 port 5060, which profile external-ipv4 already uses/,
    );
  });

  it("a profile named like a dual profile's IPv4 twin", () => {
    expectRefused(
      (c) => (c.profiles["internal-ipv4"] = { bind: "ipv4", mediaFamily: "ipv4", sipPort: 5090 }),
      "profiles.internal-ipv4",
      /taken by the IPv4 twin/,
    );
  });

  it("an ipv4SipPort on a profile that is not dual", () => {
    expectRefused(
      (c) => (c.profiles["external-ipv4"].ipv4SipPort = 5090),
      "profiles.external-ipv4.ipv4SipPort",
      /only a dual profile/,
    );
  });

  it("a preset field the provider needs but the stack did not set", () => {
    expectRefused((c) => (c.trunks.twilio = { preset: "twilio" }), "trunks.twilio.proxy", /termination URI/);
  });

  it("an unknown key (a typo) in a trunk", () => {
    expectRefused((c) => (c.trunks.plusnet.outboundProxi = "92.197.176.16"), "trunks.plusnet", /outboundProxi/);
  });

  it("a host name that does not name the stacks owning it (a copy would take its DNS records, reverse DNS and certificate)", () => {
    expectRefused((c) => delete c.host.hostnameOwnedBy, "host.hostnameOwnedBy", /only one stack may hold/);
    const [p] = problemsAfter((c) => delete c.host.hostnameOwnedBy);
    expect(p.fix).toBe('set host.hostnameOwnedBy to ["prod"]');
  });

  it("a host name owned by other stacks", () => {
    expectRefused((c) => (c.host.hostnameOwnedBy = ["staging"]), "host.hostname", /belongs to staging/);
  });

  it("owners named for a host name that is not set", () => {
    expectRefused(
      (c) => delete c.host.hostname && delete c.dns && (c.tls = { mode: "self-signed" }),
      "host.hostnameOwnedBy",
      /host\.hostname is not set/,
    );
  });

  it("a host name outside the configured DNS zone", () => {
    expectRefused((c) => (c.dns = { zone: "example.org" }), "host.hostname", /not inside the DNS zone/);
  });

  it("a firewall larger than Hetzner's 50 rules", () => {
    expectRefused(
      (c) => {
        for (let i = 0; i < 50; i++) {
          c.trunks[`carrier-${i}`] = { preset: "plusnet", sourceRanges: ["92.197.176.0/24"] };
        }
      },
      "trunks",
      /Hetzner allows 50 per firewall/,
    );
  });
});

describe("capacity and reach are judged as a whole", () => {
  it("an RTP range too small for the calls it must carry, saying how many ports are needed", () => {
    expectRefused(
      (c) => (c.rtp = { start: 16384, end: 16393 }),
      "rtp",
      /has 10 ports, room for 2 concurrent calls.*40 ports are needed/,
    );
    const [p] = problemsAfter((c) => (c.rtp = { start: 16384, end: 16393 })).filter((x) => x.key === "rtp");
    expect(p.fix).toContain("end: 16423");
  });

  it("an RTP range sized for a stated number of calls, and a larger load on the default range", () => {
    expect(problemsAfter((c) => (c.rtp = { start: 16384, end: 16423 }))).toEqual([]);
    expectRefused((c) => (c.rtp = { start: 16384, end: 16484, concurrentCalls: 30 }), "rtp", /120 ports are needed/);
    expect(problemsAfter((c) => (c.rtp = { start: 16384, end: 16503, concurrentCalls: 30 }))).toEqual([]);
  });

  it("SSH open to the world through ranges that only together cover it", () => {
    expectRefused(
      (c) => (c.host.adminSshRanges = ["198.51.100.0/24", "0.0.0.0/1", "128.0.0.0/1"]),
      "host.adminSshRanges",
      /0\.0\.0\.0\/1 \+ 128\.0\.0\.0\/1 together admit the whole IPv4 Internet/,
    );
    expectRefused(
      (c) => (c.host.adminSshRanges = ["::/1", "8000::/2", "c000::/2"]),
      "host.adminSshRanges",
      /whole IPv6 Internet/,
    );
    // Half the address space is wide, but not everyone.
    expect(
      problemsAfter((c) => (c.host.adminSshRanges = ["0.0.0.0/1", "2001:db8::/32"])).filter(
        (p) => p.key === "host.adminSshRanges",
      ),
    ).toEqual([]);
  });

  it("an invalid source range is reported once and not listed again as admitted", () => {
    const problems = problemsAfter((c) => {
      c.trunks.plusnet.sourceRanges = ["92.197.300.0/24"];
    });
    expect(problems.map((p) => p.key)).toContain("trunks.plusnet.sourceRanges[0]");
    const proxy = problems.find((p) => p.key === "trunks.plusnet.outboundProxy")!;
    expect(proxy.message).toContain("(none)");
    expect(
      problems
        .filter((p) => p.key !== "trunks.plusnet.sourceRanges[0]")
        .map((p) => p.message)
        .join("\n"),
    ).not.toContain("92.197.300.0/24");
  });
});

describe("schema errors say what is wrong", () => {
  it("an unquoted phone number: quote it, in E.164, with the key as the user writes it", () => {
    const problems = problemsAfter((c) => (c.numbers[0].number = 493455667290));
    expect(problems).toHaveLength(1);
    expect(problems[0].key).toBe("numbers[0].number");
    expect(problems[0].fix).not.toMatch(/^set /);
    expect(problems[0].fix).toContain('quote it in the YAML, e.g. "+493455667290"');
    expect(problems[0].fix).toContain("E.164");
  });

  it("a value of the wrong type names the type expected and the one found", () => {
    const [p] = problemsAfter((c) => (c.host.adminSshRanges = "198.51.100.0/24"));
    expect(p.key).toBe("host.adminSshRanges");
    expect(p.fix).toMatch(/must be a list, not a string/);
    const [q] = problemsAfter((c) => (c.rtp.start = "16384"));
    expect(q.key).toBe("rtp.start");
    expect(q.fix).toMatch(/must be a number, not a string \("16384"\)/);
  });

  it("a missing value still says to set it", () => {
    const [p] = problemsAfter((c) => delete c.numbers[1].use);
    expect(p.key).toBe("numbers[1].use");
    expect(p.fix).toMatch(/^set numbers\[1\]\.use/);
  });
});

describe("problems are reported together", () => {
  it("lists every problem at once, each with the namespaced key and a fix", () => {
    const raw = prodRawConfig();
    raw.trunks.oneandone.realm = "1und1.de";
    raw.numbers[0].number = "0345 5667290";
    raw.rtp = { start: 16385, end: 16484 };
    let error: unknown;
    try {
      buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.problems.map((p) => p.key).sort()).toEqual(["numbers[0].number", "rtp.start", "trunks.oneandone.realm"]);
    expect(e.message).toContain("telephony:trunks.oneandone.realm");
    expect(e.message).toMatch(/fix: set trunks\.oneandone\.realm to "sip\.1und1\.de"/);
  });
});

describe("IPv6 outbound proxies", () => {
  it("are accepted bare and emitted in brackets", () => {
    const raw = prodRawConfig();
    raw.trunks.oneandone.outboundProxy = "2001:8d8:104:100:212:227:124:129";
    const model = buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
    expect(model.trunks.find((t) => t.name === "oneandone")!.outboundProxy).toBe("[2001:8d8:104:100:212:227:124:129]");
  });
});

describe("an extension's outbound caller ID", () => {
  it("is refused when no trunk owns it (not in numbers[], no trunk's callerId): calls would have no way out", () => {
    expectRefused(
      (c) => (c.extensions["200"].outboundCallerId = "+493455599999"),
      "extensions.200.outboundCallerId",
      /belongs to no trunk/,
    );
  });

  it("is accepted when it is a trunk's callerId without a numbers[] entry", () => {
    expect(
      problemsAfter((c) => {
        c.numbers = c.numbers.filter((n: { number: string }) => n.number !== "+493455667290");
        c.extensions["300"] = { displayName: "Back office", outboundCallerId: "+493455667290" };
      }),
    ).toEqual([]);
  });

  it("an extension numbered like an emergency number is refused (dialling 112 would ring it)", () => {
    expectRefused((c) => (c.extensions["112"] = { displayName: "Desk" }), "extensions.112", /emergency number/);
  });
});
