/**
 * Linear classifiers on features: logits = X·Wᵀ + b with W in PyTorch layout [C, d] (row j = w_j). Used directly as
 * the "joint" (stage-1) classifier and as the evaluation path of cRT, τ-norm and LWS.
 */
import { argmaxRow, DEFAULT_CHUNK_ROWS, forEachLogitChunk, type GemmEngine, RowGemm, transpose } from "./gemm.js";

/** A linear classifier and how to run it over a feature matrix. */
export interface LinearArgs {
  /** Weight, row-major [numClasses × dim] (row j = w_j, as PyTorch's `fc.weight`). */
  weight: Float32Array;
  /** Bias [numClasses], or undefined for none. */
  bias?: Float32Array;
  /** Number of classes C. */
  numClasses: number;
  /** Feature dimension d. */
  dim: number;
  /** Optional per-class logit scale (LWS's s_j, applied to the whole logit including bias). */
  scale?: ArrayLike<number>;
  /** GEMM engine (default "auto"). */
  engine?: GemmEngine;
  /** Rows per streamed chunk (default 512). */
  chunkRows?: number;
}

function checkLinear(a: LinearArgs, where: string): void {
  if (a.weight.length !== a.numClasses * a.dim) {
    throw new Error(
      `${where}: weight has ${a.weight.length} values, expected numClasses × dim = ${a.numClasses} × ${a.dim}`,
    );
  }
  if (a.bias !== undefined && a.bias.length !== a.numClasses) {
    throw new Error(`${where}: bias has ${a.bias.length} values, expected numClasses = ${a.numClasses}`);
  }
  if (a.scale !== undefined && a.scale.length !== a.numClasses) {
    throw new Error(`${where}: scale has ${a.scale.length} values, expected numClasses = ${a.numClasses}`);
  }
}

/** Add bias then multiply by scale, in place, on a [rows × c] logit chunk. */
function finishLogits(l: Float32Array, rows: number, c: number, bias?: Float32Array, scale?: ArrayLike<number>): void {
  if (bias === undefined && scale === undefined) return;
  for (let i = 0; i < rows; i++) {
    const o = i * c;
    for (let j = 0; j < c; j++) {
      let v = l[o + j];
      if (bias !== undefined) v += bias[j];
      if (scale !== undefined) v *= scale[j];
      l[o + j] = v;
    }
  }
}

/**
 * Stream logits of `feats` [n × dim] chunk by chunk: `visit(logits, row0, rows)` receives a reused [rows × C] buffer.
 * The weight is transposed once to [d, C] and kept resident for the whole pass.
 */
export function forEachLinearChunk(
  a: LinearArgs,
  feats: Float32Array,
  n: number,
  visit: (logits: Float32Array, row0: number, rows: number) => void,
): void {
  checkLinear(a, "linear classifier");
  if (feats.length < n * a.dim)
    throw new Error(`linear classifier: feats has ${feats.length} values, need n × dim = ${n} × ${a.dim}`);
  const g = new RowGemm(transpose(a.weight, a.numClasses, a.dim), a.dim, a.numClasses, a.engine ?? "auto");
  try {
    forEachLogitChunk(
      g,
      feats,
      n,
      (l, r0, rows) => {
        finishLogits(l, rows, a.numClasses, a.bias, a.scale);
        visit(l, r0, rows);
      },
      a.chunkRows ?? DEFAULT_CHUNK_ROWS,
    );
  } finally {
    g.dispose();
  }
}

/** Full logit matrix [n × C] (only for small n: 50,000 × 1,000 is already 200 MB). */
export function linearLogits(a: LinearArgs, feats: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * a.numClasses);
  forEachLinearChunk(a, feats, n, (l, r0, rows) => out.set(l.subarray(0, rows * a.numClasses), r0 * a.numClasses));
  return out;
}

/** Arg-max predictions [n] of a linear classifier (first class on ties). */
export function linearPredict(a: LinearArgs, feats: Float32Array, n: number): Int32Array {
  const preds = new Int32Array(n);
  forEachLinearChunk(a, feats, n, (l, r0, rows) => {
    for (let i = 0; i < rows; i++) preds[r0 + i] = argmaxRow(l, i, a.numClasses);
  });
  return preds;
}

/** L2 norm of each row of a [rows × cols] matrix (‖w_j‖ for a [C, d] weight), in float64. */
export function rowNorms(w: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let s = 0;
    const o = j * cols;
    for (let p = 0; p < cols; p++) s += w[o + p] * w[o + p];
    out[j] = Math.sqrt(s);
  }
  return out;
}
