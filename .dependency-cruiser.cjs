/**
 * The dependency rule (README, "Architecture"), checked by dependency-cruiser over index.ts, sip/,
 * components/, api/ and bin/: test/project/architecture.test.ts runs it in the unit suite, and
 * `npx depcruise index.ts sip components api bin` prints the same verdict.
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
      comment: "sip/ is the pure SIP domain: it knows nothing of Pulumi (components/, @pulumi/*) or of the config API service (api/).",
      from: { path: "^sip/" },
      to: { path: ["^(components|api)/", "(^|/)node_modules/@pulumi/", "^@pulumi/"] },
    },
  ],
  options: {
    // Type-only imports count: `import type` closes a cycle as surely as a value import does.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "(^|/)node_modules/" },
  },
};
