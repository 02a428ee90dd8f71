/** Compact forms of evaluation results for logs, manifests and tables (percentages, per-class kept apart). */
import type { EvalResult } from "../metrics.js";

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
  return { top1: pct(r.top1), many: pct(r.many), medium: pct(r.medium), few: pct(r.few), macro_f1: pct(r.macroF1), n: r.n };
}
