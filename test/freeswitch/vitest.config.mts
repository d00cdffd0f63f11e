import { defineConfig } from "vitest/config";

// The real-FreeSWITCH suite (npm run test:freeswitch): the project's FreeSWITCH image and config API
// image in network namespaces on documentation addresses. Files run one at a time: each starts
// its own FreeSWITCH, and two at once would only compete for the same two cores.
export default defineConfig({
  test: {
    include: ["test/freeswitch/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
