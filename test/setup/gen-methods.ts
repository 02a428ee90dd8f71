/**
 * vitest global setup: write the generated list of classifier methods (src/classifiers/methods/index.ts, not
 * committed) before any test file imports the registry, so `npx vitest run …` works on a checkout where nothing
 * else has generated it yet (scripts/gen-methods.mjs).
 */
import { spawnSync } from "node:child_process";

export default function setup(): void {
  const r = spawnSync(process.execPath, ["scripts/gen-methods.mjs"], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`scripts/gen-methods.mjs failed (exit ${r.status})`);
}
