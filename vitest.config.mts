import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container, real-FreeSWITCH and end-to-end suites build images and run on their own (npm test calls them).
    exclude: ["test/container/**", "test/freeswitch/**", "test/e2e/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
