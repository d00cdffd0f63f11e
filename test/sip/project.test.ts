import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_KEYS, SECRETS_KEY } from "../../sip/config";
import { stackConfigSchema } from "../../sip/schema";
import { PROJECT_DIR } from "../helpers/stackConfig";

const project = parse(readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: { name: string; options: Record<string, unknown> };
  config: Record<string, { type?: string; description?: string; secret?: boolean }>;
};

describe("Pulumi.yaml", () => {
  it("is a TypeScript Node.js project named telephony", () => {
    expect(project.name).toBe("telephony");
    expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true } });
  });

  it("declares every top-level config key the schema reads, with a description", () => {
    expect(Object.keys(stackConfigSchema.shape).sort()).toEqual([...CONFIG_KEYS].sort());
    const declared = Object.keys(project.config).sort();
    expect(declared).toEqual([...CONFIG_KEYS, SECRETS_KEY].map((k) => `telephony:${k}`).sort());
    for (const [key, decl] of Object.entries(project.config)) expect(decl.description?.length ?? 0, key).toBeGreaterThan(20);
  });

  it("uses only the types Pulumi's project config accepts, and marks the secrets key secret", () => {
    for (const decl of Object.values(project.config)) if (decl.type) expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
    expect(project.config["telephony:secrets"].secret).toBe(true);
  });
});
