/**
 * Compact forms of evaluation results for logs, manifests and tables (percentages, per-class kept apart), and the
 * argument/result shapes both training stages share.
 */
import type { LoadedConfig } from "../config/load.js";
import type { Dataset } from "../data/types.js";
import type { EvalResult } from "../metrics.js";

/** What starts a training run of either stage. */
export interface StageArgs {
  /** The resolved experiment config. */
  loaded: LoadedConfig;
  /** Run folder override (default from the config). */
  runDir?: string;
  /** Pre-built dataset (tests); default: from the config. */
  dataset?: Dataset;
  /** No progress output. */
  quiet?: boolean;
}

/** What a finished run of either stage reports. */
export interface StageResult {
  /** The run folder. */
  runDir: string;
  /** Val and test summaries of the selected (best-val) weights. */
  val: EvalSummary;
  test: EvalSummary;
}

export interface EvalSummary {
  top1: number;
  many: number;
  medium: number;
  few: number;
  macro_f1: number;
  n: number;
}

const pct = (x: number) => Math.round(x * 10000) / 100;

/** Accuracies in percent with two decimals (the paper's tables use one). */
export function evalSummary(r: EvalResult): EvalSummary {
  return {
    top1: pct(r.top1),
    many: pct(r.many),
    medium: pct(r.medium),
    few: pct(r.few),
    macro_f1: pct(r.macroF1),
    n: r.n,
  };
}
