import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { labelValue, stackNaming } from "../../components/naming";
import { parseConfigValue, pulumiConfigSource, secretTrunkPasswords } from "../../components/pulumiConfig";
import { promiseOf, startMockRun } from "../support/pulumiMocks";

describe("pulumiConfigSource", () => {
  it("reads telephony:<key> from the engine's config, objects from JSON and strings as they are", async () => {
    await startMockRun({
      stack: "dev",
      config: { "telephony:environment": "staging", "telephony:rtp": { start: 20000, end: 20100 } },
    });
    const source = pulumiConfigSource();
    expect(source.stack).toBe("dev");
    expect(source.get("environment")).toBe("staging");
    expect(source.get("rtp")).toEqual({ start: 20000, end: 20100 });
    expect(source.get("dns")).toBeUndefined();
  });

  it("hands the secret object to the checks and its values on only as Pulumi secrets", async () => {
    await startMockRun({
      stack: "dev",
      config: { "telephony:secrets": { trunkPasswords: { t: "pw" } } },
      secretKeys: ["telephony:secrets"],
    });
    expect(pulumiConfigSource().getSecret("secrets")).toEqual({ trunkPasswords: { t: "pw" } });
    const passwords = secretTrunkPasswords({ trunkPasswords: { t: "pw" } });
    expect(await pulumi.isSecret(passwords.t)).toBe(true);
    expect(await promiseOf(passwords.t)).toBe("pw");
  });

  it("leaves text that only looks like JSON to the schema to report", () => {
    expect(parseConfigValue("{not json")).toBe("{not json");
    expect(parseConfigValue("123")).toBe("123");
  });
});

describe("stackNaming", () => {
  it("derives names and labels from project and stack", () => {
    const naming = stackNaming("telephony", "Staging_2");
    expect(naming.name()).toBe("telephony-staging-2");
    expect(naming.name("ipv4")).toBe("telephony-staging-2-ipv4");
    expect(naming.labels).toEqual({ "managed-by": "pulumi", project: "telephony", stack: "Staging_2" });
  });

  it("keeps label values within Hetzner's format", () => {
    expect(labelValue("org/stack")).toBe("org-stack");
    expect(labelValue("-x-")).toBe("x");
    expect(labelValue("a".repeat(80))).toHaveLength(63);
  });
});
