/**
 * The teach profile's promise: in a few minutes per notebook it shows the paper's effects (src/repro/effects.ts).
 * Trains what runs/teach/ lacks (4 stage-1 runs and their classifiers; about 5 minutes on a quiet 2-core machine,
 * nothing when cached), then checks every effect on the runs.
 *
 *   npm run test:teach            ends with "teach: N passed, M failed"; exit status 1 if any effect fails
 *
 * Not part of `npm test` (it trains); the runs it leaves are the ones the notebooks reuse with profile "teach".
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { paperEffects } from "../src/repro/effects.js";
import { PROFILES } from "../src/repro/profiles.js";
import { figureData } from "../src/repro/report.js";
import { runsSource } from "../src/repro/source.js";
import { buildTables, collectCells } from "../src/repro/tables.js";
import { projectRoot } from "../src/run/manifest.js";

const profile = PROFILES.teach;
const t0 = Date.now();
const train = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    join(projectRoot(), "scripts", "reproduce.ts"),
    "--profile",
    "teach",
    "--no-notebooks",
    "--no-render",
  ],
  { stdio: "inherit" },
);
const minutes = (Date.now() - t0) / 60000;
if (train.status !== 0) {
  console.log(`teach: reproduce.ts --profile teach failed (exit ${train.status})`);
  console.log("teach: 0 passed, 1 failed");
  process.exit(1);
}
const source = runsSource(profile);
const { cells, missing } = collectCells(source);
const effects = paperEffects(buildTables(cells), figureData(source));
let passed = 0;
let failed = 0;
if (missing.length) {
  failed++;
  console.log(`teach: FAIL runs missing: ${missing.join(", ")}`);
}
for (const e of effects) {
  if (e.holds) passed++;
  else failed++;
  console.log(`teach: ${e.holds ? "PASS" : "FAIL"} ${e.name}: ${e.detail}`);
}
console.log(
  `teach: training and report took ${minutes.toFixed(1)} min (runs already cached cost nothing; a development timing, not a benchmark)`,
);
console.log(`teach: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
