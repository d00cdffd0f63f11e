import { defineConfig } from "vitest/config";

// The real-engine suite (npm run test:engine): `pulumi preview --diff` of every stack on a file
// backend. globalSetup finds the engine (a pinned `pulumi` on PATH); the stacks run one after another.
export default defineConfig({
  test: {
    include: ["test/engine/**/*.test.ts"],
    globalSetup: ["test/engine/globalSetup.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
