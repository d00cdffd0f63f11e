import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { fernetKeyFromBase64, GeneratedSecrets } from "../../components/secrets";
import { createSealer } from "../../api/sealer";
import { plaintextSecretPaths } from "../../policy/policies";
import { buildStack, prodConfig } from "../support/mockedStack";
import { promiseOf, startMockRun, TYPES } from "../support/pulumiMocks";

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
    expect(
      run
        .ofType(TYPES.password)
        .map((p) => [p.name, p.inputs.special])
        .sort(),
    ).toEqual([
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

  const keysOf = async (generation: number) => {
    const run = await startMockRun({ stack: "test", config: {} });
    const secrets = new GeneratedSecrets("secrets", { fernetKeyGeneration: generation });
    const { fernetKey } = await promiseOf(secrets.values);
    await run.settle();
    // Each generation's key is the SHA-256 of its seed password.
    const seeds = run.ofType(TYPES.password).filter((r) => r.name.startsWith("secrets-fernet-key"));
    const byName = Object.fromEntries(
      seeds.map((r) => [r.name, fernetKeyFromBase64(createHash("sha256").update(r.state.result).digest("base64"))]),
    );
    return { lines: fernetKey.split("\n"), byName };
  };

  it("rotates the Fernet key by generation: the new key first, the previous one kept after it, older ones dropped", async () => {
    const gen0 = await keysOf(0);
    expect(Object.keys(gen0.byName)).toEqual(["secrets-fernet-key"]);
    expect(gen0.lines).toEqual([gen0.byName["secrets-fernet-key"]]);

    const gen1 = await keysOf(1);
    // Generation 0 keeps its resource (and so its value in the state): the API can still open the store.
    expect(Object.keys(gen1.byName).sort()).toEqual(["secrets-fernet-key", "secrets-fernet-key-1"]);
    expect(gen1.lines).toEqual([gen1.byName["secrets-fernet-key-1"], gen0.lines[0]]);
    expect(gen1.lines[0]).not.toBe(gen1.lines[1]);

    const gen2 = await keysOf(2);
    expect(Object.keys(gen2.byName).sort()).toEqual(["secrets-fernet-key-1", "secrets-fernet-key-2"]);
    expect(gen2.lines).toEqual([gen2.byName["secrets-fernet-key-2"], gen1.lines[0]]);

    // What the API makes of it: seals with the first key, opens what either key sealed.
    const sealedBefore = createSealer(gen0.lines[0]).seal("pw");
    const sealer = createSealer(gen1.lines.join("\n"));
    expect(sealer.open(sealedBefore)).toBe("pw");
    expect(sealer.sealedWithCurrentKey(sealedBefore)).toBe(false);
    expect(createSealer(gen1.lines[0]).open(sealer.seal("pw"))).toBe("pw");
  });

  it("takes the rotation generation from plain config that the policy pack's secret-name check accepts", () => {
    // As `pulumi config set --path 'telephony:rotation.apiStoreEncryption' 1` writes it.
    expect(plaintextSecretPaths("config:\n  telephony:rotation:\n    apiStoreEncryption: 1\n")).toEqual([]);
    // A key named after the Fernet key would fail every preview and update.
    expect(plaintextSecretPaths("config:\n  telephony:rotation:\n    fernetKey: 1\n")).toEqual([
      "telephony:rotation.fernetKey",
    ]);
  });

  it("reads the generation as `pulumi config set` may store it, a number or a string of digits", async () => {
    for (const value of [2, "2"]) {
      const { telephony } = await buildStack(
        "prod",
        prodConfig((c) => (c["telephony:rotation"] = { apiStoreEncryption: value })),
      );
      expect(telephony.model.rotation.apiStoreEncryption, String(value)).toBe(2);
    }
  });
});
