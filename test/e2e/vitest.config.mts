import { defineConfig } from "vitest/config";

// The end-to-end tests only (npm run test:e2e): a real `pulumi up` onto a disposable Debian 12 host
// (deploy.test.ts), then onto a standby pair of them (standby.test.ts). One file at a time, each
// its steps in order; nothing runs beside them.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
  },
});
