/**
 * Reads Pulumi.<stack>.yaml from disk as a ConfigSource for the offline tools (`npm start`,
 * `npm run diff`). Secrets in it are encrypted for the Pulumi CLI, so they are "unavailable" here.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ConfigSource } from "../sip/config";
import { CONFIG_NAMESPACE, problem, StackConfigError } from "../sip/problems";

export function stackFilePath(dir: string, stack: string): string {
  return join(dir, `Pulumi.${stack}.yaml`);
}

export function configSourceFromYaml(stack: string, text: string): ConfigSource {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    throw new StackConfigError(stack, [
      problem(
        "(file)",
        `Pulumi.${stack}.yaml is not valid YAML: ${(err as Error).message}`,
        "correct the YAML syntax (keys must be unique)",
      ),
    ]);
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  return {
    stack,
    get: (key) => config[`${CONFIG_NAMESPACE}:${key}`],
    getSecret: () => "unavailable",
  };
}

/** Stacks with a Pulumi.<stack>.yaml in `dir`. */
export function stacksIn(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function configSourceFromFile(dir: string, stack: string): ConfigSource {
  const path = stackFilePath(dir, stack);
  if (!existsSync(path)) {
    throw new StackConfigError(stack, [
      problem(
        "(file)",
        `there is no Pulumi.${stack}.yaml`,
        `name one of the stacks here: ${stacksIn(dir).join(", ") || "(none)"}, or create it with pulumi stack init ${stack}`,
      ),
    ]);
  }
  return configSourceFromYaml(stack, readFileSync(path, "utf8"));
}
