/**
 * A stack's configuration, checked: parsed and resolved into the model (model.ts), then every
 * check run over that model (checks.ts). Neither of those knows the other's caller; this module
 * sits above both, so the arrows run one way: schema.ts ← model.ts ← checks.ts ← stack.ts.
 */
import { runChecks } from "./checks";
import { parseStackConfig, resolveModel, type BuildContext, type StackModel } from "./model";
import { StackConfigError } from "./problems";

/**
 * Parses, resolves and checks a stack's configuration. Throws StackConfigError listing every
 * problem at once; returns a model only when the configuration is sound.
 */
export function buildModel(raw: unknown, ctx: BuildContext): StackModel {
  const config = parseStackConfig(raw, ctx.stack);
  const model = resolveModel(config, ctx.stack);
  const problems = runChecks(model, config, ctx);
  if (problems.length > 0) throw new StackConfigError(ctx.stack, problems);
  return model;
}
