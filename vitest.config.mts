import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container test builds images and is run on its own by .ci/run.
    exclude: ["test/container/**", "test/e2e/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
