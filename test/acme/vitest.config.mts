import { defineConfig } from "vitest/config";

// The ACME suite (npm run test:acme): the rendered renewal job against Debian's Pebble with
// Debian's lego, in a loopback-only network namespace. Root; .ci/acme-setup.sh installs the packages.
export default defineConfig({
  test: {
    include: ["test/acme/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
