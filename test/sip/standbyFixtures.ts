/** The standby test stacks (test/fixtures/standby): their raw config and models, for the standby tests. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { StackModel } from "../../sip/model";
import { CONFIG_NAMESPACE, StackConfigError, type Problem } from "../../sip/problems";
import { buildModel } from "../../sip/stack";
import { PROJECT_DIR } from "../support/environment";

export const STANDBY_FIXTURES = join(PROJECT_DIR, "test", "fixtures", "standby");
export type StandbyStack = "standby-hetzner" | "standby-existing";

/** The secrets each fixture stack has set: its own and the floating-IP token. */
export const STANDBY_SECRETS: Record<StandbyStack, ReadonlySet<string>> = {
  "standby-hetzner": new Set(["trunkPasswords.oneandone", "dnsToken", "signalwireToken", "hetznerFloatingIpToken"]),
  "standby-existing": new Set([
    "trunkPasswords.oneandone",
    "signalwireToken",
    "sshPrivateKey",
    "hetznerFloatingIpToken",
  ]),
};

export function standbyRaw(stack: StandbyStack): Record<string, any> {
  const doc = parse(readFileSync(join(STANDBY_FIXTURES, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const raw: Record<string, any> = {};
  for (const [key, value] of Object.entries(doc.config))
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  return raw;
}

export function standbyModel(stack: StandbyStack, mutate: (raw: Record<string, any>) => void = () => {}): StackModel {
  const raw = standbyRaw(stack);
  mutate(raw);
  return buildModel(raw, { stack, secretPaths: STANDBY_SECRETS[stack] });
}

/** The problems a fixture stack changed by `mutate` raises (none: []). */
export function standbyProblems(
  stack: StandbyStack,
  mutate: (raw: Record<string, any>) => void,
  secrets: ReadonlySet<string> = STANDBY_SECRETS[stack],
): Problem[] {
  const raw = standbyRaw(stack);
  mutate(raw);
  try {
    buildModel(raw, { stack, secretPaths: secrets });
    return [];
  } catch (err) {
    if (err instanceof StackConfigError) return [...err.problems];
    throw err;
  }
}
