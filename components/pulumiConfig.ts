/**
 * The Pulumi-runtime ConfigSource for sip/config.ts loadStack(): the same reader `npm start` uses
 * with Pulumi.<stack>.yaml, here fed from the engine's config. Structured keys arrive as JSON text.
 *
 * The secret object `telephony:secrets` is read raw only so loadStack can check which passwords
 * exist; its values leave this module only as Pulumi secrets (secretTrunkPasswords).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConfigSource } from "../sip/config";
import { CONFIG_NAMESPACE } from "../sip/problems";
import type { StackSecrets } from "../sip/schema";

/** Objects and arrays come as JSON text; anything else is a plain string (e.g. environment). */
export function parseConfigValue(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      return JSON.parse(text);
    } catch {
      // Left as text: the schema then reports the key with the type it expects.
    }
  }
  return raw;
}

export function pulumiConfigSource(namespace: string = CONFIG_NAMESPACE): ConfigSource {
  const read = (key: string) => parseConfigValue(pulumi.runtime.getConfig(`${namespace}:${key}`));
  return {
    stack: pulumi.getStack(),
    get: read,
    // pulumi.runtime.getConfig returns the decrypted value without marking it; it is only parsed
    // and validated here (loadStack never echoes it), then handed on through secretTrunkPasswords.
    getSecret: read,
  };
}

/** REGISTER trunks' passwords, each a Pulumi secret Output. */
export function secretTrunkPasswords(secrets: StackSecrets | undefined): Record<string, pulumi.Output<string>> {
  const out: Record<string, pulumi.Output<string>> = {};
  for (const [trunk, password] of Object.entries(secrets?.trunkPasswords ?? {})) out[trunk] = pulumi.secret(password);
  return out;
}
