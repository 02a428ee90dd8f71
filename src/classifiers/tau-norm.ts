/**
 * τ-normalisation (docs/ARCHITECTURE.md, "The five classifiers"; the original `tau_norm.py`): W_τ row j = w_j / ‖w_j‖^τ, bias dropped (as the paper's
 * code; so even τ = 0 differs slightly from Joint).
 *
 * The sweep uses one GEMM per row chunk: scaling row j of W by s_j scales logit column j by s_j, so
 * argmax_j x·(w_j‖w_j‖^−τ) = argmax_j (x·w_j)·‖w_j‖^−τ. Logits X·Wᵀ are computed once per chunk and every τ is a
 * column rescale + arg-max (11–19× faster than a GEMM per τ; docs/PERFORMANCE.md, "Stage-2 workloads"). The naive path
 * ({@link tauNormPredict}) is kept for checking.
 *
 * Model selection is split by type so test labels cannot influence τ: {@link tauSweep} returns a table tagged with
 * its split, and {@link selectTau} only accepts a `TauSweep<"val">` (metric rows, no labels). The registry entry
 * selects τ before it even computes the test table. A zero weight row keeps scale 1 (0^−τ would be infinite).
 */

import { type EvalResult, evaluate } from "../metrics.js";
import { DEFAULT_CHUNK_ROWS, forEachLogitChunk, type GemmEngine, RowGemm, transpose } from "./gemm.js";
import { linearPredict, rowNorms } from "./linear.js";
import { scaledArgMax } from "./ops.js";

/**
 * The τ values start, start + step, …, stop (stop included when the steps land on it), each rounded to 6 decimals so
 * that 0.7 is exactly the literal 0.7 and not 0.7000000000000001 (config `stage2.tau_grid`).
 */
export function tauGrid(start: number, stop: number, step: number): number[] {
  const n = Math.floor((stop - start) / step + 1e-9) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((start + i * step) * 1e6) / 1e6);
}

/** The original grid 0.0, 0.1, …, 2.0 (21 values). */
export const DEFAULT_TAU_GRID: readonly number[] = tauGrid(0, 2, 0.1);

/** Metrics used to choose τ on val. */
export type TauSelectMetric = "top1" | "macroAcc";

/** Common inputs: the stage-1 weight and how to run. */
export interface TauNormArgs {
  /** Stage-1 weight [C × d] (row j = w_j). The bias is not used. */
  weight: Float32Array;
  /** Number of classes C. */
  numClasses: number;
  /** Feature dimension d. */
  dim: number;
  /** GEMM engine (default "auto"). */
  engine?: GemmEngine;
  /** Rows per streamed chunk (default 512). */
  chunkRows?: number;
}

/** One τ of a sweep: metrics of the τ-normalised classifier on one split (fractions in [0, 1]). */
export interface TauSweepRow {
  tau: number;
  many: number;
  medium: number;
  few: number;
  /** Micro top-1 (the paper's "All" on balanced splits). */
  top1: number;
  /** Mean per-class accuracy (`tau_norm.py`'s "All"). */
  macroAcc: number;
}

/** A sweep table for one split; the split tag makes val-only selection a type rule. */
export interface TauSweep<S extends string = string> {
  /** Which split the table was computed on. */
  split: S;
  /** Summary metrics per τ, in grid order. */
  rows: TauSweepRow[];
  /** Full evaluation per τ (per-class accuracies, F1), in grid order. */
  results: EvalResult[];
}

/** Per-class factor ‖w_j‖^−τ (1 for zero rows). */
export function tauScales(norms: Float64Array, tau: number): Float64Array {
  const s = new Float64Array(norms.length);
  for (let j = 0; j < norms.length; j++) s[j] = norms[j] > 0 ? Math.pow(norms[j], -tau) : 1;
  return s;
}

/** W_τ [C × d]: row j = w_j / ‖w_j‖^τ. */
export function tauNormWeight(weight: Float32Array, numClasses: number, dim: number, tau: number): Float32Array {
  const s = tauScales(rowNorms(weight, numClasses, dim), tau);
  const out = new Float32Array(weight.length);
  for (let j = 0; j < numClasses; j++) for (let p = 0; p < dim; p++) out[j * dim + p] = weight[j * dim + p] * s[j];
  return out;
}

