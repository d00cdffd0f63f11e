import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container, engine, real-FreeSWITCH and end-to-end suites build images or drive a real
    // Pulumi engine, and run on their own (npm test calls them).
    exclude: ["test/container/**", "test/engine/**", "test/freeswitch/**", "test/e2e/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
