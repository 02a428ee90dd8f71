/**
 * Stage 1, representation learning: backbone + linear classifier trained jointly under the configured sampler.
 * Writes runs/<name>/ : config.yaml, log.jsonl, latest.ckpt (resumable), best.ckpt (best on val),
 * results.json (val at the best epoch + test of the best weights, per-class accuracies) and manifest.json.
 */
import { join } from "node:path";
import { initBackend } from "../backend.js";
import { preferSpinningWorkers } from "../kernels/native/addon.js";
import { evaluate } from "../metrics.js";
import { loadCheckpoint } from "../run/checkpoint.js";
import { writeCheckedJson } from "../run/checksum.js";
import { startManifest } from "../run/manifest.js";
import { openRun, resolveRunDir, runName } from "../run/rundir.js";
import { checkpointFix } from "../run/state.js";
import { buildBackbone, buildDataset, buildHead, buildSampler } from "./build.js";
import { runPass } from "./evaluate.js";
import { InterruptedRun, loadWeights, trainLoop } from "./loop.js";
import { evalSummary, type StageArgs, type StageResult } from "./report.js";
import { refuseUnreadKeys } from "./unread_keys.js";

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
  if (cfg.stage2)
    throw new Error(`${a.loaded.source} is a stage-2 config (stage2.method=${cfg.stage2.method}); use trainStage2`);
  refuseUnreadKeys(a.loaded);
  // A stage-1 process keeps its OpenMP workers spinning briefly between kernels (addon.ts, preferSpinningWorkers).
  preferSpinningWorkers();
  const backend = await initBackend(cfg.backend);
  const ds = a.dataset ?? (await buildDataset(cfg));
  const dir = a.runDir ?? resolveRunDir(runName(cfg));
  // Lock, checks (resume: stored config, checkpoints, data identity) — then, and only then, writes.
  const run = openRun(cfg, dir, Boolean(a.resume), {
    data: { sha256: ds.manifest.indicesSha256, sourceFiles: ds.manifest.sourceFiles },
    backendName: backend.name,
  });
  let backbone, head;
  try {
    run.begin(
      startManifest({
        kind: "stage1",
        name: runName(cfg),
        config: cfg,
        configSource: a.loaded.source,
        configOverrides: a.loaded.overrides,
        configHash: a.loaded.hash,
        seed: cfg.seed,
        data: { dataset: ds.name, sha256: ds.manifest.indicesSha256, detail: { ...ds.manifest, chosen: undefined } },
        backend,
      }),
    );
    run.logger.log("info", {
      message: "start",
      backend: backend.name,
      kernels: backend.kernels.registered,
      dataset: ds.name,
      train_counts: ds.trainCounts,
    });
    backbone = buildBackbone(cfg, ds);
    head = buildHead(cfg, backbone.featDim, ds.numClasses);
  } catch (e) {
    failRun(run, e);
    throw e;
  }
  try {
    const sampler = buildSampler(cfg, ds);
    let loop;
    try {
      loop = await trainLoop({
        cfg,
        dataset: ds,
        backbone,
        head,
        trainBackbone: true,
        frozenBnMode: "eval",
        sampler,
        run,
        quiet: a.quiet,
        stopAfterEpochs: a.stopAfterEpochs,
      });
    } catch (e) {
      failRun(run, e);
      throw e;
    }
    // Test-set evaluation of the best-on-val weights (never used for any choice).
    let results;
    try {
      loadWeights(backbone, head, loadCheckpoint(run.paths.best, checkpointFix(dir, "best")), run.paths.best);
      const pass = await runPass({ backbone, head, split: ds.test, batchSize: cfg.training_opt.eval_batch_size });
      const test = evaluate(pass.preds!, pass.labels, ds.trainCounts);
      results = {
        best_epoch: loop.bestEpoch,
        val: evalSummary(loop.bestVal),
        test: evalSummary(test),
        test_per_class: test.perClass,
        val_per_class: loop.bestVal.perClass,
        train_counts: ds.trainCounts,
        images_per_s: loop.imagesPerSecond,
      };
      writeCheckedJson(join(dir, "results.json"), results);
      run.logger.log("test", { best_epoch: loop.bestEpoch, test: results.test });
    } catch (e) {
      failRun(run, e);
      throw e;
    }
    const manifest = run.finish("finished", {
      best_epoch: loop.bestEpoch,
      val: results.val,
      test: results.test,
      images_per_s: loop.imagesPerSecond,
    });
    return {
      runDir: dir,
      bestEpoch: loop.bestEpoch,
      val: results.val,
      test: results.test,
      wallTimeS: manifest.wall_time_s ?? 0,
    };
  } finally {
    backbone.dispose();
    head.dispose();
    run.close();
  }
}

/**
 * Record a run's failure truthfully (`interrupted` for a stop, else `failed` with the error) and release its folder.
 * If even the manifest cannot be written (a full disk), the original error is what the user sees, with a note.
 */
export function failRun(run: ReturnType<typeof openRun>, e: unknown): void {
  const status = e instanceof InterruptedRun ? "interrupted" : "failed";
  try {
    if (run.manifest()) run.finish(status, { error: (e as Error).message });
  } catch (w) {
    if (e instanceof Error)
      e.message += ` (${run.paths.manifest} could not be updated either: ${(w as Error).message.split(". ")[0]}; the next ltr command on the folder reports it as interrupted)`;
  } finally {
    run.close();
  }
}
