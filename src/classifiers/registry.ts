/**
 * The stage-2 classifiers on features, by name, behind one entry point:
 *   "joint"    the stage-1 linear classifier as trained (logits X·Wᵀ + b);
 *   "ncm"      nearest class mean (options featType: un|l2n|cl2n, dist: l2|cos|dot);
 *   "tau_norm" τ-normalised stage-1 weights, τ swept on a grid and chosen on val;
 *   "crt"      classifier re-training with class-balanced sampling;
 *   "lws"      learnable per-class weight scaling of the stage-1 logits.
 * Every entry scores val and test with the same metrics and returns per-class weight norms for the figure.
 */

import { checkFeatureSet, type FeatureSet } from "../features/types.js";
import { type EvalResult, evaluate } from "../metrics.js";
import { Registry } from "../registry.js";
import { type CrtEpochLog, type CrtOptions, trainCrt } from "./crt.js";
import { GEMM_ENGINES, type GemmEngine } from "./gemm.js";
import { linearPredict } from "./linear.js";
import { type LwsEpochLog, type LwsOptions, trainLws } from "./lws.js";
import { fitNcm, NCM_DISTS, NCM_FEAT_TYPES, type NcmArgs, ncmPredict } from "./ncm.js";
import { checkOptions, type OptionKind } from "./options.js";
import {
  DEFAULT_TAU_GRID,
  selectTau,
  type TauChoice,
  type TauSelectMetric,
  type TauSweep,
  tauSweep,
} from "./tau-norm.js";
import type { HeadEpochProgress } from "./train-utils.js";
import { linearWeightNorms, lwsWeightNorms, tauNormWeightNorms } from "./weight-norms.js";

/** The stage-1 (joint) linear classifier. */
export interface Stage1Classifier {
  /** Weight [numClasses × dim], row j = w_j (PyTorch `fc.weight`). */
  weight: Float32Array;
  /** Bias [numClasses]. */
  bias: Float32Array;
}

/** Inputs shared by every classifier. */
export interface ClassifierRunArgs {
  /** Training features (train_plain: evaluation transform). */
  train: FeatureSet;
  /** Validation features: model selection (best epoch, τ) uses only these labels. */
  val: FeatureSet;
  /** Test features: reported, never used for selection. */
  test: FeatureSet;
  /** Training images per class n_j (defines Many > 100, Few < 20). */
  trainCounts: ArrayLike<number>;
  /** Number of classes C. */
  numClasses: number;
  /** The stage-1 classifier (used by joint, tau_norm and lws; ignored by ncm and crt). */
  stage1: Stage1Classifier;
  /** Classifier-specific options (see each entry's option list); unknown keys are errors. */
  options?: Record<string, unknown>;
  /** Progress callback for the trained classifiers (crt, lws), after each epoch. */
  onEpoch?: (log: CrtEpochLog | LwsEpochLog, progress: HeadEpochProgress) => void;
}

/** What every classifier returns. */
export interface ClassifierRunResult {
  /** Registry name. */
  name: string;
  /** Metrics on val. */
  val: EvalResult;
  /** Metrics on test. */
  test: EvalResult;
  /** Per-class effective weight norms (see weight-norms.ts); for ncm, the centroid norms. */
  weightNorms: Float64Array;
  /**
   * Classifier-specific results: joint {}; ncm {featType, dist}; tau_norm {tau, choice, valSweep, testSweep};
   * crt {weight, bias, bestEpoch, bestValTop1, log}; lws {scales, bestEpoch, bestValTop1, log}.
   */
  extra: Record<string, unknown>;
}

export type ClassifierEntry = (args: ClassifierRunArgs) => Promise<ClassifierRunResult>;

const RUN_SCHEMA: Record<string, OptionKind> = { engine: GEMM_ENGINES, chunkRows: "integer" };
const TRAIN_SCHEMA: Record<string, OptionKind> = {
  epochs: "integer",
  batchSize: "integer",
  lr: "number",
  momentum: "number",
  weightDecay: "number",
  seed: "integer",
  samplesPerClass: "integer",
  engine: GEMM_ENGINES,
  coslr: "boolean",
  endLr: "number",
};

function checkInputs(name: string, a: ClassifierRunArgs): void {
  checkFeatureSet(a.train, `${name}: train features`);
  checkFeatureSet(a.val, `${name}: val features`);
  checkFeatureSet(a.test, `${name}: test features`);
  for (const [split, fs] of [
    ["val", a.val],
    ["test", a.test],
  ] as const) {
    if (fs.dim !== a.train.dim)
      throw new Error(`${name}: ${split} features have dim ${fs.dim} but train has ${a.train.dim}`);
  }
  if (a.trainCounts.length !== a.numClasses)
    throw new Error(`${name}: trainCounts has ${a.trainCounts.length} classes, numClasses is ${a.numClasses}`);
  const needsStage1 = name === "joint" || name === "tau_norm" || name === "lws";
  if (needsStage1) {
    if (a.stage1.weight.length !== a.numClasses * a.train.dim) {
      throw new Error(
        `${name}: stage1.weight has ${a.stage1.weight.length} values, expected numClasses × dim = ${a.numClasses} × ${a.train.dim}`,
      );
    }
    if (a.stage1.bias.length !== a.numClasses)
      throw new Error(`${name}: stage1.bias has ${a.stage1.bias.length} values, expected ${a.numClasses}`);
  }
}

