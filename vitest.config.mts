import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container, engine, ACME, real-FreeSWITCH and end-to-end suites build images, drive a real
    // Pulumi engine or need root and Debian packages, and run on their own (npm test calls them).
    exclude: [
      "test/container/**",
      "test/engine/**",
      "test/acme/**",
      "test/freeswitch/**",
      "test/e2e/**",
      "node_modules/**",
    ],
    testTimeout: 20_000,
  },
});
