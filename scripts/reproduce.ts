/**
 * The main job: the Fashion-MNIST-LT reproduction of the paper's tables and figures.
 *
 *   npm run reproduce:table                      full profile: 4 samplers × its seeds × 30 epochs, 5 classifiers each
 *   npm run reproduce:table -- --profile teach   a small version that shows the paper's effects in minutes
 *   npm run reproduce:table -- --profile smoke   the same pipeline on a tiny subset (CI plumbing)
 *   npm run figures                              regenerate tables and figures; never trains
 *   npm run reproduce:table -- --verify          regenerate everything into a temporary folder and compare every
 *                                                number with the committed results (docs/VERIFY.md)
 *
 * Runs are cached by config hash under runs/<profile>/, so an interrupted reproduction continues where it stopped
 * (the interrupted run itself resumes from its last epoch). Once every run of the profile has finished, the results
 * bundle (src/repro/bundle.ts: every run's results and manifest, the classifiers, one representation's features) is
 * exported to `<output folder>/bundle/`; the notebooks read it in their default "results" mode, and the executed
 * notebooks are written beside the tables. Outputs: results/FashionMNIST_LT/ (full), build/results-<profile>/ (others).
 *
 * `npm run figures` reads whatever runs exist plus the committed bundle, rewrites only files whose content changed,
 * and never replaces committed results by an incomplete report: when something is missing it says what and how to
 * make it, and leaves the files as they are.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../src/backend.js";
import { preferSpinningWorkers } from "../src/kernels/native/addon.js";
import { requestedThreads } from "../src/kernels/native/index.js";
import { type Bundle, BundleError, bundleDir, exportBundle, tryLoadBundle } from "../src/repro/bundle.js";
import { CLASSIFIERS, getProfile, PROFILES, type Profile, SAMPLERS } from "../src/repro/profiles.js";
import { writeReport } from "../src/repro/report.js";
import { ensureStage1, ensureStage2, runStatus, stage1Plan, stage2Plan } from "../src/repro/runs.js";
import { layeredSource, runsSource } from "../src/repro/source.js";
import { formatVerify, verifyProfile } from "../src/repro/verify.js";
import { projectRoot } from "../src/run/manifest.js";
import { buildDataset } from "../src/train/build.js";

const USAGE = `usage: npm run reproduce:table -- [--profile full|teach|smoke] [--seeds 0,1,2] [--samplers IB,CB,SR,PB] [--no-render] [--no-notebooks] [--bundle-out DIR]
       npm run figures -- [--profile full|teach|smoke] [--no-render] [--notebooks] [--bundle-out DIR]

  --figures-only   (what npm run figures passes) never train: regenerate from the runs that exist plus the bundle
  --notebooks      with --figures-only: also re-execute the notebooks (results mode) into <output>/executed_notebooks
  --bundle-out DIR export the results bundle to DIR instead of <output folder>/bundle
  --verify         train what the run cache lacks (or reuse it), regenerate every output into a temporary folder
                   (never into the output folder) and compare every number with the committed ones: prints
                   "identical: N numbers in M files" (exit 0) or each difference with its run and manifest (exit 1);
                   docs/VERIFY.md says what is compared and what is ignored
  --jobs N|auto    train N (seed, sampler) pipelines at once, each in its own process with 1/N of the threads
                   (LTR_NUM_THREADS); the numbers do not depend on it (docs/DETERMINISM.md), only the wall time.
                   auto (the default): one single-thread process per thread (2), when 2 or more pipelines are left;
                   ResNet-8 scales better across pipelines than across the threads of one (docs/PERFORMANCE.md)
  --train-only     train (or reuse) the selected runs and stop: no bundle, tables, figures or notebooks`;

const { values } = parseArgs({
  options: {
    profile: {
      type: "string",
      default: process.env.LTR_PROFILE && process.env.LTR_PROFILE !== "results" ? process.env.LTR_PROFILE : "full",
    },
    seeds: { type: "string" },
    samplers: { type: "string" },
    "figures-only": { type: "boolean", default: false },
    "no-render": { type: "boolean", default: false },
    "no-notebooks": { type: "boolean", default: false },
    notebooks: { type: "boolean", default: false },
    "bundle-out": { type: "string" },
    verify: { type: "boolean", default: false },
    jobs: { type: "string", default: "auto" },
    "train-only": { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!(values.profile! in PROFILES)) {
  console.error(
    `reproduce: unknown profile '${values.profile}'; valid: ${Object.keys(PROFILES).join(", ")} ("results" is the notebooks' read-only mode, not a profile to train)`,
  );
  process.exit(2);
}

const root = projectRoot();
const rel = (p: string) => relative(root, p) || ".";
const profile: Profile = { ...getProfile(values.profile) };
const subset = Boolean(values.seeds || values.samplers);
if (values["figures-only"] && subset) {
  console.error(
    "reproduce: --seeds / --samplers select what to train; npm run figures always reports the whole profile",
  );
  process.exit(2);
}
if (values.verify && (subset || values["figures-only"])) {
  console.error(
    "reproduce: --verify checks the whole profile; it cannot be combined with --seeds, --samplers or --figures-only",
  );
  process.exit(2);
}
if (values.seeds) profile.seeds = values.seeds.split(",").map(Number);
const samplers = values.samplers
  ? SAMPLERS.filter((s) => values.samplers!.split(",").includes(s.short))
  : [...SAMPLERS];
const t0 = Date.now();
const fmt = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
const log = (s: string) => console.log(`reproduce: ${s}`);
// --jobs, read once: the training pipelines and the notebook replay both run this many processes at a time.
const autoJobs = values.jobs === "auto";
const jobs = autoJobs ? requestedThreads() : Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`reproduce: --jobs must be a whole number >= 1 or 'auto', got '${values.jobs}'`);
  process.exit(2);
}

if (!values["figures-only"]) {
  // This process trains stage 1 (unless every run is cached), and the wait policy is fixed when the addon loads:
  // ask for stage 1's short spin before initBackend loads it (src/kernels/native/addon.ts, preferSpinningWorkers).
  preferSpinningWorkers();
  const backend = await initBackend();
  log(
    `profile ${profile.name}, seeds ${profile.seeds.join(",")}, samplers ${samplers.map((s) => s.short).join(",")}, backend ${backend.name} (${Object.keys(backend.kernels.registered).length} own kernels; ${backend.kernels.notes.join("; ") || "no native layer"})`,
  );
  // Plan: which stage-1 runs still have to train (the expensive part; stage 2 on features takes seconds).
  const plan = profile.seeds.flatMap((seed) => samplers.map((s) => ({ seed, s })));
  const todo = plan.filter(({ seed, s }) => runStatus(stage1Plan(s.stage, seed, profile).dir) !== "finished");
  log(
    `${plan.length} stage-1 runs, ${plan.length - todo.length} cached, ${todo.length} to train; 5 classifiers on each`,
  );
  if (jobs > 1) await trainInParallel(plan, jobs, autoJobs);
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
        console.log(
          `[${k + 1}/${plan.length}] stage 1 ${what}${Number.isFinite(eta) ? ` — ETA ${fmt(eta)} for ${left} stage-1 runs` : ""}`,
        );
      },
    });
    if (needs) {
      trained++;
      trainSeconds += (Date.now() - started) / 1000;
    }
    for (const c of CLASSIFIERS) {
      await ensureStage2(c.stage, s1, seed, profile, {
        dataset,
        quiet: true,
        onStart: (what) => console.log(`[${k + 1}/${plan.length}] stage 2 ${what}`),
      });
    }
    console.log(`[${k + 1}/${plan.length}] ${s.short} seed ${seed} done (elapsed ${fmt((Date.now() - t0) / 1000)})`);
  }
}

// --verify: every output regenerated from the runs into a temporary folder and compared with the committed one.
if (values["train-only"]) process.exit(0);

if (values.verify) {
  const v = await verifyProfile(getProfile(profile.name), { log });
  console.log(formatVerify(v.result));
  if (v.kept) console.log(`reproduce: the regenerated outputs are in ${v.dir} (the committed ones were not touched)`);
  process.exit(v.result.differences.length ? 1 : 0);
}

// 1. The results bundle, from the run cache, once every run of the profile has finished (a subset never exports).
const fullProfile = getProfile(profile.name);
const outBundle = values["bundle-out"] ? join(process.cwd(), values["bundle-out"]) : bundleDir(fullProfile);
if (!subset) {
  const ex = exportBundle(fullProfile, outBundle);
  if (ex.status === "incomplete") {
    log(
      `results bundle not exported: runs/${profile.name}/ lacks ${ex.missing.length} of the finished runs and cached features it needs (${ex.missing.slice(0, 6).join(", ")}${ex.missing.length > 6 ? ", …" : ""}); ${rel(outBundle)} is left as it is`,
    );
  } else log(`results bundle ${rel(outBundle)}: ${ex.status} (${(ex.bytes / 1e6).toFixed(1)} MB)`);
}

// 2. Tables and figures from the runs that exist, the bundle filling in what the cache lacks.
let bundle: Bundle | null = null;
try {
  bundle = tryLoadBundle(bundleDir(fullProfile));
} catch (e) {
  if (!(e instanceof BundleError)) throw e;
  console.error(`reproduce: ${e.message}`);
  process.exit(1);
}
// Always the whole profile (a --seeds/--samplers run adds to it; the report never shrinks to the subset).
const source = bundle ? layeredSource(runsSource(fullProfile), bundle.source) : runsSource(fullProfile);
const r = await writeReport(fullProfile, { source, render: !values["no-render"], log });
if (!r.written) {
  console.error(
    `reproduce: ${r.missing.length} results are missing from ${source.name} (${r.missing.slice(0, 8).join(", ")}${r.missing.length > 8 ? ", …" : ""}).\n` +
      `  ${rel(r.outDir)}/ is left as it is. Make the missing runs with \`npm run reproduce:table${profile.name === "full" ? "" : ` -- --profile ${profile.name}`}\` ` +
      `(it trains only what runs/${profile.name}/ lacks; the full profile takes about an hour on 2 cores)` +
      (bundle
        ? "."
        : `; this checkout has no results bundle in ${rel(bundleDir(fullProfile))}/ to fill the gaps (git checkout -- ${rel(bundleDir(fullProfile))} restores a committed one).`),
  );
  process.exit(1);
}
log(
  `${rel(r.outDir)}: ${r.changed.length} files written, ${r.unchanged.length} unchanged${r.missing.length ? ` (${r.missing.length} results still missing)` : ""}, from ${source.name} in ${fmt((Date.now() - t0) / 1000)}`,
);

// 3. The executed notebooks, in their default results mode on this profile's bundle.
const wantNotebooks = values["figures-only"] ? values.notebooks : !values["no-notebooks"] && !subset;
if (wantNotebooks) {
  if (!existsSync(join(outBundle, "bundle.json"))) {
    log(`notebooks not executed: no results bundle in ${rel(outBundle)} yet`);
  } else {
    const out = join(r.outDir, "executed_notebooks");
    log(`executing the notebooks (results mode on ${rel(outBundle)}) into ${rel(out)}`);
    const res = spawnSync(
      process.execPath,
      // Results mode trains nothing, so the notebooks replay side by side, one per thread (--jobs auto's rule).
      [
        join(root, "scripts", "replay-notebooks.cjs"),
        "--out",
        out,
        "--profile",
        "results",
        "--jobs",
        String(jobs),
        join(root, "notebooks"),
      ],
      {
        stdio: "inherit",
        env: { ...process.env, LTR_BUNDLE: outBundle, LTR_NOTEBOOK_OUT: join(r.outDir, "notebooks") },
      },
    );
    if (res.status !== 0) process.exitCode = 1;
  }
}

/**
 * `--jobs N`: the (seed, sampler) pipelines (stage 1 and its five classifiers) that are not all finished, trained
 * by N child processes of this script (`--seeds S --samplers X --train-only`), each with 1/N of the threads. Every
 * pipeline writes only its own run folders (each under its lock), and the numerics do not depend on the thread
 * count, so the runs are the ones a single process would train; the loop above then finds them cached.
 */
