/** index.ts itself: it runs the composition, exports the outputs, and refuses a bad config first. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { TYPES } from "../support/pulumiMocks";
import { prodConfig, runProgram } from "../support/mockedStack";

describe("the stack program", () => {
  it("exports addresses, whitelist, names and the firewall summary", async () => {
    const { run, outputs, error } = await runProgram("prod", prodConfig());
    expect(error).toBeUndefined();
    const ipv4 = run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === "ipv4")!.state.ipAddress;
    expect(Object.keys(outputs!).sort()).toEqual(
      [
        "dnsRecords",
        "extensionCredentials",
        "firewall",
        "gateways",
        "hostname",
        "ipAuthWhitelist",
        "ipv4",
        "ipv6",
        "ipv6Network",
        "reloadClasses",
        "serverId",
        "serverName",
        "sipDomain",
        "tlsWarning",
      ].sort(),
    );
    expect(outputs!.ipv4).toBe(ipv4);
    expect(outputs!.ipAuthWhitelist.plusnet).toContain(ipv4);
    expect(outputs!.dnsRecords).toContain(`sip A ${ipv4}`);
    expect(outputs!.tlsWarning).toBeNull();
    expect(outputs!.reloadClasses.acl).toBe("none (reloadacl)");
  });

  it("stops on a bad config with every problem named, before registering any resource", async () => {
    const bad = prodConfig((c) => {
      c["telephony:trunks"].plusnet.outboundProxy = "198.51.100.7";
      c["telephony:rtp"] = { start: 16385, end: 16484 };
    });
    const { run, error } = await runProgram("prod", bad);
    // RunError: Pulumi prints the message alone, without a stack trace.
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(String(error)).toContain("telephony:trunks.plusnet.outboundProxy");
    expect(String(error)).toContain("telephony:rtp.start");
    expect(run.resources).toEqual([]);
  });
});
