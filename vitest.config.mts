import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container and real-FreeSWITCH suites build images and run on their own (npm test calls them).
    exclude: ["test/container/**", "test/freeswitch/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
