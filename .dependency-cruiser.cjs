/**
 * The dependency rule (README, "Architecture"), checked by dependency-cruiser over index.ts, sip/,
 * components/, api/, bin/ and bench/: test/project/architecture.test.ts runs it in the unit suite,
 * and `npx depcruise index.ts sip components api bin bench` prints the same verdict.
 *
 * Paths are relative to the directory cruised from (the project root); npm packages resolve to
 * node_modules/<name>/…
 */
/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "Modules form an order: each file's place follows from its imports. A cycle, even one closed by a type-only import, " +
        "means two files each need the other: move what they share below both, or compose them from a module above both.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-commands-or-tests-below",
      severity: "error",
      comment:
        "bin/ holds commands a person runs, test/ and bench/ the checks: the stack, the config API and the domain never import them. " +
        "What a command and a component share lives below the component.",
      from: { path: "^(components|api|sip)/" },
      to: { path: "^(bin|test|bench)/" },
    },
    {
      name: "sip-is-pure-domain",
      severity: "error",
      comment:
        "sip/ is the pure SIP domain: it knows nothing of Pulumi (components/, @pulumi/*) or of the config API service (api/).",
      from: { path: "^sip/" },
      to: { path: ["^(components|api)/", "(^|/)node_modules/@pulumi/", "^@pulumi/"] },
    },
    {
      name: "sip-render-is-inside-sip",
      severity: "error",
      comment:
        "sip/render/ holds the renderers behind sip/'s own modules: bundle.ts (the pushed files), directory.ts (what the config API " +
        "serves), apiContract.ts and hostLayout.ts (the shapes and names both sides share). Nothing outside sip/ imports render/, so " +
        "a renderer can change without breaking a caller: import the sip/ module that offers it, or add it there. The suites' own " +
        "tests under test/ may look inside to test a renderer; test/support/ may not (benchmarks use it).",
      from: { pathNot: ["^sip/", "^test/(?!support/)"] },
      to: { path: "^sip/render/" },
    },
    {
      name: "no-bench-imports-a-suite",
      severity: "error",
      comment:
        "A benchmark drives real things with the suites' support code, which lives in test/support/; a suite's folder " +
        "(test/freeswitch/, test/e2e/, test/engine/, test/container/, or any other beside test/support/) holds that suite's " +
        "tests and changes with them. Move what a benchmark needs into test/support/.",
      from: { path: "^bench/" },
      to: { path: "^test/", pathNot: "^test/support/" },
    },
  ],
  options: {
    // Type-only imports count: `import type` closes a cycle as surely as a value import does.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "(^|/)node_modules/" },
  },
};
