/**
 * The configuration reference, read off the schema (sip/schema.ts): every key with its type,
 * default, description and examples, and the JSON Schema of a stack file (Pulumi.<stack>.yaml).
 * Both come from zod's own JSON Schema of the config, so what the reference says a key accepts is
 * what the schema checks. bin/docs.ts writes them into the documentation and the editor schema.
 */
import { z } from "zod";
import { CONFIG_NAMESPACE } from "./problems";
import { stackConfigSchema, stackSecretsSchema } from "./schema";

/** The two schemas the reference is read from; the real ones unless a test varies them. */
export interface ConfigSchemas {
  readonly config: z.ZodObject;
  readonly secrets: z.ZodObject;
}
export const STACK_SCHEMAS: ConfigSchemas = { config: stackConfigSchema, secrets: stackSecretsSchema };

/** The top-level key holding the secrets (sip/config.ts SECRETS_KEY; repeated to keep this module a leaf of schema.ts). */
const SECRETS = "secrets";

/** A JSON Schema node, as much of it as the reference reads. */
export interface JsonSchema {
  type?: string;
  description?: string;
  examples?: unknown[];
  default?: unknown;
  deprecated?: boolean;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  not?: JsonSchema;
  [keyword: string]: unknown;
}

/**
 * zod's JSON Schema of the values a user may write (io "input": defaults shown, nothing required
 * that has one). Two shapes zod cannot say are filled in:
 * - a coerced number also accepts its digits as a string (`pulumi config set --path` writes
 *   "120");
 * - a z.custom schema in the config is a refusal (tls.clientImage, obsolete): it accepts nothing.
 */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as { type: string; coerce?: boolean };
      if (def.type === "custom") Object.assign(jsonSchema, { not: {} });
      if (def.type === "number" && def.coerce) {
        const { type, minimum, maximum, ...rest } = jsonSchema as JsonSchema;
        for (const k of Object.keys(jsonSchema)) delete (jsonSchema as JsonSchema)[k];
        Object.assign(jsonSchema, rest, {
          anyOf: [
            { type, minimum, maximum },
            { type: "string", pattern: "^[0-9]+$" },
          ],
        });
      }
    },
  }) as JsonSchema;
}

/** One key of the reference. */
export interface ConfigKeyDoc {
  /** Its path under `telephony:`: `host.existing.sshPort`, `profiles.<name>.bind`, `numbers[].use`. */
  readonly key: string;
  /** The top-level key it belongs to. */
  readonly top: string;
  /** What it accepts, in words: `integer 1–65535`, `hetzner | existing`, `list of string`. */
  readonly type: string;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly default?: unknown;
  readonly description: string;
  readonly examples: readonly unknown[];
  /** Keys one level below it (an object's fields, a map's or a list's entries' fields). */
  readonly fields: readonly string[];
  readonly secret: boolean;
}

const NO_BOUND = Number.MAX_SAFE_INTEGER;

/** A node's type in words. */
export function typeInWords(node: JsonSchema): string {
  if (node.not !== undefined) return "refused";
  if (node.anyOf) return node.anyOf.map(typeInWords).join(" or ");
  if (node.enum) return node.enum.map(String).join(" | ");
  switch (node.type) {
    case "integer":
    case "number": {
      const lo = node.minimum;
      const hi = node.maximum !== undefined && Math.abs(node.maximum) < NO_BOUND ? node.maximum : undefined;
      const range =
        lo !== undefined && Math.abs(lo) < NO_BOUND
          ? hi !== undefined
            ? ` ${lo}–${hi}`
            : ` ≥ ${lo}`
          : hi !== undefined
            ? ` ≤ ${hi}`
            : "";
      return `${node.type}${range}`;
    }
    case "boolean":
      return "boolean";
    case "string":
      if (node.pattern === "^[0-9]+$") return "string of digits";
      return node.format === "uri" ? "URL" : node.format === "email" ? "e-mail address" : "string";
    case "array":
      return `list of ${node.items ? typeInWords(node.items) : "anything"}`;
    case "object":
      if (node.properties) return "object";
      if (typeof node.additionalProperties === "object")
        return `map of name → ${typeInWords(node.additionalProperties)}`;
      return "object";
    default:
      return "any";
  }
}

/** The child nodes of a node, each with the path segment that reaches it. */
function children(node: JsonSchema): { segment: string; node: JsonSchema; required: boolean }[] {
  if (node.type === "object" && node.properties) {
    const required = new Set(node.required ?? []);
    return Object.entries(node.properties).map(([name, child]) => ({
      segment: `.${name}`,
      node: child,
      required: required.has(name),
    }));
  }
  // A map's or a list's entries are documented field by field when they are objects.
  const entry =
    node.type === "object" && typeof node.additionalProperties === "object"
      ? { node: node.additionalProperties, segment: ".<name>" }
      : node.type === "array" && node.items
        ? { node: node.items, segment: "[]" }
        : undefined;
  if (entry?.node.type === "object" && entry.node.properties) {
    return children(entry.node).map((c) => ({ ...c, segment: entry.segment + c.segment }));
  }
  return [];
}

