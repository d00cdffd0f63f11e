// @ts-check
/**
 * `npm run lint`: ESLint with typescript-eslint's type-checked rules, for the bugs the compiler
 * accepts: a promise nobody awaits or catches (its rejection is lost, or crashes the process later),
 * an async callback where a void one is expected (an event listener, a timer), `await` on a
 * non-promise, `any` leaking into the program's code, and unused code. The rules read the types
 * through TypeScript's project service, so an async function imported from another module counts.
 * Formatting is Prettier's job (`npm run format`); nothing here is about layout.
 */
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  // test/fixtures/lint/ holds code that must fail the lint: test/project/lint.test.ts lints it on purpose.
  globalIgnores(["dist/", "out/", ".pulumi/", "test/fixtures/lint/"]),
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["**/*.{ts,mts,cts}"],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A leading underscore marks a parameter kept for its position; a rest sibling drops a key on purpose.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
      // Off: here an async function without await implements an interface that wants a promise (a
      // Fastify route, a Pulumi dynamic provider's diff, a mocked sender); `async` also turns its
      // throw into a rejection. Rewriting them to Promise.resolve would change nothing but the text.
      "@typescript-eslint/require-await": "off",
      // Off: the code matches control characters on purpose (stripping ANSI colours, refusing
      // control characters in SIP and XML text); that is all this rule finds.
      "no-control-regex": "off",
    },
  },
  {
    // Tests and benchmarks read JSON from child processes and reports, and drive Pulumi's mocks,
    // whose inputs are `any`; their assertions check the shapes. The program's own code stays
    // free of `any` (the rules above keep it so).
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // The two plain JavaScript files (the dependency rules, the end-to-end test's SIP registrar).
    files: ["**/*.{js,mjs,cjs}"],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
