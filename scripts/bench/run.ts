/**
 * `npm run bench`: how fast what users run is, against PyTorch 1.13 doing the same on the same machine.
 *
 *  1. Stage 1, the headline: real training epochs of `ltr train` (sampler, augmentation, forward, backward, SGD;
 *     validation excluded) against a plain PyTorch epoch loop of the same recipe on the same images
 *     (scripts/bench/torch_epoch.py), in alternated pairs: ResNet-8 on Fashion-MNIST-LT 28x28x1 and ResNet-32 on
 *     synthetic CIFAR-shaped 32x32x3 data (scripts/bench/epochs.ts).
 *  2. The whole main job for one sampler: stage 1 (30 epochs) plus the five classifiers, `ltr train` six times
 *     against scripts/bench/torch_pipeline.py (scripts/bench/pipeline.ts).
 *  3. Kernel diagnostics: one training step / inference pass on a pool of distinct batches after a long warm-up
 *     (scripts/bench/step.ts, torch_peer.py). Labelled as diagnostics: a step loop is not an epoch.
 *  4. Stage-2 workloads through the project's classifier code: τ sweep, NCM, one cRT epoch (features.ts), against
 *     PyTorch in alternated rounds (stage2.ts).
 *
 * A report is published (results/bench/) only from a quiet machine: with a load average above 0.5 per core at the
 * start it refuses (exit 3) unless --allow-busy, which marks the report as not publishable. The load average before
 * and after and the cores used by other processes during the run (from /proc/stat) are recorded.
 *
 * Flags: --quick (CI completion check, well under a minute: one short ResNet-8 run, small stage-2 sizes, no
 *        pipeline); --no-torch; --out DIR (default results/bench); --pairs N (default 5); --epochs N (default 3);
 *        --pipeline-pairs N (default 1, 0 skips); --pipeline-epochs N (default 30); --stage2-rounds N (default 3,
 *        alternated rounds of the stage-2 workloads); --reps N / --warmup N
 *        (diagnostics, default 20 / 10); --allow-busy;
 *        --imagenet: also ImageNet-scale inference and JPEG feature extraction (scripts/bench/imagenet.ts).
 * Environment: LTR_NUM_THREADS (default 2) for both sides; LTR_NUMERICS as for training (default deterministic).
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend.js";
import { loadConfig } from "../../src/config/load.js";
import { loadAddon, requestedThreads } from "../../src/kernels/native/index.js";
import { buildDataset } from "../../src/train/build.js";
import { exportSplits } from "./data.js";
import {
  type EpochSummary,
  type EpochWorkload,
  epochPairs,
  median,
  type PairResult,
  summarisePairs,
} from "./epochs.js";
import { type FeatureSizes, FULL_SIZES, QUICK_SIZES } from "./features.js";
import { runImagenetBench } from "./imagenet.js";
import { BUSY_LOAD_PER_CORE, gitCommit, type LoadCheck, loadCheck, startGuard } from "./machine.js";
import { runTorchPeer } from "./peer.js";
import { type PipelineRun, runOursPipeline, runTorchPipeline, type TorchPipelineRun } from "./pipeline.js";
import { runStage2, STAGE2_WORKLOADS, type Stage2Result } from "./stage2.js";
import { buildConvNet } from "./step.js";
import { BATCH, cifarWorkload } from "./workloads.js";

interface Opts {
  quick: boolean;
  torch: boolean;
  out: string;
  pairs: number;
  epochs: number;
  pipelinePairs: number;
  pipelineEpochs: number;
  reps: number;
  warmup: number;
  stage2Rounds: number;
  allowBusy: boolean;
  imagenet: boolean;
}

function parseArgs(argv: string[]): Opts {
  const quick = argv.includes("--quick");
  const o: Opts = {
    quick,
    torch: !argv.includes("--no-torch"),
    out: "results/bench",
    pairs: quick ? 1 : 5,
    epochs: quick ? 2 : 3,
    pipelinePairs: quick ? 0 : 1,
    pipelineEpochs: 30,
    reps: quick ? 3 : 20,
    warmup: quick ? 2 : 10,
    stage2Rounds: quick ? 1 : 3,
    allowBusy: argv.includes("--allow-busy"),
    imagenet: argv.includes("--imagenet"),
  };
  const ints: Record<string, keyof Opts> = {
    "--pairs": "pairs",
    "--epochs": "epochs",
    "--pipeline-pairs": "pipelinePairs",
    "--pipeline-epochs": "pipelineEpochs",
    "--reps": "reps",
    "--warmup": "warmup",
    "--stage2-rounds": "stage2Rounds",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--out" || a in ints) {
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      if (a === "--out") o.out = v;
      else {
        const n = Number(v);
        const min = a === "--pipeline-pairs" || a === "--warmup" ? 0 : 1;
        if (!Number.isInteger(n) || n < min) throw new Error(`bench: ${a} must be an integer >= ${min}, got ${v}`);
        (o as unknown as Record<string, number>)[ints[a]] = n;
      }
      i++;
    } else if (a.startsWith("--") && !["--quick", "--no-torch", "--allow-busy", "--imagenet"].includes(a)) {
      throw new Error(
        `bench: unknown flag ${a}; flags: --quick --no-torch --out --pairs --epochs --pipeline-pairs --pipeline-epochs --reps --warmup --stage2-rounds --allow-busy --imagenet`,
      );
    }
  }
  return o;
}

const fmt = (x: number | null | undefined, d = 1) =>
  x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : "–";

function torchAvailable(): boolean {
  return spawnSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" }).status === 0;
}

function cpuFlags(): string[] {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(execFileSync("cat", ["/proc/cpuinfo"], { encoding: "utf8" }));
    const keep = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile"];
    return m ? m[1].split(/\s+/).filter((f) => keep.includes(f)) : [];
  } catch {
    return [];
  }
}

function timeReps(fn: () => unknown, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return ts;
}

interface Diagnostic {
  train_img_s: number;
  train_img_s_range: number[];
  infer_img_s: number;
  infer_img_s_range: number[];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const start = loadCheck();
  const publishing = resolve(o.out) === resolve("results/bench");
  console.log(
    `bench: load average ${start.loadavg.map((x) => x.toFixed(2)).join(" ")} on ${start.cores} cores (${start.perCore.toFixed(2)} per core)`,
  );
  if (start.busy && publishing && !o.allowBusy) {
    console.error(
      `bench: refusing to publish: the machine is busy (load ${start.perCore.toFixed(2)} per core > ${BUSY_LOAD_PER_CORE}). ` +
        "Stop other jobs and run again, or pass --allow-busy to measure anyway (the report is then marked as not publishable), or --out DIR.",
    );
    process.exit(3);
  }
  // The peers get the environment as it was before our addon set its OpenMP defaults (PyTorch runs as users run it).
  const peerEnv = { ...process.env };
  const threads = requestedThreads();
  const guard = startGuard();
  const info = await initBackend("wasm");
  const addon = loadAddon();
  console.log(`backend ${info.name} ${info.version}; ${info.kernels.notes.join("; ")}`);
  const torch = o.torch && torchAvailable();
  const torchNote = !o.torch ? "skipped (--no-torch)" : torch ? "" : "skipped: /usr/bin/python3 cannot import torch";
  const work = mkdtempSync(join(tmpdir(), "ltr-bench-"));
  const log = (s: string) => console.log(s);

  try {
    // ---- data for both sides -----------------------------------------------------------------------------------
    const fmSets = o.quick ? ["dataset.n_max=1000"] : [];
    const fmLoaded = loadConfig("config/FashionMNIST_LT/feat_uniform.yaml", fmSets);
    const fm = await buildDataset(fmLoaded.config);
    const fmData = exportSplits(fm, join(work, "fmnist"), ["train", "val", "test"]);
    const workloads: EpochWorkload[] = [
      {
        name: `resnet8 ${fm.name} 28x28x1`,
        ltrArgs: ["--cfg", "config/FashionMNIST_LT/feat_uniform.yaml", ...fmSets.flatMap((s) => ["--set", s])],
        model: "resnet8",
        peerData: join(fmData, "train"),
        imagesPerEpoch: Math.floor(fm.train.size / BATCH) * BATCH,
      },
    ];
    if (!o.quick) workloads.push(await cifarWorkload(work, true));

    // ---- 1. real epochs, A/B ---------------------------------------------------------------------------------
    const epochs: Record<string, { pairs: PairResult[]; summary: EpochSummary; images_per_epoch: number }> = {};
    let runCount = 0;
    for (const w of workloads) {
      log(`stage 1, real epochs: ${w.name}, ${o.pairs} pair(s) of ${o.epochs}-epoch runs`);
      const pairs = epochPairs(
        w,
        { epochs: o.epochs, threads, peerEnv, log, runDir: (tag) => join(work, `run-${runCount++}-${tag}`) },
        o.pairs,
        torch,
      );
      epochs[w.name] = { pairs, summary: summarisePairs(pairs), images_per_epoch: w.imagesPerEpoch };
    }

    // ---- 2. the whole main job for one sampler -----------------------------------------------------------------
    const pipeline: Array<{ ours: PipelineRun; torch: TorchPipelineRun | string | null }> = [];
    for (let p = 0; p < o.pipelinePairs; p++) {
      log(`main job (IB stage 1, ${o.pipelineEpochs} epochs, + 5 classifiers): pair ${p + 1}/${o.pipelinePairs}`);
      const popts = { epochs: o.pipelineEpochs, threads, dir: join(work, `pipeline-${p}`) };
      const first = p % 2 === 0;
      let t: TorchPipelineRun | string | null = null;
      if (!first && torch) t = runTorchPipeline(fmData, popts, peerEnv);
      const ours = runOursPipeline(popts);
      if (first && torch) t = runTorchPipeline(fmData, popts, peerEnv);
      log(
        `  ours ${fmt(ours.total_s)} s (stage 1 ${fmt(ours.stage1_s)} s)${t && typeof t !== "string" ? `, PyTorch ${fmt(t.wall_s)} s (stage 1 ${fmt(t.times.stage1_s)} s)` : t ? `, ${t}` : ""}`,
      );
      pipeline.push({ ours, torch: t });
    }

    // ---- 3. kernel diagnostics --------------------------------------------------------------------------------
    const diagCfgs: Array<{ backbone: string; inputShape: [number, number, number] }> = o.quick
      ? [{ backbone: "resnet8", inputShape: [28, 28, 1] }]
      : [
          { backbone: "resnet8", inputShape: [28, 28, 1] },
          { backbone: "resnet32", inputShape: [32, 32, 3] },
        ];
    const key = (c: { backbone: string; inputShape: number[] }) => `${c.backbone}:${c.inputShape.join(":")}`;
    const diagnostics: Record<string, Diagnostic> = {};
    for (const c of diagCfgs) {
      const b = buildConvNet({ ...c, batch: BATCH, numClasses: 10, seed: 0 });
      const tt = timeReps(() => b.trainStep(), o.warmup, o.reps);
      const ti = timeReps(() => b.infer(), o.warmup, o.reps);
      b.dispose();
      diagnostics[key(c)] = {
        train_img_s: BATCH / median(tt),
        train_img_s_range: [BATCH / Math.max(...tt), BATCH / Math.min(...tt)],
        infer_img_s: BATCH / median(ti),
        infer_img_s_range: [BATCH / Math.max(...ti), BATCH / Math.min(...ti)],
      };
      log(
        `diagnostics ${key(c)}: train step ${fmt(diagnostics[key(c)].train_img_s)} img/s, inference ${fmt(diagnostics[key(c)].infer_img_s)} img/s`,
      );
    }

    // ---- 4. stage 2 ------------------------------------------------------------------------------------------
    const z = o.quick ? QUICK_SIZES : FULL_SIZES;
    log(`stage 2 (${z.nTrain}x${z.dim} train, ${z.nQuery} queries, ${z.classes} classes), ${o.stage2Rounds} round(s)`);
    const stage2 = runStage2({ sizes: z, rounds: o.stage2Rounds, threads, torch, peerEnv, log });
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;

    // ---- PyTorch diagnostics and stage 2 ---------------------------------------------------------------------
    type Peer = { torch: string; convnets: Record<string, Diagnostic> };
    let peer: (Peer & { runs: Record<string, Peer> }) | null = null;
    let peerNote = torchNote;
    if (torch) {
      const args = [
        "--threads",
        String(threads),
        "--warmup",
        String(o.warmup),
        "--reps",
        String(o.reps),
        "--configs",
        diagCfgs.map(key).join(","),
        "--stage2",
        "0",
      ];
      const { runs, failed } = runTorchPeer<Peer>(args, peerEnv, threads);
      if (failed) peerNote = failed;
      const got = Object.values(runs);
      if (got.length > 0) {
        const best = structuredClone(got[0]);
        for (const g of got.slice(1)) {
          for (const [k, v] of Object.entries(g.convnets)) {
            const b = best.convnets[k];
            if (!b) best.convnets[k] = v;
            else {
              if (v.train_img_s > b.train_img_s)
                Object.assign(b, { train_img_s: v.train_img_s, train_img_s_range: v.train_img_s_range });
              if (v.infer_img_s > b.infer_img_s)
                Object.assign(b, { infer_img_s: v.infer_img_s, infer_img_s_range: v.infer_img_s_range });
            }
          }
        }
        peer = { ...best, runs };
        peerNote = `torch ${best.torch}; epoch loops and the pipeline as installed; diagnostics the better of OMP_WAIT_POLICY ${Object.keys(runs).join(" / ")}; stage 2 ${stage2.note}`;
      }
    }
    const end = loadCheck();
    const foreign = guard.foreignCores();

    // ---- report ------------------------------------------------------------------------------------------------
    const ratios: Record<string, number> = {};
    for (const [k, e] of Object.entries(epochs))
      if (e.summary.ratio) ratios[`${k} real epochs (ours/torch img/s, median of pairs)`] = e.summary.ratio.median;
    if (pipeline.length && pipeline.every((p) => p.torch && typeof p.torch !== "string")) {
      ratios["main job, one sampler (ours/torch time)"] = median(
        pipeline.map((p) => p.ours.total_s / (p.torch as TorchPipelineRun).wall_s),
      );
    }
    if (stage2.ratio)
      for (const k of STAGE2_WORKLOADS) ratios[`${k} (ours/torch time, median of rounds)`] = stage2.ratio[k].median;
    const busy = start.busy || (foreign !== null && foreign > 0.25);
    const manifest = {
      date: new Date().toISOString(),
      mode: o.quick ? "quick" : "full",
      git_commit: gitCommit(),
      node: process.version,
      tfjs: tf.version_core,
      backend: { name: info.name, package: info.package, version: info.version },
      kernels: info.kernels,
      native: addon.addon ? addon.addon.info() : { unavailable: addon.reason },
      threads,
      torch: peerNote,
      machine: {
        cpu: cpus()[0]?.model ?? "unknown",
        cpu_flags: cpuFlags(),
        logical_cpus: cpus().length,
        mem_gib: totalmem() / 2 ** 30,
        os: `${platform()} ${release()}`,
      },
      load_average: { before: start.loadavg, after: end.loadavg },
      foreign_cores: foreign,
      publishable: !busy,
      timing: {
        epochs: `${o.pairs} alternated pair(s) of ${o.epochs}-epoch runs per model; a run's figure = median training img/s over its epochs after the first`,
        pipeline: `${o.pipelinePairs} pair(s), stage 1 ${o.pipelineEpochs} epochs; wall seconds of the child processes`,
        diagnostics: `${o.warmup} warm-up + ${o.reps} timed steps on 8 distinct batches, batch ${BATCH}; img/s = batch / median step`,
        stage2: `${o.stage2Rounds} alternated round(s), each timing every workload once per side; medians over the rounds`,
      },
      stage2_sizes: z,
      pipeline_epochs: o.pipelineEpochs,
    };
    const result = {
      manifest,
      epochs,
      pipeline,
      diagnostics: { ours: diagnostics, torch: peer?.convnets ?? null },
      stage2,
      peak_rss_mib: peakRssMiB,
      ratios,
    };
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, "bench.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(o.out, "README.md"), readme(result, start, end));
    for (const [k, v] of Object.entries(ratios)) log(`  ${k.padEnd(70)} ${fmt(v, 2)}`);
    log(
      `load average before ${start.loadavg.map((x) => x.toFixed(2)).join(" ")}, after ${end.loadavg.map((x) => x.toFixed(2)).join(" ")}; other processes used ${fmt(foreign, 2)} cores on average${busy ? " — NOT PUBLISHABLE (busy machine)" : ""}`,
    );
    log(`wrote ${join(o.out, "bench.json")} and README.md`);
    if (o.imagenet) await runImagenetBench({ quick: o.quick, torch, out: o.out, peerEnv });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

type Result = {
  manifest: {
    publishable: boolean;
    foreign_cores: number | null;
    stage2_sizes: FeatureSizes;
    pipeline_epochs: number;
  } & Record<string, unknown>;
  epochs: Record<string, { pairs: PairResult[]; summary: EpochSummary; images_per_epoch: number }>;
  pipeline: Array<{ ours: PipelineRun; torch: TorchPipelineRun | string | null }>;
  diagnostics: { ours: Record<string, Diagnostic>; torch: Record<string, Diagnostic> | null };
  stage2: Stage2Result;
  peak_rss_mib: number;
  ratios: Record<string, number>;
};

function readme(r: Result, start: LoadCheck, end: LoadCheck): string {
  const m = r.manifest;
  const L: string[] = ["# Benchmark: what users run, against PyTorch", ""];
  if (!m.publishable) {
    L.push(
      `> **Not publishable:** measured on a busy machine (load ${start.perCore.toFixed(2)} per core at the start, other processes used ${fmt(m.foreign_cores, 2)} cores on average). Re-run on a quiet machine.`,
      "",
    );
  }
  L.push(
    "Generated by `npm run bench` (scripts/bench/run.ts); raw numbers in `bench.json`. Both sides use the same thread",
    "count; PyTorch 1.13 as Debian installs it.",
    "",
    "## Stage 1: real training epochs (the headline)",
    "",
    "`ltr train` against a plain PyTorch epoch loop of the same recipe (batch 128, SGD lr 0.05 cosine, momentum 0.9,",
    "weight decay 5e-4, random crop with 4 px padding + horizontal flip, a fresh permutation per epoch) on the same",
    "training images; training images/s per epoch (sampler, augmentation, forward, backward, SGD; validation excluded).",
    "Pairs alternate which side runs first; a run's figure is the median over its epochs after the first.",
    "",
    "| model, data | images/epoch | pairs | ours img/s median (min–max) | PyTorch img/s median (min–max) | ratio median (min–max) |",
    "|---|---|---|---|---|---|",
  );
  for (const [k, e] of Object.entries(r.epochs)) {
    const s = e.summary;
    const rng = (x: { median: number; min: number; max: number } | null, d = 0) =>
      x ? `${fmt(x.median, d)} (${fmt(x.min, d)}–${fmt(x.max, d)})` : "–";
    L.push(
      `| ${k} | ${e.images_per_epoch} | ${e.pairs.length} | ${rng(s.ours_img_s)} | ${rng(s.torch_img_s)} | ${rng(s.ratio, 2)} |`,
    );
  }
  if (r.pipeline.length) {
    L.push(
      "",
      "## The main job for one sampler",
      "",
      `Instance-balanced stage 1 (${m.pipeline_epochs} epochs, validation every epoch) + Joint, NCM, cRT, τ-norm, LWS: \`ltr train\` six times against scripts/bench/torch_pipeline.py; wall seconds including process start-up.`,
      "",
      "| pair | ours total s (stage 1) | PyTorch total s (stage 1) | ratio (time) |",
      "|---|---|---|---|",
    );
    r.pipeline.forEach((p, i) => {
      const t = p.torch && typeof p.torch !== "string" ? p.torch : null;
      L.push(
        `| ${i + 1} | ${fmt(p.ours.total_s)} (${fmt(p.ours.stage1_s)}) | ${t ? `${fmt(t.wall_s)} (${fmt(t.times.stage1_s)})` : typeof p.torch === "string" ? p.torch : "–"} | ${t ? fmt(p.ours.total_s / t.wall_s, 2) : "–"} |`,
      );
    });
  } else {
    L.push("", "## The main job for one sampler", "", "Not measured in this run (`--pipeline-pairs 0`).");
  }
  L.push(
    "",
    "## Kernel diagnostics (not a headline figure)",
    "",
    "One training step / inference pass, batch 128, on 8 distinct batches after a warm-up; a step loop is not an epoch.",
    "",
    "| model, input | ours train | torch train | ours infer | torch infer |",
    "|---|---|---|---|---|",
  );
  for (const [k, v] of Object.entries(r.diagnostics.ours)) {
    const t = r.diagnostics.torch?.[k];
    L.push(
      `| ${k} | ${fmt(v.train_img_s)} | ${t ? fmt(t.train_img_s) : "–"} | ${fmt(v.infer_img_s)} | ${t ? fmt(t.infer_img_s) : "–"} |`,
    );
  }
  L.push(
    "",
    "## Stage 2 (seconds; ratio = ours / PyTorch time, goal ≤ 1.0)",
    "",
    `${r.stage2.rounds.length} alternated round(s); each times every workload once per side (PyTorch: ${r.stage2.note}). ` +
      "Seconds are medians over the rounds; the ratio is the median (min–max) of the per-round ratios.",
    "",
    "| workload | ours s | torch s | ratio median (min–max) |",
    "|---|---|---|---|",
  );
  for (const k of STAGE2_WORKLOADS) {
    const t = r.stage2.torch?.[k];
    const q = r.stage2.ratio?.[k];
    L.push(
      `| ${k} | ${fmt(r.stage2.ours[k], 2)} | ${fmt(t, 2)} | ${q ? `${fmt(q.median, 2)} (${fmt(q.min, 2)}–${fmt(q.max, 2)})` : "–"} |`,
    );
  }
  const z = m.stage2_sizes;
  L.push(
    "",
    `Workloads: tau_sweep = predictions under ${z.taus} τ values for ${z.nQuery.toLocaleString("en")} × ${z.dim} query features and ` +
      `${z.classes} classes; ncm = class means of ${z.nTrain.toLocaleString("en")} × ${z.dim} training features, then cosine ` +
      `nearest-mean predictions for the queries; crt_epoch = a fresh linear layer trained for one epoch (⌊N/${z.batch}⌋ ` +
      `class-balanced batches, SGD) on the training features, then top-1 on ${z.nVal.toLocaleString("en")} val features.`,
    "",
    `Peak RSS of the bench process: ${fmt(r.peak_rss_mib, 0)} MiB.`,
    "",
    `Load average: ${start.loadavg.map((x) => x.toFixed(2)).join(" / ")} before (1/5/15 min), ${end.loadavg.map((x) => x.toFixed(2)).join(" / ")} after; ` +
      `other processes used ${fmt(m.foreign_cores, 2)} cores on average during the run.`,
    "",
    "## Manifest",
    "",
    "```json",
    JSON.stringify(m, null, 2),
    "```",
    "",
  );
  return L.join("\n");
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
