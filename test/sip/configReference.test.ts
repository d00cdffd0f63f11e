/**
 * The configuration reference read off sip/schema.ts: every key, nested ones too, has a
 * description, and every key that holds a value has an example the schema accepts.
 */
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configKeyDocs, inputJsonSchema, typeInWords, type JsonSchema } from "../../sip/configReference";
import { DEFAULT_DRAIN_SECONDS, stackConfigSchema, stackSecretsSchema } from "../../sip/schema";

const docs = configKeyDocs();
const byKey = new Map(docs.map((d) => [d.key, d]));
const structured = (type: string) =>
  type === "object" || type.startsWith("list of object") || type === "map of name → object";

/** Every field path of a zod schema, `<name>` for a map's entries and `[]` for a list's. */
function zodKeys(schema: z.ZodType, prefix: string, out: string[]): string[] {
  const def = schema._zod.def as {
    type: string;
    innerType?: z.ZodType;
    element?: z.ZodType;
    valueType?: z.ZodType;
    shape?: Record<string, z.ZodType>;
  };
  if (def.innerType) return zodKeys(def.innerType, prefix, out);
  if (def.type === "object") {
    for (const [name, field] of Object.entries(def.shape!)) {
      out.push(`${prefix}${name}`);
      zodKeys(field, `${prefix}${name}.`, out);
    }
  }
  if (def.type === "record" && def.valueType!._zod.def.type === "object")
    zodKeys(def.valueType!, `${prefix}<name>.`, out);
  if (def.type === "array" && def.element!._zod.def.type === "object")
    zodKeys(def.element!, `${prefix.slice(0, -1)}[].`, out);
  return out;
}

describe("the configuration reference", () => {
  it("lists every key of the schema, nested ones too, and no other", () => {
    const expected = [...zodKeys(stackConfigSchema, "", []), "secrets", ...zodKeys(stackSecretsSchema, "secrets.", [])];
    expect(docs.map((d) => d.key).sort()).toEqual(expected.sort());
    expect(expected).toContain("host.existing.sshPort");
    expect(expected).toContain("trunks.<name>.signaling[].protocol");
  });

  it("describes every key", () => {
    for (const doc of docs) expect(doc.description.length, doc.key).toBeGreaterThan(10);
  });

  it("gives every key that holds a value an example, and the schema accepts each", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const nodes = new Map<string, JsonSchema>();
    const collect = (node: JsonSchema, key: string) => {
      nodes.set(key, node);
      for (const [name, child] of Object.entries(node.properties ?? {})) collect(child, key ? `${key}.${name}` : name);
      if (typeof node.additionalProperties === "object")
        for (const [name, child] of Object.entries(node.additionalProperties.properties ?? {}))
          collect(child, `${key}.<name>.${name}`);
      for (const [name, child] of Object.entries(node.items?.properties ?? {})) collect(child, `${key}[].${name}`);
    };
    collect(inputJsonSchema(stackConfigSchema), "");
    collect(inputJsonSchema(stackSecretsSchema), "secrets");
    for (const doc of docs) {
      if (structured(doc.type) || doc.type === "refused") continue;
      expect(doc.examples.length, `${doc.key} has an example`).toBeGreaterThan(0);
      const validate = ajv.compile(nodes.get(doc.key)!);
      for (const example of doc.examples)
        expect(validate(example), `${doc.key}: example ${JSON.stringify(example)}`).toBe(true);
    }
  });

  it("takes each default from the schema's .default(), and marks the keys without one that must be set", () => {
    expect(byKey.get("host.existing.sshPort")).toMatchObject({
      hasDefault: true,
      default: 22,
      required: false,
      type: "integer 1–65535",
    });
    expect(byKey.get("maintenance.drainSeconds")).toMatchObject({ hasDefault: true, default: DEFAULT_DRAIN_SECONDS });
    // A top-level key's default means what leaving the key out means.
    for (const doc of docs.filter((d) => d.key === d.top && d.hasDefault && !d.secret)) {
      const schema = stackConfigSchema.shape[doc.key as keyof typeof stackConfigSchema.shape];
      expect(schema.parse(doc.default), doc.key).toEqual(schema.parse(undefined));
    }
    expect(byKey.get("host")).toMatchObject({ required: true, hasDefault: false });
    expect(byKey.get("dns")).toMatchObject({ required: false, hasDefault: false });
    expect(byKey.get("profiles.<name>.bind")).toMatchObject({ required: true, type: "ipv4 | dual" });
    expect(byKey.get("secrets.trunkPasswords")).toMatchObject({ secret: true, default: {} });
  });

  it("says what a key accepts in words", () => {
    expect(typeInWords({ type: "integer", minimum: 1, maximum: 65535 })).toBe("integer 1–65535");
    expect(typeInWords({ type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER })).toBe("integer ≥ 0");
    expect(typeInWords({ type: "array", items: { type: "string" } })).toBe("list of string");
    expect(typeInWords({ type: "object", additionalProperties: { type: "string" } })).toBe("map of name → string");
    expect(typeInWords({ not: {} })).toBe("refused");
    expect(byKey.get("maintenance.drainSeconds")!.type).toBe("integer 0–3600 or string of digits");
  });
});