/** Naive single-τ predictions: build W_τ and run it (no bias). Used to check the sweep trick. */
export function tauNormPredict(args: TauNormArgs, tau: number, feats: Float32Array, n: number): Int32Array {
  const w = tauNormWeight(args.weight, args.numClasses, args.dim, tau);
  return linearPredict(
    { weight: w, numClasses: args.numClasses, dim: args.dim, engine: args.engine, chunkRows: args.chunkRows },
    feats,
    n,
  );
}

/** Predictions for every τ of `taus` with one GEMM per row chunk: result[t][i]. */
export function tauSweepPredictions(
  args: TauNormArgs,
  taus: readonly number[],
  feats: Float32Array,
  n: number,
): Int32Array[] {
  const { numClasses: c, dim: d } = args;
  if (args.weight.length !== c * d)
    throw new Error(`tau_norm: weight has ${args.weight.length} values, expected ${c} × ${d}`);
  if (feats.length < n * d) throw new Error(`tau_norm: feats has ${feats.length} values, need ${n} × ${d}`);
  const norms = rowNorms(args.weight, c, d);
  // One block each for the scales [τ × C] and the predictions [τ × n], with one view per τ: the arg-max (ops.ts)
  // reads and writes every τ of a row chunk in one call.
  const allScales = new Float32Array(taus.length * c);
  taus.forEach((t, i) => allScales.set(tauScales(norms, t), i * c));
  const block = new Int32Array(taus.length * n);
  const preds = taus.map((_, t) => block.subarray(t * n, (t + 1) * n));
  const g = new RowGemm(transpose(args.weight, c, d), d, c, args.engine ?? "auto");
  try {
    forEachLogitChunk(
      g,
      feats,
      n,
      (l, r0, rows) => scaledArgMax(l, rows, c, allScales, taus.length, block.subarray(r0), n),
      args.chunkRows ?? DEFAULT_CHUNK_ROWS,
    );
  } finally {
    g.dispose();
  }
  return preds;
}

/** Evaluate every τ on one split. `trainCounts` define Many/Medium/Few. */
export function tauSweep<S extends string>(
  split: S,
  args: TauNormArgs,
  taus: readonly number[],
  data: { feats: Float32Array; labels: Int32Array; n: number },
  trainCounts: ArrayLike<number>,
): TauSweep<S> {
  const counts = Array.from(trainCounts);
  const preds = tauSweepPredictions(args, taus, data.feats, data.n);
  const results = preds.map((p) => evaluate(p, data.labels, counts));
  const rows = taus.map((tau, t) => {
    const r = results[t];
    return { tau, many: r.many, medium: r.medium, few: r.few, top1: r.top1, macroAcc: r.macroAcc };
  });
  return { split, rows, results };
}

/** The chosen τ and why. */
export interface TauChoice {
  /** Selected τ. */
  tau: number;
  /** Its position in the sweep. */
  index: number;
  /** Metric used for the choice. */
  metric: TauSelectMetric;
  /** Val value of that metric at the chosen τ. */
  value: number;
  /** Always "val": the split the choice was made on. */
  split: "val";
}

/**
 * Choose τ on the VALIDATION sweep only: highest `metric` (default top-1), ties to the smaller τ. The parameter type
 * accepts nothing but a val table, so test labels cannot reach the choice.
 */
export function selectTau(valSweep: TauSweep<"val">, metric: TauSelectMetric = "top1"): TauChoice {
  if (valSweep.split !== "val") throw new Error(`selectTau: expected a val sweep, got split '${valSweep.split}'`);
  if (valSweep.rows.length === 0) throw new Error("selectTau: empty sweep (no τ values)");
  let index = -1;
  for (let t = 0; t < valSweep.rows.length; t++) {
    const r = valSweep.rows[t];
    const b = index >= 0 ? valSweep.rows[index] : null;
    if (b === null || r[metric] > b[metric] || (r[metric] === b[metric] && r.tau < b.tau)) index = t;
  }
  const r = valSweep.rows[index];
  return { tau: r.tau, index, metric, value: r[metric], split: "val" };
}
