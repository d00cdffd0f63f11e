/**
 * Finds (or builds, with the offline kit) the Pulumi engine once per run through
 * .ci/engine-setup.sh and hands its directory to the tests. Without one the script has already
 * said how to get one; in CI it has failed, and so does this run.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { PROJECT_DIR } from "../helpers/stackConfig";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory holding `pulumi`, or "" when no engine is available (outside CI: the suite skips). */
    pulumiEngineBin: string;
  }
}

export default function setup(project: TestProject): void {
  // stderr shows the build's progress (minutes on a cold cache); stdout is the answer.
  let bin: string;
  try {
    bin = execFileSync("bash", [join(PROJECT_DIR, ".ci", "engine-setup.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  } catch {
    throw new Error("no Pulumi engine for npm run test:engine: .ci/engine-setup.sh said why above");
  }
  project.provide("pulumiEngineBin", bin);
}
