/**
 * What a stage-2 classifier method is: one self-describing entry (`ClassifierMethod`) holding everything the rest of
 * the code needs to know about it — its config name, display label, run-folder stage, option schema with defaults,
 * whether it reads the stage-1 classifier, its runner on features, its head on images (cRT, LWS), how an experiment
 * config maps to its options, and its plot style. Each method is one file in `methods/` whose default export is its
 * entry (`methods/<name>.ts` for the method `name`); the list of those files is generated (scripts/gen-methods.mjs)
 * and `registry.ts` serves the entries by name. docs/ARCHITECTURE.md ("The five classifiers") describes the methods.
 */

import type { ExperimentConfig } from "../config/defaults.js";
import { checkFeatureSet, type FeatureSet } from "../features/types.js";
import type { EvalResult } from "../metrics.js";
import type { CrtEpochLog } from "./crt.js";
import type { LwsEpochLog } from "./lws.js";
import type { OptionSchema } from "./options.js";
import type { HeadEpochProgress } from "./train-utils.js";

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
  /** The stage-1 classifier (read by the methods whose entry says `needsStage1Weights`; ignored by the others). */
  stage1: Stage1Classifier;
  /** Classifier-specific options (see each entry's `options`); unknown keys are errors. */
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
   * crt {weight, bias, bestEpoch, bestValTop1, log}; lws {scales, bestEpoch, bestValTop1, log}. Stage 2 writes
   * `weight`, `bias` and `scales` to the run's classifier.ckpt, the rest to results.json.
   */
  extra: Record<string, unknown>;
}

/** A classifier on features, as callers run it: inputs checked, then the method's runner. */
export type ClassifierEntry = (args: ClassifierRunArgs) => Promise<ClassifierRunResult>;

/**
 * The head a method trains on images through the frozen backbone (`stage2.input: images`): a fresh linear layer
 * (cRT) or per-class scales on the frozen stage-1 layer (LWS). Names of `src/train/head_names.ts`.
 */
export type ImagesHead = "linear" | "lws";

/** How a method is drawn in the figures (src/plot/figures.ts reads it through the label). */
export interface MethodPlotStyle {
  /** Line / bar colour (the paper's Figure 2 colours for its four methods). */
  color: string;
  /** Plotly line dash, when the method is drawn dashed. */
  dash?: string;
  /** Drawn in the weight-norm panel of Figure 2 (the paper shows Joint, cRT, τ-norm and LWS; NCM has centroids). */
  weightNorms: boolean;
}

/** One stage-2 classifier method: the single place that describes it. */
export interface ClassifierMethod {
  /** Config value (`stage2.method`), registry key and `ltr classify --method` name, e.g. "tau_norm". */
  name: string;
  /**
   * Its place in every list of methods (tables, figures, findings, `ltr classify`), ascending: the paper's classifier
   * table puts Joint 10, NCM 20, cRT 30, τ-norm 40, LWS 50; an added method takes a number no other entry holds.
   */
  order: number;
  /** Display name in tables, figures and findings, e.g. "τ-norm". */
  label: string;
  /** The stage name of its config and run folders (`config/<Dataset>/<stage>.yaml`, `<stage>_seed<seed>`). */
  stage: string;
  /** One line on what it does. */
  summary: string;
  /** Its options: kind, default and one-line doc each; `runOnFeatures` refuses keys not listed. */
  options: OptionSchema;
  /** Whether it reads the stage-1 classifier (W, b); `ltr classify` then needs fc_weight.npy / fc_bias.npy. */
  needsStage1Weights: boolean;
  /** Whether it trains for epochs (and so reports progress through `onEpoch`). */
  trains: boolean;
  /**
   * Part of the reproduction (`npm run reproduce:table`): run on every representation and seed, shown in the tables,
   * the figures and the notebooks; it then needs `config/<Dataset>/<stage>.yaml`.
   */
  reproduced: boolean;
  /** Its head when it can also train on images through the frozen backbone (`stage2.input: images`). */
  imagesHead?: ImagesHead;
  /** The method on features (inputs already checked by the registry). */
  runOnFeatures(args: ClassifierRunArgs): Promise<ClassifierRunResult>;
  /** A stage-2 experiment config's settings as this method's options (the `options` of `runOnFeatures`). */
  configOptions(cfg: ExperimentConfig): Record<string, unknown>;
  /**
   * The config keys `configOptions` reads, as key paths (a section stands for all its keys), among the ones that
   * depend on the method (`METHOD_DEPENDENT_KEYS`: the training settings, `stage2.tau_grid`, `stage2.ncm`). A stage-2
   * config that sets any other of those away from its default is refused, as it would have no effect
   * (src/train/unread_keys.ts).
   */
  configKeys: readonly string[];
  /** Plot style. */
  plot: MethodPlotStyle;
}

/** The training settings of a stage-2 config: what a method that trains a head reads (cRT, LWS). */
export const TRAINING_CONFIG_KEYS = [
  "training_opt.num_epochs",
  "training_opt.batch_size",
  "training_opt.sampler",
  "networks.classifier.optim_params",
  "coslr",
  "endlr",
] as const;

/**
 * The config keys whose effect depends on the stage-2 method: the training settings (read by the methods that
 * train) and the method sections of `stage2`. A method lists the ones it reads in `configKeys`.
 */
export const METHOD_DEPENDENT_KEYS = [...TRAINING_CONFIG_KEYS, "stage2.tau_grid", "stage2.ncm"] as const;

/** Check the inputs every method shares (shapes, class counts, the stage-1 classifier where the method reads it). */
export function checkRunArgs(m: ClassifierMethod, a: ClassifierRunArgs): void {
  const name = m.name;
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
  if (m.needsStage1Weights) {
    if (a.stage1.weight.length !== a.numClasses * a.train.dim) {
      throw new Error(
        `${name}: stage1.weight has ${a.stage1.weight.length} values, expected numClasses × dim = ${a.numClasses} × ${a.train.dim}`,
      );
    }
    if (a.stage1.bias.length !== a.numClasses)
      throw new Error(`${name}: stage1.bias has ${a.stage1.bias.length} values, expected ${a.numClasses}`);
  }
}
