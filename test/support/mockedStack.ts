/**
 * Runs the stack under Pulumi's mocks with a given config: either the composition
 * (buildTelephony, to inspect what is not a stack output) or the program itself (index.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";
import { parse } from "yaml";
import { stackNaming } from "../../components/naming";
import { pulumiConfigSource } from "../../components/pulumiConfig";
import { buildDeployment, type Deployment } from "../../components/deployment";
import { buildTelephony, telephonyOutputs, type Telephony } from "../../components/telephony";
import { loadStack } from "../../sip/config";
import { PROJECT_DIR } from "./environment";
import { resolveDeep, startMockRun, type MockRun } from "./pulumiMocks";

/** The `config:` map of Pulumi.<stack>.yaml, keys as written ("telephony:host", ...). */
export function stackFileConfig(stack: string): Record<string, unknown> {
  const doc = parse(readFileSync(join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  return structuredClone(doc.config ?? {});
}

/** What the README's `pulumi config set --secret --path telephony:secrets...` commands add. */
export const TEST_SECRETS = {
  trunkPasswords: { oneandone: "oneandone-test-password-7f3a" },
  dnsToken: "zone-dns-test-token-91c2",
  signalwireToken: "signalwire-test-token-5d0e",
};

/** Prod's config plus its secret, ready to edit; `mutate` changes a copy. */
export function prodConfig(mutate?: (config: Record<string, any>) => void): Record<string, any> {
  const config: Record<string, any> = { ...stackFileConfig("prod"), "telephony:secrets": TEST_SECRETS };
  mutate?.(config);
  return config;
}

export interface StackRun {
  readonly run: MockRun;
  readonly telephony: Telephony;
  readonly deployment: Deployment;
  readonly outputs: Record<string, any>;
}

/** Builds the stack's components and the deployment for `stack` with `config`, as index.ts does, and settles. */
export async function buildStack(stack: string, config: Record<string, unknown>): Promise<StackRun> {
  const run = await startMockRun({ stack, config, secretKeys: ["telephony:secrets"] });
  const telephony = buildTelephony(loadStack(pulumiConfigSource()), stackNaming());
  const deployment = buildDeployment(telephony, PROJECT_DIR);
  const outputs = (await resolveDeep(telephonyOutputs(telephony))) as Record<string, any>;
  await run.settle();
  return { run, telephony, deployment, outputs };
}

/** Runs index.ts itself (re-imported fresh) and resolves its exports, or returns what it threw. */
export async function runProgram(
  stack: string,
  config: Record<string, unknown>,
): Promise<
  | { run: MockRun; outputs: Record<string, any>; error?: undefined }
  | { run: MockRun; outputs?: undefined; error: unknown }
> {
  const run = await startMockRun({ stack, config, secretKeys: ["telephony:secrets"] });
  vi.resetModules();
  try {
    const program = (await import("../../index")) as Record<string, unknown>;
    const outputs = (await resolveDeep({ ...program })) as Record<string, any>;
    await run.settle();
    return { run, outputs };
  } catch (error) {
    await run.settle();
    return { run, error };
  }
}
