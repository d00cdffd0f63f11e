import { defineConfig } from "vitest/config";

// The end-to-end test only (npm run test:e2e): a real `pulumi up` onto a disposable Debian 12 host.
// One file, its steps in order; nothing runs beside it.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
  },
});
