/**
 * The lint step of `npm test` (`npm run lint`, eslint.config.mjs) refuses a floating promise: a
 * fixture the compiler accepts (test/fixtures/lint/floating.ts: an un-awaited call of an async
 * function imported from another module, a `.then()` without a rejection handler, an async
 * listener where a void one is expected) fails it naming each rule and line, and the same work
 * with every promise handled (clean.ts) passes. The normal lint run leaves the fixtures out.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";

const FIXTURES = join("test", "fixtures", "lint");
/** The ESLint command line `npm run lint` runs, with the project's config file. */
const ESLINT_BIN = join(PROJECT_DIR, "node_modules", "eslint", "bin", "eslint.js");

interface LintResult {
  readonly filePath: string;
  readonly messages: readonly { readonly ruleId: string | null; readonly line: number; readonly message: string }[];
}

/** Lints `files` as `npm run lint` does, except that the fixtures' ignore entry is lifted. */
function lintFixtures(files: readonly string[]): { status: number | null; results: LintResult[]; stderr: string } {
  const run = spawnSync(process.execPath, [ESLINT_BIN, "--no-ignore", "--format", "json", ...files], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    timeout: 90_000,
  });
  const results = run.stdout ? (JSON.parse(run.stdout) as LintResult[]) : [];
  return { status: run.status, results, stderr: run.stderr };
}

describe("the lint step", () => {
  it("fails on floating and misused promises the compiler accepts, naming the rule and the line, and passes the same code with them handled", () => {
    const floating = join(FIXTURES, "floating.ts");
    const clean = join(FIXTURES, "clean.ts");
    const { status, results, stderr } = lintFixtures([floating, clean]);
    expect(stderr).toBe("");
    expect(status, "eslint's exit status: 1 means problems found").toBe(1);
    const problems = (file: string) =>
      results.find((r) => r.filePath === join(PROJECT_DIR, file))?.messages.map((m) => `${m.line} ${m.ruleId}`);
    expect(problems(floating)).toEqual([
      "9 @typescript-eslint/no-floating-promises", // saveSnapshot(path, "final"), imported from ./store
      "13 @typescript-eslint/no-floating-promises", // countSnapshots(dir).then(...) without a rejection handler
      "17 @typescript-eslint/no-misused-promises", // emitter.on("close", async () => ...)
    ]);
    expect(problems(clean)).toEqual([]);
  }, 120_000);

  it("passes a clean file alone with exit status 0", () => {
    const { status, results } = lintFixtures([join(FIXTURES, "clean.ts")]);
    expect(results.map((r) => r.messages.length)).toEqual([0]);
    expect(status).toBe(0);
  }, 120_000);

  it("leaves the fixtures out of the normal run and lints the rest of the tree", async () => {
    const eslint = new ESLint({ cwd: PROJECT_DIR });
    expect(await eslint.isPathIgnored(join(PROJECT_DIR, FIXTURES, "floating.ts"))).toBe(true);
    for (const file of [
      "index.ts",
      "sip/model.ts",
      "test/run.ts",
      "bench/api.ts",
      "test/e2e/registrar.mjs",
      ".dependency-cruiser.cjs",
    ]) {
      expect(await eslint.isPathIgnored(join(PROJECT_DIR, file)), file).toBe(false);
    }
  });
});
