/** The production stack's configuration as the offline reader sees it, for tests to vary. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { StackModel } from "../../sip/model";
import { buildModel } from "../../sip/stack";
import { CONFIG_NAMESPACE, StackConfigError, type Problem } from "../../sip/problems";

import { PROJECT_DIR } from "./environment";

/** The `telephony:*` values of Pulumi.prod.yaml as one raw object (keys without namespace). */
export function prodRawConfig(): Record<string, any> {
  const doc = parse(readFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, any> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return raw;
}

export const PROD_SECRETS: ReadonlySet<string> = new Set(["trunkPasswords.oneandone", "dnsToken", "signalwireToken"]);

export function prodModel(stack = "prod"): StackModel {
  return buildModel(prodRawConfig(), { stack, secretPaths: PROD_SECRETS });
}

/** Builds a model from prod's config changed by `mutate`; returns the problems it raises. */
export function problemsAfter(
  mutate: (raw: Record<string, any>) => void,
  passwords: ReadonlySet<string> = PROD_SECRETS,
): Problem[] {
  const raw = prodRawConfig();
  mutate(raw);
  try {
    buildModel(raw, { stack: "prod", secretPaths: passwords });
    return [];
  } catch (err) {
    if (err instanceof StackConfigError) return [...err.problems];
    throw err;
  }
}