const joint: ClassifierEntry = async (a) => {
  checkInputs("joint", a);
  const o = checkOptions<{ engine?: GemmEngine; chunkRows?: number }>("joint", a.options, RUN_SCHEMA);
  const lin = { weight: a.stage1.weight, bias: a.stage1.bias, numClasses: a.numClasses, dim: a.train.dim, ...o };
  const run = (fs: FeatureSet) => evaluate(linearPredict(lin, fs.feats, fs.n), fs.labels, Array.from(a.trainCounts));
  return {
    name: "joint",
    val: run(a.val),
    test: run(a.test),
    weightNorms: linearWeightNorms(a.stage1.weight, a.numClasses, a.train.dim),
    extra: {},
  };
};

const ncm: ClassifierEntry = async (a) => {
  checkInputs("ncm", a);
  const o = checkOptions<NcmArgs & { engine?: GemmEngine; chunkRows?: number }>("ncm", a.options, {
    featType: NCM_FEAT_TYPES,
    dist: NCM_DISTS,
    ...RUN_SCHEMA,
  });
  const model = fitNcm(a.train, a.numClasses, o);
  const run = (fs: FeatureSet) => evaluate(ncmPredict(model, fs.feats, o), fs.labels, Array.from(a.trainCounts));
  return {
    name: "ncm",
    val: run(a.val),
    test: run(a.test),
    weightNorms: linearWeightNorms(model.centroids, a.numClasses, a.train.dim),
    extra: { featType: model.featType, dist: model.dist },
  };
};

const tauNorm: ClassifierEntry = async (a) => {
  checkInputs("tau_norm", a);
  const o = checkOptions<{ taus?: number[]; selectBy?: TauSelectMetric; engine?: GemmEngine; chunkRows?: number }>(
    "tau_norm",
    a.options,
    {
      taus: "number[]",
      selectBy: ["top1", "macroAcc"],
      ...RUN_SCHEMA,
    },
  );
  const taus = o.taus ?? DEFAULT_TAU_GRID;
  const t = {
    weight: a.stage1.weight,
    numClasses: a.numClasses,
    dim: a.train.dim,
    engine: o.engine,
    chunkRows: o.chunkRows,
  };
  // Choose τ before the test split is touched: the choice sees only the val table.
  const valSweep: TauSweep<"val"> = tauSweep("val", t, taus, a.val, a.trainCounts);
  const choice: TauChoice = selectTau(valSweep, o.selectBy ?? "top1");
  const testSweep: TauSweep<"test"> = tauSweep("test", t, taus, a.test, a.trainCounts);
  return {
    name: "tau_norm",
    val: valSweep.results[choice.index],
    test: testSweep.results[choice.index],
    weightNorms: tauNormWeightNorms(a.stage1.weight, a.numClasses, a.train.dim, choice.tau),
    extra: { tau: choice.tau, choice, valSweep, testSweep },
  };
};

const crt: ClassifierEntry = async (a) => {
  checkInputs("crt", a);
  const o = checkOptions<CrtOptions>("crt", a.options, TRAIN_SCHEMA);
  const r = trainCrt({ ...o, train: a.train, val: a.val, numClasses: a.numClasses, onEpoch: a.onEpoch });
  const lin = { weight: r.weight, bias: r.bias, numClasses: a.numClasses, dim: a.train.dim, engine: o.engine };
  const run = (fs: FeatureSet) => evaluate(linearPredict(lin, fs.feats, fs.n), fs.labels, Array.from(a.trainCounts));
  return {
    name: "crt",
    val: run(a.val),
    test: run(a.test),
    weightNorms: linearWeightNorms(r.weight, a.numClasses, a.train.dim),
    extra: { weight: r.weight, bias: r.bias, bestEpoch: r.bestEpoch, bestValTop1: r.bestValTop1, log: r.log },
  };
};

const lws: ClassifierEntry = async (a) => {
  checkInputs("lws", a);
  const o = checkOptions<LwsOptions>("lws", a.options, { ...TRAIN_SCHEMA, maxCacheBytes: "number" });
  const r = trainLws({
    ...o,
    train: a.train,
    val: a.val,
    numClasses: a.numClasses,
    stage1: a.stage1,
    onEpoch: a.onEpoch,
  });
  const lin = {
    weight: a.stage1.weight,
    bias: a.stage1.bias,
    scale: r.scales,
    numClasses: a.numClasses,
    dim: a.train.dim,
    engine: o.engine,
  };
  const run = (fs: FeatureSet) => evaluate(linearPredict(lin, fs.feats, fs.n), fs.labels, Array.from(a.trainCounts));
  return {
    name: "lws",
    val: run(a.val),
    test: run(a.test),
    weightNorms: lwsWeightNorms(a.stage1.weight, a.numClasses, a.train.dim, r.scales),
    extra: { scales: r.scales, bestEpoch: r.bestEpoch, bestValTop1: r.bestValTop1, log: r.log },
  };
};

/** All stage-2 classifiers on features, by name. */
export const classifiers = new Registry<ClassifierEntry>("classifier")
  .register("joint", joint)
  .register("ncm", ncm)
  .register("tau_norm", tauNorm)
  .register("crt", crt)
  .register("lws", lws);
