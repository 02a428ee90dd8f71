/**
 * Nearest class mean (docs/ARCHITECTURE.md, "The five classifiers"; the original `KNNClassifier.py` + `get_knncentroids`).
 *
 * Feature types (applied to training features before averaging, and to queries):
 *  - `un`   raw features;
 *  - `l2n`  L2-normalised features;
 *  - `cl2n` features minus the global training mean μ (instance-weighted), then L2-normalised.
 * As in the original, a centroid is the mean of the transformed features and is NOT re-normalised.
 *
 * Distances (logits, larger = closer):
 *  - `l2`   −‖q − c_j‖² (squared Euclidean);
 *  - `cos`  a true cosine similarity q·c_j / (‖q‖‖c_j‖);
 *  - `dot`  (q·c_j)/d — what the original code calls "cos": a dot product with un-normalised centroids scaled by
 *           1/d, kept for reproducing its numbers.
 * Defaults: `cl2n` + `l2` (the README's command). Class means are computed in one pass over the rows (O(N·d)),
 * not as a one-hot GEMM (471 GFLOP at ImageNet-LT size, 40–1000× slower; docs/PERFORMANCE.md, "Stage-2 workloads"). A class with no training
 * rows gets logit −∞ so it is never predicted. A zero vector is left at zero by normalisation.
 */
import { checkFeatureSet, checkLabels, type FeatureSet } from "../features/types.js";
import { DEFAULT_CHUNK_ROWS, type GemmEngine, RowGemm, transpose } from "./gemm.js";
import { addClassSums64, argmaxRows, normaliseInPlace, normaliseRows } from "./ops.js";

export const NCM_FEAT_TYPES = ["un", "l2n", "cl2n"] as const;
export type NcmFeatType = (typeof NCM_FEAT_TYPES)[number];
export const NCM_DISTS = ["l2", "cos", "dot"] as const;
export type NcmDist = (typeof NCM_DISTS)[number];
/** The variant used when none is asked for: the paper's NCM (centred, L2-normalised features; Euclidean distance). */
export const NCM_DEFAULTS: Readonly<Required<NcmArgs>> = { featType: "cl2n", dist: "l2" };

/** NCM variant. */
export interface NcmArgs {
  /** Feature transform (default "cl2n"). */
  featType?: NcmFeatType;
  /** Score (default "l2"). */
  dist?: NcmDist;
}

/** A fitted NCM classifier. */
export interface NcmModel {
  featType: NcmFeatType;
  dist: NcmDist;
  /** Feature dimension d. */
  dim: number;
  /** Number of classes C. */
  numClasses: number;
  /** Global mean μ of the raw training features [d] (used by `cl2n`; kept for every type for inspection). */
  mean: Float32Array;
  /** Class centroids [C × d], row-major, in the transformed feature space. */
  centroids: Float32Array;
  /** Training rows per class. */
  counts: Int32Array;
}

/** How to run predictions. */
export interface NcmRunArgs {
  /** GEMM engine (default "auto"). */
  engine?: GemmEngine;
  /** Rows per streamed chunk (default 512). */
  chunkRows?: number;
}

function checkChoice<T extends string>(v: string, valid: readonly T[], key: string): T {
  if (!(valid as readonly string[]).includes(v))
    throw new Error(`ncm: unknown ${key} '${v}'; valid: ${valid.join(", ")}`);
  return v as T;
}

/** Apply the feature-type transform to `rows` rows of `src` starting at row `r0`, into `dst`. */
function transformRows(
  src: Float32Array,
  r0: number,
  rows: number,
  d: number,
  type: NcmFeatType,
  mean: Float32Array,
  dst: Float32Array,
): void {
  const rowsOf = src.subarray(r0 * d, (r0 + rows) * d);
  if (type === "un") dst.set(rowsOf);
  else normaliseRows(dst, rows, d, type === "cl2n" ? mean : null, rowsOf);
}