async function trainInParallel(
  plan: Array<{ seed: number; s: (typeof SAMPLERS)[number] }>,
  asked: number,
  auto: boolean,
) {
  const pending = plan.filter(({ seed, s }) => {
    const s1 = stage1Plan(s.stage, seed, profile).dir;
    return (
      runStatus(s1) !== "finished" ||
      CLASSIFIERS.some((c) => runStatus(stage2Plan(c.stage, s1, seed, profile).dir) !== "finished")
    );
  });
  // auto: never more processes than pipelines, and a lone pipeline trains in this process with all the threads.
  const jobs = auto ? Math.min(asked, pending.length) : asked;
  if (jobs < 2) return;
  const threads = Math.max(1, Math.floor(requestedThreads() / jobs));
  log(`--jobs ${jobs}: ${pending.length} pipelines to train, ${jobs} at a time with ${threads} thread(s) each`);
  const failures: string[] = [];
  const runOne = ({ seed, s }: (typeof plan)[number]) =>
    new Promise<void>((done) => {
      const tag = `[${s.short} seed ${seed}]`;
      const args = [...process.execArgv, process.argv[1], "--profile", profile.name, "--seeds", String(seed)];
      const child = spawn(process.execPath, [...args, "--samplers", s.short, "--train-only"], {
        env: { ...process.env, LTR_NUM_THREADS: String(threads) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const tail: string[] = [];
      // Each stream is relayed line by line with the pipeline's tag; a chunk may end inside a line, whose start
      // waits in `rest` for the next chunk (or the end of the stream).
      const relay = (stream: NodeJS.ReadableStream, to: NodeJS.WriteStream) => {
        let rest = "";
        const emit = (line: string) => {
          if (!line) return;
          to.write(`${tag} ${line}\n`);
          tail.push(line);
          if (tail.length > 5) tail.shift();
        };
        stream.on("data", (chunk: Buffer) => {
          const lines = (rest + chunk.toString()).split(/\r?\n/);
          rest = lines.pop() ?? "";
          for (const line of lines) emit(line);
        });
        stream.on("end", () => emit(rest));
      };
      relay(child.stdout, process.stdout);
      relay(child.stderr, process.stderr);
      child.on("close", (code) => {
        if (code !== 0) failures.push(`${tag} exited with status ${code}: ${tail.join(" | ")}`);
        done();
      });
    });
  const queue = [...pending];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
    }),
  );
  if (failures.length) {
    console.error(`reproduce: ${failures.length} pipeline(s) failed:\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
}
