import { defineConfig } from "vitest/config";

// The harness cases of test/harness/test_command.test.ts: each *.case.ts is one way a test run can go wrong. They are
// run only through scripts/test.sh by that test, never by the project's own vitest config (which includes *.test.ts).
export default defineConfig({
  test: { include: ["*.case.ts"], pool: "forks", maxWorkers: 1, testTimeout: 20_000 },
});
