/**
 * Stage 1, representation learning: backbone + linear classifier trained jointly under the configured sampler.
 * Writes runs/<name>/ : config.yaml, log.jsonl, latest.ckpt (resumable), best.ckpt (best on val),
 * results.json (val at the best epoch + test of the best weights, per-class accuracies) and manifest.json.
 */
import { existsSync } from "node:fs";
import { initBackend } from "../backend.js";
import { evaluate } from "../metrics.js";
import { writeJsonAtomic } from "../run/atomic.js";
import { loadCheckpoint } from "../run/checkpoint.js";
import { finishManifest, startManifest, writeManifest } from "../run/manifest.js";
import { openRun, resolveRunDir, runName } from "../run/rundir.js";
import { buildBackbone, buildDataset, buildHead, buildSampler } from "./build.js";
import { runPass } from "./evaluate.js";
import { InterruptedRun, loadWeights, trainLoop } from "./loop.js";
import { evalSummary, type StageArgs, type StageResult } from "./report.js";
import { join } from "node:path";

export interface Stage1Args extends StageArgs {
  /** Continue from runs/<name>/latest.ckpt. */
  resume?: boolean;
  /** Stop after this many epochs, leaving the run resumable (tests of --resume). */
  stopAfterEpochs?: number;
}

export interface Stage1Result extends StageResult {
  bestEpoch: number;
  wallTimeS: number;
}

export async function trainStage1(a: Stage1Args): Promise<Stage1Result> {
  const cfg = a.loaded.config;
  if (cfg.stage2) throw new Error(`${a.loaded.source} is a stage-2 config (stage2.method=${cfg.stage2.method}); use trainStage2`);
  const backend = await initBackend(cfg.backend);
  const ds = a.dataset ?? (await buildDataset(cfg));
  const dir = a.runDir ?? resolveRunDir(runName(cfg));
  const run = openRun(cfg, dir, Boolean(a.resume));
  let manifest = startManifest({
    kind: "stage1",
    name: runName(cfg),
    config: cfg,
    configSource: a.loaded.source,
    configOverrides: a.loaded.overrides,
    configHash: a.loaded.hash,
    seed: cfg.seed,
    data: { dataset: ds.name, sha256: ds.manifest.indicesSha256, detail: { ...ds.manifest, chosen: undefined } },
    backend,
  });
  if (a.resume && existsSync(run.paths.manifest)) {
    // Keep the first start time so the wall time covers the whole run, interruptions included.
    const prev = JSON.parse((await import("node:fs")).readFileSync(run.paths.manifest, "utf8")) as { started_at: string };
    manifest = { ...manifest, started_at: prev.started_at };
  }
  writeManifest(run.paths.manifest, manifest);
  run.logger.log("info", { message: "start", backend: backend.name, kernels: backend.kernels.registered, dataset: ds.name, train_counts: ds.trainCounts });

  const backbone = buildBackbone(cfg, ds);
  const head = buildHead(cfg, backbone.featDim, ds.numClasses);
  try {
    const sampler = buildSampler(cfg, ds);
    let loop;
    try {
      loop = await trainLoop({ cfg, dataset: ds, backbone, head, trainBackbone: true, frozenBnMode: "eval", sampler, run, quiet: a.quiet, stopAfterEpochs: a.stopAfterEpochs });
    } catch (e) {
      const status = e instanceof InterruptedRun ? "interrupted" : "failed";
      writeManifest(run.paths.manifest, finishManifest(manifest, status, { error: (e as Error).message }));
      throw e;
    }
    // Test-set evaluation of the best-on-val weights (never used for any choice).
    loadWeights(backbone, head, loadCheckpoint(run.paths.best), run.paths.best);
    const pass = await runPass({ backbone, head, split: ds.test, batchSize: cfg.training_opt.eval_batch_size });
    const test = evaluate(pass.preds!, pass.labels, ds.trainCounts);
    const results = {
      best_epoch: loop.bestEpoch,
      val: evalSummary(loop.bestVal),
      test: evalSummary(test),
      test_per_class: test.perClass,
      val_per_class: loop.bestVal.perClass,
      train_counts: ds.trainCounts,
      images_per_s: loop.imagesPerSecond,
    };
    writeJsonAtomic(join(dir, "results.json"), results);
    run.logger.log("test", { best_epoch: loop.bestEpoch, test: evalSummary(test) });
    manifest = finishManifest(manifest, "finished", { best_epoch: loop.bestEpoch, val: results.val, test: results.test, images_per_s: loop.imagesPerSecond });
    writeManifest(run.paths.manifest, manifest);
    return { runDir: dir, bestEpoch: loop.bestEpoch, val: results.val, test: results.test, wallTimeS: manifest.wall_time_s ?? 0 };
  } finally {
    backbone.dispose();
    head.dispose();
  }
}
