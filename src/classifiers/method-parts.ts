/**
 * Pieces several method entries share: the option schemas of the GEMM engine and of the balanced heads (cRT, LWS),
 * the config → options mapping of the balanced heads, and scoring a linear classifier on val and test.
 */

import { type ExperimentConfig, samplerOf } from "../config/defaults.js";
import type { FeatureSet } from "../features/types.js";
import { type EvalResult, evaluate } from "../metrics.js";
import { DEFAULT_CHUNK_ROWS, GEMM_ENGINES } from "./gemm.js";
import { type LinearArgs, linearPredict } from "./linear.js";
import { TRAINING_CONFIG_KEYS } from "./method.js";
import type { OptionSchema } from "./options.js";
import { BALANCED_HEAD_DEFAULTS } from "./train-utils.js";

/** The options of every method that multiplies features by a matrix (docs/PERFORMANCE.md: the GEMM engines). */
export const GEMM_OPTIONS: OptionSchema = {
  engine: { kind: GEMM_ENGINES, default: "auto", doc: "matrix-product engine: auto, tf, js or native" },
  chunkRows: { kind: "integer", default: DEFAULT_CHUNK_ROWS, doc: "rows per streamed chunk of the logits" },
};

/** The options of a balanced head trained on features with class-balanced batches (cRT, LWS). */
export function balancedHeadOptions(defaultEpochs: number): OptionSchema {
  const D = BALANCED_HEAD_DEFAULTS;
  return {
    epochs: { kind: "integer", default: defaultEpochs, doc: "training epochs" },
    batchSize: { kind: "integer", default: D.batchSize, doc: "mini-batch size" },
    lr: { kind: "number", default: D.lr, doc: "initial learning rate" },
    momentum: { kind: "number", default: D.momentum, doc: "SGD momentum (PyTorch form, no dampening)" },
    weightDecay: { kind: "number", default: D.weightDecay, doc: "coupled L2 weight decay on the trained tensors" },
    seed: { kind: "integer", default: D.seed, doc: "seed of the initialisation and of the class-balanced sampler" },
    samplesPerClass: { kind: "integer", default: D.samplesPerClass, doc: "rows per class visit of the sampler" },
    engine: GEMM_OPTIONS.engine,
    coslr: { kind: "boolean", default: D.coslr, doc: "cosine-decay the learning rate per epoch (config coslr)" },
    endLr: { kind: "number", default: D.endLr, doc: "floor of the cosine schedule (config endlr)" },
  };
}

/** The config keys `balancedHeadConfigOptions` reads (a method entry's `configKeys`): all the training settings. */
export const BALANCED_HEAD_CONFIG_KEYS = TRAINING_CONFIG_KEYS;

/**
 * A stage-2 config's settings as balanced-head options: the epochs, batch, optimiser and seed of the experiment,
 * the class-balanced sampler's rows per class, and the schedule (docs/ARCHITECTURE.md, "Training mechanics").
 */
export function balancedHeadConfigOptions(cfg: ExperimentConfig): Record<string, unknown> {
  const o = cfg.networks.classifier.optim_params;
  return {
    epochs: cfg.training_opt.num_epochs,
    batchSize: cfg.training_opt.batch_size,
    lr: o.lr,
    momentum: o.momentum,
    weightDecay: o.weight_decay,
    seed: cfg.seed,
    samplesPerClass: samplerOf(cfg).num_samples_cls, // the schema's default sampler when none is set (config/schema.ts)
    coslr: cfg.coslr,
    endLr: cfg.endlr,
  };
}

/** Val and test metrics of a linear classifier (Many / Medium / Few from the training counts). */
export function scoreLinear(
  lin: LinearArgs,
  splits: { val: FeatureSet; test: FeatureSet },
  trainCounts: ArrayLike<number>,
): { val: EvalResult; test: EvalResult } {
  const run = (fs: FeatureSet) => evaluate(linearPredict(lin, fs.feats, fs.n), fs.labels, Array.from(trainCounts));
  return { val: run(splits.val), test: run(splits.test) };
}
