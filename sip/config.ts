/**
 * The one config reader. The Pulumi program and the offline `npm start` both hand it a source of
 * raw values by key (Pulumi's runtime config, or a parsed Pulumi.<stack>.yaml) and get the same
 * validated model back. Secret values never enter the model: only which secrets are present.
 */
import type { StackModel } from "./model";
import { CONFIG_NAMESPACE, formatKey, problem, StackConfigError } from "./problems";
import { stackSecretsSchema, type StackSecrets } from "./schema";
import { buildModel } from "./stack";

/** Top-level keys under the `telephony:` namespace (Pulumi.yaml documents each). */
export const CONFIG_KEYS = [
  "environment",
  "host",
  "profiles",
  "trunks",
  "numbers",
  "extensions",
  "rtp",
  "firewall",
  "freeswitch",
  "dns",
  "tls",
  "verify",
  "rotation",
  "maintenance",
  "alerts",
  "standby",
] as const;
export const SECRETS_KEY = "secrets";

export interface ConfigSource {
  readonly stack: string;
  /** The value of `telephony:<key>`, already parsed from JSON/YAML, or undefined. */
  get(key: string): unknown;
  /** The secret object `telephony:secrets`: its value, "unavailable" where secrets cannot be read (offline), or undefined. */
  getSecret(key: string): unknown;
}

export interface LoadedStack {
  readonly model: StackModel;
  /** Undefined when the secrets cannot be read here (offline rendering). */
  readonly secrets: StackSecrets | undefined;
}

/** "trunkPasswords.<trunk>" for each password, plus the names of the other secrets that are set. */
export function secretPathsOf(secrets: StackSecrets): Set<string> {
  const paths = Object.keys(secrets.trunkPasswords).map((t) => `trunkPasswords.${t}`);
  if (dnsTokenOf(secrets)) paths.push("dnsToken");
  if (secrets.sshPrivateKey) paths.push("sshPrivateKey");
  if (secrets.signalwireToken) paths.push("signalwireToken");
  if (secrets.hetznerFloatingIpToken) paths.push("hetznerFloatingIpToken");
  return new Set(paths);
}

/** The DNS zone project's token; `acmeDnsToken`, its former name, still counts (dnsToken wins). */
export function dnsTokenOf(secrets: StackSecrets | undefined): string | undefined {
  return secrets?.dnsToken ?? secrets?.acmeDnsToken;
}

export function loadStack(source: ConfigSource): LoadedStack {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = source.get(key);
    if (value !== undefined) raw[key] = value;
  }
  const rawSecrets = source.getSecret(SECRETS_KEY);
  let secrets: StackSecrets | undefined;
  if (rawSecrets !== "unavailable") {
    const parsed = stackSecretsSchema.safeParse(rawSecrets ?? {});
    if (!parsed.success) {
      // Never echo the input: it is secret. Name the key and the shape expected.
      throw new StackConfigError(
        source.stack,
        parsed.error.issues.map((i) =>
          problem(
            formatKey([SECRETS_KEY, ...i.path]),
            // Custom messages (sip/text.ts) say what is wrong without quoting the value.
            i.code === "custom" ? i.message : "has the wrong shape",
            `set it with: pulumi config set --secret --path '${CONFIG_NAMESPACE}:${formatKey([SECRETS_KEY, ...i.path])}' <value>`,
          ),
        ),
      );
    }
    secrets = parsed.data;
  }
  const model = buildModel(raw, {
    stack: source.stack,
    secretPaths: secrets ? secretPathsOf(secrets) : "unknown",
  });
  return { model, secrets };
}
