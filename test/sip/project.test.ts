import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { CONFIG_KEYS, SECRETS_KEY } from "../../sip/config";
import { buildModel } from "../../sip/stack";
import { stackConfigSchema, stackSecretsSchema } from "../../sip/schema";
import { PROJECT_DIR } from "../support/environment";

const project = parse(readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: { name: string; options: Record<string, unknown> };
  config: Record<string, { type?: string; description?: string; secret?: boolean; default?: unknown }>;
};

/** Every top-level key under telephony:, the secret object included. */
const SCHEMA_KEYS = [...CONFIG_KEYS, SECRETS_KEY];
/** The secret object is read as `{}` when absent (sip/config.ts loadStack). */
const secretsAsRead = z.preprocess((value) => value ?? {}, stackSecretsSchema);
const schemaOf = (key: string) =>
  key === SECRETS_KEY ? secretsAsRead : stackConfigSchema.shape[key as (typeof CONFIG_KEYS)[number]];
/** Whether the schema accepts the key being left out (it is optional or has a default). */
const optionalInSchema = (key: string) => schemaOf(key).safeParse(undefined).success;

describe("Pulumi.yaml", () => {
  it("is a TypeScript Node.js project named telephony", () => {
    expect(project.name).toBe("telephony");
    expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true } });
  });

  it("declares only config keys the schema reads, each with a description", () => {
    expect(Object.keys(stackConfigSchema.shape).sort()).toEqual([...CONFIG_KEYS].sort());
    const known = [...CONFIG_KEYS, SECRETS_KEY].map((k) => `telephony:${k}`);
    for (const [key, decl] of Object.entries(project.config)) {
      expect(known, key).toContain(key);
      expect(decl.description?.length ?? 0, key).toBeGreaterThan(20);
    }
  });

  // Pulumi refuses to run a stack that lacks a declared key without `default` ("Stack 'prod' is
  // missing configuration value ..."), before the program can apply the schema's own defaults.
  it("requires (declares without a default) exactly the keys the schema requires", () => {
    const declaredRequired = Object.entries(project.config)
      .filter(([, decl]) => !("default" in decl))
      .map(([key]) => key.replace(/^telephony:/, ""))
      .sort();
    expect(declaredRequired).toEqual(SCHEMA_KEYS.filter((k) => !optionalInSchema(k)).sort());
  });

  it("gives every optional key a default that means what leaving the key out means", () => {
    for (const key of SCHEMA_KEYS.filter(optionalInSchema)) {
      const decl = project.config[`telephony:${key}`];
      if (decl === undefined) continue; // undeclared: optional for the engine, no default needed
      expect(decl.default, key).toBeDefined();
      expect(schemaOf(key).parse(decl.default), key).toEqual(schemaOf(key).parse(undefined));
    }
  });

  it("loads a stack that sets only the required keys, with the engine's defaults applied", () => {
    // The required keys only, as small as the checks allow: one IP-auth trunk on one profile.
    const stackFile = {
      host: {
        adminSshRanges: ["198.51.100.0/24"],
        sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsExampleKeyReplaceWithYourOwnPublicKeyAA ops@example"],
      },
      profiles: { "external-ipv4": { bind: "ipv4", mediaFamily: "ipv4" } },
      trunks: { plusnet: { preset: "plusnet", callerId: "+493455667290" } },
    };
    expect(Object.keys(stackFile).sort()).toEqual(SCHEMA_KEYS.filter((k) => !optionalInSchema(k)).sort());
    const defaults = Object.fromEntries(
      Object.entries(project.config)
        .filter(([key, decl]) => "default" in decl && key !== `telephony:${SECRETS_KEY}`)
        .map(([key, decl]) => [key.replace(/^telephony:/, ""), decl.default]),
    );
    const read = (raw: Record<string, unknown>) =>
      buildModel(raw, { stack: "minimal", secretPaths: new Set(["signalwireToken"]) });
    expect(read({ ...defaults, ...stackFile })).toEqual(read(stackFile));
  });

  it("uses only the types Pulumi's project config accepts, and marks the secrets key secret", () => {
    for (const decl of Object.values(project.config))
      if (decl.type) expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
    expect(project.config["telephony:secrets"].secret).toBe(true);
  });
});