/** Fit class means on the training features. */
export function fitNcm(train: FeatureSet, numClasses: number, args: NcmArgs = {}): NcmModel {
  checkFeatureSet(train, "ncm train features");
  checkLabels(train.labels, numClasses, "ncm train labels");
  const featType = checkChoice(args.featType ?? NCM_DEFAULTS.featType, NCM_FEAT_TYPES, "featType");
  const dist = checkChoice(args.dist ?? NCM_DEFAULTS.dist, NCM_DISTS, "dist");
  const { n, dim: d, feats, labels } = train;
  // Row sums in float64, each column in row order (ops.ts addClassSums64: native or JS, the same additions).
  // Raw features: the global mean's sums and the class sums in one pass. Otherwise the mean first (cl2n centres by
  // it), then the class sums of the transformed rows, streamed through a row buffer.
  const mean64 = new Float64Array(d);
  const sums = new Float64Array(numClasses * d);
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  if (featType === "un") addClassSums64(feats, n, d, labels, numClasses, sums, mean64);
  else addClassSums64(feats, n, d, new Int32Array(n), 1, mean64);
  const mean = new Float32Array(d);
  if (n > 0) for (let p = 0; p < d; p++) mean[p] = mean64[p] / n;
  if (featType !== "un") {
    const CH = 256;
    const buf = new Float32Array(CH * d);
    for (let r0 = 0; r0 < n; r0 += CH) {
      const rows = Math.min(CH, n - r0);
      transformRows(feats, r0, rows, d, featType, mean, buf);
      addClassSums64(buf, rows, d, labels.subarray(r0, r0 + rows), numClasses, sums);
    }
  }
  const centroids = new Float32Array(numClasses * d);
  for (let j = 0; j < numClasses; j++) {
    if (counts[j] === 0) continue;
    for (let p = 0; p < d; p++) centroids[j * d + p] = sums[j * d + p] / counts[j];
  }
  return { featType, dist, dim: d, numClasses, mean, centroids, counts };
}

/** Stream NCM logits over `feats` [n × d] in chunks; `visit` receives a reused [rows × C] buffer. */
export function forEachNcmChunk(
  model: NcmModel,
  feats: Float32Array,
  visit: (logits: Float32Array, row0: number, rows: number) => void,
  run: NcmRunArgs = {},
): void {
  const { dim: d, numClasses: c, dist } = model;
  if (feats.length % d !== 0) throw new Error(`ncm: feats has ${feats.length} values, not a multiple of dim ${d}`);
  const n = feats.length / d;
  // Right-hand matrix: centroids, normalised for a true cosine, transposed once to [d, C].
  const cent = model.centroids.slice();
  if (dist === "cos") for (let j = 0; j < c; j++) normaliseInPlace(cent, j * d, d);
  // Squared centroid norms: only the l2 distance reads them.
  const cn2 = new Float64Array(dist === "l2" ? c : 0);
  if (dist === "l2")
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += cent[j * d + p] * cent[j * d + p];
      cn2[j] = s;
    }
  const empty: number[] = [];
  for (let j = 0; j < c; j++) if (model.counts[j] === 0) empty.push(j);
  const g = new RowGemm(transpose(cent, c, d), d, c, run.engine ?? "auto");
  const chunk = run.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const q = new Float32Array(Math.min(chunk, Math.max(n, 1)) * d);
  try {
    for (let r0 = 0; r0 < n; r0 += chunk) {
      const rows = Math.min(chunk, n - r0);
      // Raw features under the cosine: the copy and the normalisation in one pass.
      if (model.featType === "un" && dist === "cos")
        normaliseRows(q, rows, d, null, feats.subarray(r0 * d, (r0 + rows) * d));
      else {
        transformRows(feats, r0, rows, d, model.featType, model.mean, q);
        if (dist === "cos") normaliseRows(q, rows, d, null);
      }
      const l = g.mul(q, rows);
      // One specialised loop per distance (this post-processing touches every logit, so no per-element branches).
      if (dist === "l2") {
        for (let i = 0; i < rows; i++) {
          let qn2 = 0;
          for (let p = i * d, e = p + d; p < e; p++) qn2 += q[p] * q[p];
          for (let j = 0, o = i * c; j < c; j++) l[o + j] = 2 * l[o + j] - cn2[j] - qn2;
        }
      } else if (dist === "dot") {
        const inv = 1 / d;
        for (let k = 0; k < rows * c; k++) l[k] *= inv;
      } // cos: the product of unit vectors is already the cosine
      for (const j of empty) for (let i = 0; i < rows; i++) l[i * c + j] = -Infinity;
      visit(l, r0, rows);
    }
  } finally {
    g.dispose();
  }
}

/** NCM arg-max predictions for every row of `feats` [n × d]. */
export function ncmPredict(model: NcmModel, feats: Float32Array, run: NcmRunArgs = {}): Int32Array {
  const preds = new Int32Array(feats.length / model.dim);
  forEachNcmChunk(
    model,
    feats,
    (l, r0, rows) => argmaxRows(l, rows, model.numClasses, preds.subarray(r0, r0 + rows)),
    run,
  );
  return preds;
}

/** NCM logits [n × C] on demand (small n only; the predictions never materialise this). */
export function ncmLogits(model: NcmModel, feats: Float32Array, run: NcmRunArgs = {}): Float32Array {
  const c = model.numClasses;
  const out = new Float32Array((feats.length / model.dim) * c);
  forEachNcmChunk(model, feats, (l, r0, rows) => out.set(l.subarray(0, rows * c), r0 * c), run);
  return out;
}
