/**
 * The dependency rule holds: dependency-cruiser, with the project's .dependency-cruiser.cjs, finds
 * no import cycle (type-only imports included) across index.ts, sip/, components/, api/, bin/ and
 * bench/ (and the test support bench/ runs), no import of bin/, test/ or bench/ from below them,
 * nothing of Pulumi, components/ or api/ in sip/, nothing outside sip/ (test/support/ included)
 * importing sip/render/, and no benchmark importing a suite's folder (only test/support/). A
 * miniature project under test/fixtures/architecture/ breaks each rule, so a rule that stops biting
 * fails here too.
 */
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { cruise, type ICruiseOptions, type ICruiseResult, type IConfiguration } from "dependency-cruiser";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";

const CONFIG_FILE = join(PROJECT_DIR, ".dependency-cruiser.cjs");
const config = createRequire(__filename)(CONFIG_FILE) as IConfiguration;
/** The folders (and file) the rule covers, as the project's root names them. */
const ROOTS = ["index.ts", "sip", "components", "api", "bin", "bench"];
const FIXTURE_DIR = join(PROJECT_DIR, "test", "fixtures", "architecture");
const FIXTURE_ROOTS = ["sip", "components", "bin", "bench", "test"];

/** Cruises `roots` (relative to `baseDir`) with the config's rules and options, as `depcruise` does. */
async function cruiseWith(
  baseDir: string,
  roots: readonly string[],
  options: Partial<ICruiseOptions> = {},
): Promise<ICruiseResult> {
  const { options: configOptions, ...ruleSet } = config;
  const { output } = await cruise([...roots], { ...configOptions, ruleSet, validate: true, baseDir, ...options });
  if (typeof output === "string") throw new Error(`dependency-cruiser answered with text: ${output}`);
  return output;
}

/** One line per violation: the rule, the import, and the whole cycle for a circular one. */
function violations(result: ICruiseResult): string[] {
  return result.summary.violations.map(
    (v) =>
      `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(" → ")})` : ""}`,
  );
}

const localModules = (result: ICruiseResult) =>
  result.modules.filter((m) => !/(^|\/)node_modules\//.test(m.source) && !m.coreModule);

describe("the dependency rule", () => {
  let result: ICruiseResult;
  beforeAll(async () => {
    result = await cruiseWith(PROJECT_DIR, ROOTS);
  });

  it("holds across index.ts, sip/, components/, api/, bin/ and bench/", () => {
    expect(violations(result)).toEqual([]);
  });

  it("cruised every source file and resolved every import (a rule cannot see what was not read)", () => {
    const cruised = new Set(localModules(result).map((m) => m.source));
    const sources = ROOTS.flatMap((root) =>
      root.endsWith(".ts")
        ? [root]
        : readdirSync(join(PROJECT_DIR, root), { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".ts"))
            .map((f) => `${root}/${f}`),
    );
    expect(sources.filter((s) => !cruised.has(s))).toEqual([]);
    const unresolved = localModules(result).flatMap((m) =>
      m.dependencies.filter((d) => d.couldNotResolve).map((d) => `${m.source} → ${d.module}`),
    );
    expect(unresolved).toEqual([]);
  });

  it("counts type-only imports", () => {
    expect(config.options?.tsPreCompilationDeps).toBe(true);
  });
});

describe("each rule bites (test/fixtures/architecture breaks each once)", () => {
  it("finds the cycle, the import of a command, the impure domain module, the imports of sip/render/ from outside sip/ and the benchmark importing a suite", async () => {
    const found = violations(await cruiseWith(FIXTURE_DIR, FIXTURE_ROOTS));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^no-circular: sip\/(model|checks)\.ts → sip\/(checks|model)\.ts /),
        "no-commands-or-tests-below: components/component.ts → bin/command.ts",
        "sip-is-pure-domain: sip/model.ts → components/component.ts",
        expect.stringMatching(/^sip-is-pure-domain: sip\/model\.ts → (.*\/)?node_modules\/@pulumi\/pulumi\//),
        "sip-render-is-inside-sip: components/component.ts → sip/render/file.ts",
        "sip-render-is-inside-sip: test/support/stack.ts → sip/render/file.ts",
        "no-bench-imports-a-suite: bench/bench.ts → test/freeswitch/harness.ts",
      ]),
    );
    // The same benchmark's import of test/support/ is allowed, and so are sip/'s own module and a
    // suite's test importing the renderer.
    expect(found.filter((v) => v.includes("→ test/support/"))).toEqual([]);
    expect(
      found.filter((v) => v.startsWith("sip-render-is-inside-sip:") && !/^[^:]+: (components|test\/support)\//.test(v)),
    ).toEqual([]);
    expect(new Set(found.map((v) => v.split(":")[0]))).toEqual(new Set(config.forbidden?.map((r) => r.name)));
  });

  it("sees the cycle only because type-only imports count", async () => {
    const found = violations(await cruiseWith(FIXTURE_DIR, FIXTURE_ROOTS, { tsPreCompilationDeps: false }));
    expect(found.filter((v) => v.startsWith("no-circular:"))).toEqual([]);
  });
});
