import { defineConfig } from "vitest/config";

// Tests share one CPU budget (2 cores in CI): run files in forked processes, two at a time, so
// each wasm backend instance owns a core and no test's timing depends on another file's load.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/gen-methods.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