function walk(
  key: string,
  top: string,
  node: JsonSchema,
  required: boolean,
  secret: boolean,
  out: ConfigKeyDoc[],
): void {
  const below = children(node);
  out.push({
    key,
    top,
    type: typeInWords(node),
    required,
    hasDefault: "default" in node,
    default: node.default,
    description: node.description ?? "",
    examples: node.examples ?? [],
    // A refused key (obsolete) is no field to offer.
    fields: below
      .filter((c) => c.node.not === undefined)
      .map((c) => c.segment.replace(/^\.<name>|^\[\]/, "").replace(/^\./, "")),
    secret,
  });
  for (const child of below) walk(key + child.segment, top, child.node, child.required, secret, out);
}

/** Every key, nested ones too, in the schema's order; the secrets last. */
export function configKeyDocs(schemas: ConfigSchemas = STACK_SCHEMAS): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const config = inputJsonSchema(schemas.config);
  const required = new Set(config.required ?? []);
  for (const [name, node] of Object.entries(config.properties ?? {}))
    walk(name, name, node, required.has(name), false, out);
  // The secrets are read as {} when absent (sip/config.ts), so the key itself is optional.
  walk(SECRETS, SECRETS, inputJsonSchema(schemas.secrets), false, true, out);
  return out;
}

/** A value as Pulumi writes an encrypted one: `{secure: "v1:…"}`. */
const SECURE_VALUE: JsonSchema = {
  type: "object",
  description: "An encrypted value, as `pulumi config set --secret` writes it.",
  properties: { secure: { type: "string", pattern: "^v1:" } },
  required: ["secure"],
  additionalProperties: false,
};

/** Each string inside the secrets may also be an encrypted value (`pulumi config set --secret --path`). */
function allowEncryptedStrings(node: JsonSchema): JsonSchema {
  if (node.type === "string") {
    const { description, examples, ...plain } = node;
    return {
      ...(description !== undefined ? { description } : {}),
      ...(examples ? { examples } : {}),
      anyOf: [plain, { $ref: "#/$defs/secureValue" }],
    };
  }
  const copy: JsonSchema = { ...node };
  if (node.properties)
    copy.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, allowEncryptedStrings(v)]),
    );
  if (typeof node.additionalProperties === "object")
    copy.additionalProperties = allowEncryptedStrings(node.additionalProperties);
  if (node.items) copy.items = allowEncryptedStrings(node.items);
  return copy;
}

/**
 * The JSON Schema of a stack file: `config` holds `telephony:<key>` entries checked by the
 * schema (a misspelt `telephony:` key is refused) and any other provider's keys (hcloud:token,
 * ...) unchecked; the secrets may be encrypted as a whole or value by value. Besides `config`, the
 * keys Pulumi itself writes there.
 */
export function stackFileJsonSchema(schemas: ConfigSchemas = STACK_SCHEMAS): JsonSchema {
  const config = inputJsonSchema(schemas.config);
  const secrets = inputJsonSchema(schemas.secrets);
  const { $schema: _configDialect, ...configBody } = config;
  const { $schema: _secretsDialect, description: secretsDescription, ...secretsBody } = secrets;
  const properties: Record<string, JsonSchema> = {};
  for (const [name, node] of Object.entries(configBody.properties ?? {}))
    properties[`${CONFIG_NAMESPACE}:${name}`] = node;
  properties[`${CONFIG_NAMESPACE}:${SECRETS}`] = {
    ...(secretsDescription !== undefined ? { description: secretsDescription } : {}),
    anyOf: [{ $ref: "#/$defs/secureValue" }, allowEncryptedStrings(secretsBody)],
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Pulumi.<stack>.yaml (project ${CONFIG_NAMESPACE})`,
    description: `A stack's configuration. Generated from sip/schema.ts by \`npm run docs\`; do not edit.`,
    type: "object",
    properties: {
      config: {
        type: "object",
        properties,
        required: (configBody.required ?? []).map((name) => `${CONFIG_NAMESPACE}:${name}`),
        // Other providers' keys (hcloud:token, ...): theirs to check.
        patternProperties: { [`^(?!${CONFIG_NAMESPACE}:)[^:]+:.+$`]: {} },
        additionalProperties: false,
      },
      secretsprovider: { type: "string", description: "Where the stack's secrets are encrypted (Pulumi writes it)." },
      encryptedkey: {
        type: "string",
        description: "The stack's data key, encrypted by the secrets provider (Pulumi writes it).",
      },
      encryptionsalt: { type: "string", description: "The passphrase provider's salt (Pulumi writes it)." },
      environment: { description: "Pulumi ESC environments the stack imports." },
    },
    additionalProperties: false,
    $defs: { secureValue: SECURE_VALUE },
  };
}
