/**
 * Stage 2, classifier learning on a frozen stage-1 representation (`model_dir`): Joint, NCM, cRT, tau-norm, LWS.
 *
 *  - Feature path (all five; the default for cRT/LWS): pooled features of train (evaluation transform, BN in eval
 *    mode — the original `train_plain`), val and test are extracted once and cached in the stage-1 run folder, then
 *    the classifier runs on them (src/classifiers). This is also how features exported from the original code run.
 *  - Images path (cRT/LWS with `stage2.input: images`, the paper's way): the frozen backbone sees augmented,
 *    class-balanced batches; BatchNorm in eval mode by default or train mode as the original code (`bn_mode`).
 *
 * Selection (best epoch, tau) reads val only; test is evaluated once with the selected model.
 * Writes <run>/results.json and manifest.json; the run folder defaults to <model_dir>/<stage>_seed<seed>.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.js";
import {
  type ClassifierMethod,
  type ClassifierRunArgs,
  type ClassifierRunResult,
  classifierMethods,
  classifiers,
} from "../classifiers/registry.js";
import { linearWeightNorms, lwsWeightNorms } from "../classifiers/weight-norms.js";
import type { ExperimentConfig } from "../config/defaults.js";
import type { Dataset } from "../data/types.js";
import type { FeatureSet } from "../features/types.js";
import { type EvalResult, evaluate } from "../metrics.js";
import { LinearClassifier } from "../models/linear.js";
import type { Backbone } from "../models/types.js";
import { assertWritable } from "../run/atomic.js";
import { loadCheckpoint, saveCheckpoint } from "../run/checkpoint.js";
import { writeCheckedJson } from "../run/checksum.js";
import { projectRoot, startManifest } from "../run/manifest.js";
import { portablePath } from "../run/portable.js";
import { openRun, readRunConfig, resolveRunDir, runPaths } from "../run/rundir.js";
import { assertFinishedStage1Run, checkpointFix } from "../run/state.js";
import { buildBackbone, buildDataset, buildHead, buildSampler } from "./build.js";
import { runPass } from "./evaluate.js";
import { featurePath, type SplitName, splitFeatures } from "./features.js";
import { LwsHead } from "./heads.js";
import { loadWeights, trainLoop } from "./loop.js";
import { featureEpochPrinter } from "./progress.js";
import { evalSummary, type StageArgs, type StageResult } from "./report.js";
import { failRun } from "./stage1.js";
import { exportVariables } from "./state.js";
import { refuseUnreadKeys } from "./unread_keys.js";

/** A stage-1 run opened for stage 2: its config, its best weights loaded into a backbone, its linear classifier. */
export interface Stage1Run {
  dir: string;
  config: ExperimentConfig;
  backbone: Backbone;
  /** The joint classifier: weight [C×d] row-major and bias [C]. */
  stage1: { weight: Float32Array; bias: Float32Array };
  ckptSha256: string;
  dispose(): void;
}

/** The resolved config a run folder was trained with (its config.yaml, verified). */
export function loadRunConfig(dir: string): ExperimentConfig {
  const p = runPaths(dir);
  if (!existsSync(p.config))
    throw new Error(`${dir} is not a run folder (no config.yaml); runs live under runs/<dataset>/<stage>_seed<seed>`);
  return readRunConfig(p.config);
}

/**
 * Open a finished stage-1 run folder (assertFinishedStage1Run: manifest `finished`, verified best.ckpt) and load
 * its best-on-val weights.
 */
export function openStage1Run(dir: string, ds: Dataset): Stage1Run {
  const { config, best } = assertFinishedStage1Run(dir);
  const p = runPaths(dir);
  const backbone = buildBackbone(config, ds);
  const head = new LinearClassifier({
    featDim: backbone.featDim,
    numClasses: ds.numClasses,
    seed: 0,
    name: "stage1_fc",
  });
  try {
    loadWeights(backbone, head, best, p.best);
    const stage1 = { weight: head.weight.dataSync() as Float32Array, bias: head.bias!.dataSync() as Float32Array };
    return {
      dir,
      config,
      backbone,
      stage1: { weight: Float32Array.from(stage1.weight), bias: Float32Array.from(stage1.bias) },
      ckptSha256: best.sha256!,
      dispose: () => backbone.dispose(),
    };
  } catch (e) {
    backbone.dispose();
    throw e;
  } finally {
    head.dispose();
  }
}

