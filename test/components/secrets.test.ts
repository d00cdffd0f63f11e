import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { fernetKeyFromBase64, GeneratedSecrets } from "../../components/secrets";
import { promiseOf, startMockRun, TYPES } from "../helpers/pulumi";

describe("fernetKeyFromBase64", () => {
  it("turns standard base64 into the URL-safe alphabet Fernet reads", () => {
    expect(fernetKeyFromBase64("+/+/ab==")).toBe("-_-_ab==");
  });
});

describe("GeneratedSecrets", () => {
  it("generates ESL and xml_curl passwords and an admin token without special characters, and a 32-byte Fernet key", async () => {
    const run = await startMockRun({ stack: "test", config: {} });
    const secrets = new GeneratedSecrets("secrets");
    const values = await promiseOf(secrets.values);
    await run.settle();
    expect(run.ofType(TYPES.password).map((p) => [p.name, p.inputs.special]).sort()).toEqual([
      ["secrets-admin-token", false],
      ["secrets-esl-password", false],
      ["secrets-xml-curl-password", false],
    ]);
    expect(run.one(TYPES.bytes).inputs.length).toBe(32);
    expect(values.fernetKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(values.fernetKey, "base64url")).toEqual(Buffer.from(run.one(TYPES.bytes).state.base64, "base64"));
    expect(await pulumi.isSecret(secrets.values)).toBe(true);
  });
});
