/**
 * The Pulumi engine for the engine previews: the `pulumi` on PATH at the lockfile's version
 * (test/support/environment.ts). npm run test:engine skips the suite before this runs when there
 * is none; run directly with vitest, this fails with the same line.
 */
import type { TestProject } from "vitest/node";
import { pulumiEngine, required } from "../support/environment";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory holding `pulumi` (and, for a hand-built engine, its plugins beside it). */
    pulumiEngineBin: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide("pulumiEngineBin", required(pulumiEngine()));
}