/** Features of train/val/test from a stage-1 run (cached in <run>/features/). */
export async function stage1Features(
  s1: Stage1Run,
  ds: Dataset,
  batchSize: number,
  config?: ExperimentConfig,
): Promise<Record<SplitName, FeatureSet>> {
  const out = {} as Record<SplitName, FeatureSet>;
  for (const split of ["train", "val", "test"] as const) {
    out[split] = await splitFeatures({
      runDir: s1.dir,
      backbone: s1.backbone,
      dataset: ds,
      split,
      batchSize,
      ckptSha256: s1.ckptSha256,
      config: config ?? s1.config,
    });
  }
  return out;
}

/** The classifier options of a stage-2 config, in the form the feature classifiers take (the method's mapping). */
export function classifierOptions(cfg: ExperimentConfig): Record<string, unknown> {
  return classifierMethods.get(cfg.stage2!.method, "stage2.method").configOptions(cfg);
}

function checkCompatible(cfg: ExperimentConfig, s1: ExperimentConfig, source: string, dir: string): void {
  const problems: string[] = [];
  if (cfg.training_opt.dataset !== s1.training_opt.dataset)
    problems.push(
      `training_opt.dataset is ${cfg.training_opt.dataset} but the stage-1 run used ${s1.training_opt.dataset}`,
    );
  if (cfg.networks.feat_model.type !== s1.networks.feat_model.type)
    problems.push(
      `networks.feat_model.type is ${cfg.networks.feat_model.type} but the stage-1 run used ${s1.networks.feat_model.type}`,
    );
  if (problems.length) throw new Error(`${source} does not match model_dir ${dir}: ${problems.join("; ")}`);
}

export type Stage2Args = StageArgs;

export interface Stage2Result extends StageResult {
  method: string;
  extra?: Record<string, unknown>;
}

/** Default stage-2 run folder: inside the stage-1 run, so each representation keeps its classifiers together. */
export function stage2RunDir(cfg: ExperimentConfig): string {
  if (cfg.training_opt.log_dir) return resolveRunDir(cfg.training_opt.log_dir);
  return join(resolveRunDir(cfg.model_dir!), `${cfg.training_opt.stage}_seed${cfg.seed}`);
}

export async function trainStage2(a: Stage2Args): Promise<Stage2Result> {
  const cfg = a.loaded.config;
  if (!cfg.stage2 || !cfg.model_dir)
    throw new Error(`${a.loaded.source} is not a stage-2 config (needs a stage2 section and model_dir)`);
  const method = cfg.stage2.method;
  const entry = classifierMethods.get(method, "stage2.method"); // fail on an unknown method before any work
  refuseUnreadKeys(a.loaded);
  const backend = await initBackend(cfg.backend);
  const ds = a.dataset ?? (await buildDataset(cfg));
  const s1dir = resolveRunDir(cfg.model_dir);
  const s1 = openStage1Run(s1dir, ds);
  try {
    checkCompatible(cfg, s1.config, a.loaded.source, s1dir);
    const dir = a.runDir ?? stage2RunDir(cfg);
    // Lock and checks before any write; a finished stage-2 folder is kept, an unfinished one resumed or redone.
    const run = openRun(cfg, dir, true, {
      mode: "stage2",
      data: { sha256: ds.manifest.indicesSha256, sourceFiles: ds.manifest.sourceFiles },
      backendName: backend.name,
    });
    try {
      const m = startManifest({
        kind: `stage2-${method}`,
        name: dir,
        config: cfg,
        configSource: a.loaded.source,
        configOverrides: a.loaded.overrides,
        configHash: a.loaded.hash,
        seed: cfg.seed,
        data: { dataset: ds.name, sha256: ds.manifest.indicesSha256, detail: { sourceFiles: ds.manifest.sourceFiles } },
        backend,
      });
      (m as unknown as Record<string, unknown>).stage1 = { dir: s1dir, best_ckpt_sha256: s1.ckptSha256 };
      run.begin(m);
      // Only the methods with a head on images (cRT, LWS) train through the backbone; the others run on features.
      const imagesHead = cfg.stage2.input === "images" ? entry.imagesHead : undefined;
      const imagesMode = imagesHead !== undefined;
      const result = imagesHead
        ? await stage2Images(cfg, ds, s1, imagesHead, run, a.quiet)
        : await stage2Features(cfg, ds, s1, method, run, a.quiet);
      const { weight, bias, scales, ...extra } = result.extra as Record<string, unknown>;
      if (weight || scales) {
        // Learned parameters go to a checkpoint, not into the JSON.
        const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
        if (weight)
          tensors["classifier.fc.weight"] = {
            shape: [ds.numClasses, s1.backbone.featDim],
            data: Float32Array.from(weight as ArrayLike<number>),
          };
        if (bias)
          tensors["classifier.fc.bias"] = {
            shape: [ds.numClasses],
            data: Float32Array.from(bias as ArrayLike<number>),
          };
        if (scales)
          tensors["classifier.scales"] = {
            shape: [ds.numClasses],
            data: Float32Array.from(scales as ArrayLike<number>),
          };
        saveCheckpoint(join(dir, "classifier.ckpt"), { tensors, meta: { method, run_id: run.runId } });
      }
      const results = {
        method,
        input: imagesMode ? "images" : "features",
        stage1_run: portablePath(s1dir, projectRoot()),
        val: evalSummary(result.val),
        test: evalSummary(result.test),
        val_per_class: result.val.perClass,
        test_per_class: result.test.perClass,
        weight_norms: Array.from(result.weightNorms),
        train_counts: ds.trainCounts,
        extra: summariseExtra(extra),
      };
      writeCheckedJson(join(dir, "results.json"), results);
      run.logger.log("stage2", { method, val: results.val, test: results.test });
      run.finish("finished", {
        method,
        val: results.val,
        test: results.test,
        ...("tau" in extra ? { tau: extra.tau } : {}),
      });
      return {
        runDir: dir,
        method,
        val: results.val,
        test: results.test,
        extra: "tau" in extra ? { tau: extra.tau } : undefined,
      };
    } catch (e) {
      failRun(run, e);
      throw e;
    } finally {
      run.close();
    }
  } finally {
    s1.dispose();
  }
}

