import { createHash } from "node:crypto";
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
  it("generates ESL and xml_curl passwords and an admin token without special characters, and a 32-byte Fernet key from a resource whose ID is not the key", async () => {
    const run = await startMockRun({ stack: "test", config: {} });
    const secrets = new GeneratedSecrets("secrets");
    const values = await promiseOf(secrets.values);
    await run.settle();
    expect(run.ofType(TYPES.password).map((p) => [p.name, p.inputs.special]).sort()).toEqual([
      ["secrets-admin-token", false],
      ["secrets-esl-password", false],
      ["secrets-fernet-key", false],
      ["secrets-xml-curl-password", false],
    ]);
    const seed = run.ofType(TYPES.password).find((p) => p.name === "secrets-fernet-key")!;
    expect(seed.inputs.length).toBe(64);
    expect(values.fernetKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(values.fernetKey, "base64url")).toEqual(createHash("sha256").update(seed.state.result).digest());
    expect(run.ofType(TYPES.bytes)).toEqual([]);
    expect(await pulumi.isSecret(secrets.values)).toBe(true);
  });
});
