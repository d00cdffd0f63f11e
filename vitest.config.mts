import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container test builds images and the engine test drives a real Pulumi engine: each runs
    // on its own (npm run test:container, npm run test:engine).
    exclude: ["test/container/**", "test/engine/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