/** Tau sweeps as compact tables (percentages) rather than full per-class dumps; epoch logs kept. */
function summariseExtra(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...extra };
  for (const k of ["valSweep", "testSweep"]) {
    const sw = extra[k] as { rows: { tau: number }[]; results: EvalResult[] } | undefined;
    if (sw)
      out[k] = sw.rows.map((row, i) => ({
        tau: row.tau,
        ...evalSummary(sw.results[i]),
        macro_acc: Math.round(sw.results[i].macroAcc * 10000) / 100,
      }));
  }
  return out;
}

/** Extract (or reuse) a stage-1 run's features and run one feature classifier on them. */
async function runFeatureClassifier(
  s1: Stage1Run,
  ds: Dataset,
  batchSize: number,
  method: string,
  options: Record<string, unknown> | undefined,
  onEpoch?: ClassifierRunArgs["onEpoch"],
  config?: ExperimentConfig,
): Promise<ClassifierRunResult> {
  const feats = await stage1Features(s1, ds, batchSize, config);
  return classifiers.get(
    method,
    "stage2.method",
  )({
    train: feats.train,
    val: feats.val,
    test: feats.test,
    trainCounts: ds.trainCounts,
    numClasses: ds.numClasses,
    stage1: s1.stage1,
    options,
    onEpoch,
  });
}

function stage2Features(
  cfg: ExperimentConfig,
  ds: Dataset,
  s1: Stage1Run,
  method: string,
  run: ReturnType<typeof openRun>,
  quiet?: boolean,
): Promise<ClassifierRunResult> {
  // cRT / LWS epochs: the record goes to log.jsonl, one readable line (epoch k/N, loss, val top-1, ETA) to stderr.
  const print = quiet ? null : featureEpochPrinter(method);
  const onEpoch: ClassifierRunArgs["onEpoch"] = (log, progress) => {
    run.logger.log("epoch", { method, ...log });
    print?.(log, progress);
  };
  return runFeatureClassifier(s1, ds, cfg.training_opt.eval_batch_size, method, classifierOptions(cfg), onEpoch, cfg);
}

