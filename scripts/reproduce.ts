/**
 * The main job: the Fashion-MNIST-LT reproduction of the paper's tables and figures.
 *
 *   npm run reproduce:table                      full profile: 4 samplers × 3 seeds × 30 epochs, 5 classifiers each
 *   npm run reproduce:table -- --profile smoke   the same pipeline on a tiny subset in minutes
 *   npm run figures                              regenerate tables/figures from finished runs only (no training)
 *
 * Runs are cached by config hash under runs/<profile>/, so an interrupted reproduction continues where it stopped
 * (the interrupted run itself resumes from its last epoch). Outputs: results/FashionMNIST_LT/ (full) or
 * build/results-smoke/FashionMNIST_LT/ (smoke).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../src/run/manifest.js";
import { initBackend } from "../src/backend.js";
import { buildDataset } from "../src/train/build.js";
import { CLASSIFIERS, getProfile, SAMPLERS } from "../src/repro/profiles.js";
import { writeReport } from "../src/repro/report.js";
import { ensureStage1, ensureStage2, runStatus, stage1Plan } from "../src/repro/runs.js";

const { values } = parseArgs({
  options: {
    profile: { type: "string", default: process.env.LTR_PROFILE ?? "full" },
    seeds: { type: "string" },
    samplers: { type: "string" },
    "figures-only": { type: "boolean", default: false },
    "no-render": { type: "boolean", default: false },
    "no-notebooks": { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(`usage: npm run reproduce:table -- [--profile full|smoke] [--seeds 0,1,2] [--samplers IB,CB,SR,PB] [--figures-only] [--no-render] [--no-notebooks]`);
  process.exit(0);
}

const profile = { ...getProfile(values.profile) };
if (values.seeds) profile.seeds = values.seeds.split(",").map(Number);
const samplers = values.samplers ? SAMPLERS.filter((s) => values.samplers!.split(",").includes(s.short)) : [...SAMPLERS];
const t0 = Date.now();
const fmt = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`);

if (!values["figures-only"]) {
  const backend = await initBackend();
  console.log(`reproduce: profile ${profile.name}, seeds ${profile.seeds.join(",")}, samplers ${samplers.map((s) => s.short).join(",")}, backend ${backend.name} (${Object.keys(backend.kernels.registered).length} own kernels; ${backend.kernels.notes.join("; ") || "no native layer"})`);
  // Plan: which stage-1 runs still have to train (the expensive part; stage 2 on features takes seconds).
  const plan = profile.seeds.flatMap((seed) => samplers.map((s) => ({ seed, s })));
  const todo = plan.filter(({ seed, s }) => runStatus(stage1Plan(s.stage, seed, profile).dir) !== "finished");
  console.log(`reproduce: ${plan.length} stage-1 runs, ${plan.length - todo.length} cached, ${todo.length} to train; 5 classifiers on each`);
  const dataset = await buildDataset(stage1Plan("feat_uniform", profile.seeds[0], profile).loaded.config);
  let trained = 0;
  let trainSeconds = 0;
  for (const [k, { seed, s }] of plan.entries()) {
    const needs = runStatus(stage1Plan(s.stage, seed, profile).dir) !== "finished";
    const started = Date.now();
    const s1 = await ensureStage1(s.stage, seed, profile, {
      dataset,
      onStart: (what) => {
        const left = todo.length - trained;
        const eta = trained ? (trainSeconds / trained) * left : NaN;
        console.log(`[${k + 1}/${plan.length}] stage 1 ${what}${Number.isFinite(eta) ? ` — ETA ${fmt(eta)} for ${left} stage-1 runs` : ""}`);
      },
    });
    if (needs) {
      trained++;
      trainSeconds += (Date.now() - started) / 1000;
    }
    for (const c of CLASSIFIERS) {
      await ensureStage2(c.stage, s1, seed, profile, { dataset, quiet: true, onStart: (what) => console.log(`[${k + 1}/${plan.length}] stage 2 ${what}`) });
    }
    console.log(`[${k + 1}/${plan.length}] ${s.short} seed ${seed} done (elapsed ${fmt((Date.now() - t0) / 1000)})`);
  }
}

const r = await writeReport(profile, { render: !values["no-render"], log: (s) => console.log(`reproduce: ${s}`) });
console.log(`reproduce: wrote ${r.files.length} files to ${r.outDir}${r.missing.length ? ` (${r.missing.length} results still missing)` : ""} in ${fmt((Date.now() - t0) / 1000)}`);

// The executed notebooks go beside the tables: they reuse the cached runs above, so this only re-renders.
if (!values["no-notebooks"] && !values.seeds && !values.samplers) {
  const out = join(r.outDir, "executed_notebooks");
  console.log(`reproduce: executing the notebooks (${profile.name} profile) into ${out}`);
  const res = spawnSync(process.execPath, [join(projectRoot(), "scripts", "replay-notebooks.cjs"), "--out", out, "--profile", profile.name, join(projectRoot(), "notebooks")], { stdio: "inherit" });
  if (res.status !== 0) process.exitCode = 1;
}
