import { defineConfig } from "vitest/config";

// The container test only: builds the API image and runs it (npm run test:container).
export default defineConfig({
  test: {
    include: ["test/container/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