async function stage2Images(
  cfg: ExperimentConfig,
  ds: Dataset,
  s1: Stage1Run,
  headName: NonNullable<ClassifierMethod["imagesHead"]>,
  run: ReturnType<typeof openRun>,
  quiet?: boolean,
) {
  const head = buildHead(cfg, s1.backbone.featDim, ds.numClasses, headName);
  try {
    if (head instanceof LwsHead) {
      // LWS starts from the stage-1 classifier (frozen) with scales at 1.
      const base = head.base;
      tf.tidy(() => {
        base.weight.assign(tf.tensor2d(s1.stage1.weight, [ds.numClasses, s1.backbone.featDim]));
        base.bias!.assign(tf.tensor1d(s1.stage1.bias));
      });
    }
    const loop = await trainLoop({
      cfg,
      dataset: ds,
      backbone: s1.backbone,
      head,
      trainBackbone: false,
      frozenBnMode: cfg.stage2!.bn_mode,
      sampler: buildSampler(cfg, ds),
      run,
      quiet,
    });
    const best = loadCheckpoint(run.paths.best, checkpointFix(run.paths.dir, "best"));
    // The frozen backbone's BN statistics change in bn_mode 'train'; evaluate with what was saved for the best epoch.
    loadWeights(s1.backbone, head, best, run.paths.best);
    const pass = await runPass({
      backbone: s1.backbone,
      head,
      split: ds.test,
      batchSize: cfg.training_opt.eval_batch_size,
    });
    const test = evaluate(pass.preds!, pass.labels, ds.trainCounts);
    const w = exportVariables(head instanceof LwsHead ? head.base.trainable() : head.trainable(), "");
    const weight = w["fc.weight"].data;
    const d = s1.backbone.featDim;
    const scales = head instanceof LwsHead ? (head.scales.dataSync() as Float32Array) : undefined;
    const weightNorms = scales
      ? lwsWeightNorms(weight, ds.numClasses, d, scales)
      : linearWeightNorms(weight, ds.numClasses, d);
    const extra: Record<string, unknown> = {
      bestEpoch: loop.bestEpoch,
      log: loop.history.map((h) => ({ epoch: h.epoch, train_loss: h.train_loss, val: evalSummary(h.val) })),
    };
    if (scales) extra.scales = Array.from(scales);
    else {
      extra.weight = weight;
      extra.bias = w["fc.bias"].data;
    }
    return { val: loop.bestVal, test, weightNorms, extra };
  } finally {
    head.dispose();
  }
}

export interface OnRunArgs {
  /** Stage-1 run folder. */
  runDir: string;
  /** Classifier registry name. */
  method: string;
  options?: Record<string, unknown>;
  backend?: string;
  dataset?: Dataset;
  quiet?: boolean;
}

/** Run one feature classifier directly on a stage-1 run folder (what `ltr test` and `ltr tau-norm` do). */
export async function classifyRun(
  a: OnRunArgs,
): Promise<{ result: ClassifierRunResult; config: ExperimentConfig; dataset: Dataset }> {
  // Refuse an unfinished or damaged run before building anything.
  const { config } = assertFinishedStage1Run(a.runDir);
  await initBackend(a.backend ?? config.backend);
  const ds = a.dataset ?? (await buildDataset(config));
  const s1 = openStage1Run(a.runDir, ds);
  try {
    const result = await runFeatureClassifier(s1, ds, config.training_opt.eval_batch_size, a.method, a.options);
    return { result, config, dataset: ds };
  } finally {
    s1.dispose();
  }
}

/** Export a stage-1 run's features of one split, also as .npy (feats, labels, idxs) for other tools. */
export async function saveRunFeatures(
  runDir: string,
  split: SplitName,
  npy: boolean,
  backend?: string,
): Promise<string[]> {
  const { config } = assertFinishedStage1Run(runDir);
  assertWritable(featurePath(runDir, split));
  await initBackend(backend ?? config.backend);
  const ds = await buildDataset(config);
  const s1 = openStage1Run(runDir, ds);
  try {
    const fs = await splitFeatures({
      runDir,
      backbone: s1.backbone,
      dataset: ds,
      split,
      batchSize: config.training_opt.eval_batch_size,
      ckptSha256: s1.ckptSha256,
      config,
    });
    const files = [join(runDir, "features", `${split}.ltf`)];
    if (npy) {
      const { writeNpy } = await import("../features/npy.js");
      const base = join(runDir, "features", split);
      writeNpy(`${base}_feats.npy`, fs.feats, [fs.n, fs.dim]);
      writeNpy(`${base}_labels.npy`, fs.labels, [fs.n]);
      writeNpy(`${base}_idxs.npy`, fs.indices, [fs.n]);
      files.push(`${base}_feats.npy`, `${base}_labels.npy`, `${base}_idxs.npy`);
      // The stage-1 classifier beside the features, so `ltr classify --features <run>/features` has all it needs.
      writeNpy(join(runDir, "features", "fc_weight.npy"), s1.stage1.weight, [ds.numClasses, s1.backbone.featDim]);
      writeNpy(join(runDir, "features", "fc_bias.npy"), s1.stage1.bias, [ds.numClasses]);
      files.push(join(runDir, "features", "fc_weight.npy"), join(runDir, "features", "fc_bias.npy"));
    }
    return files;
  } finally {
    s1.dispose();
  }
}
