/**
 * Stage-2 feature workloads (spec: τ-normalisation sweep, NCM, cRT) timed through the project's own classifier code,
 * the functions behind `ltr classify`, `ltr tau-norm` and the reproduction, on synthetic features held in JS memory
 * (115,846×2,048 floats is 0.95 GB; the classifiers stream them in row chunks).
 */
import { trainCrt } from "../../src/classifiers/crt.js";
import { fitNcm, ncmPredict } from "../../src/classifiers/ncm.js";
import { tauSweepPredictions } from "../../src/classifiers/tau-norm.js";
import type { FeatureSet } from "../../src/features/types.js";

export interface FeatureSizes {
  /** Training features (cRT epoch, NCM means). */
  nTrain: number;
  /** Query features (τ sweep, NCM prediction). */
  nQuery: number;
  /** Validation features evaluated after the cRT epoch (ImageNet-LT val: 20,000). */
  nVal: number;
  /** Feature length. */
  dim: number;
  /** Classes. */
  classes: number;
  /** τ values in the sweep (21 = 0, 0.1, ..., 2.0). */
  taus: number;
  /** cRT batch size. */
  batch: number;
}

export const FULL_SIZES: FeatureSizes = {
  nTrain: 115_846,
  nQuery: 50_000,
  nVal: 20_000,
  dim: 2048,
  classes: 1000,
  taus: 21,
  batch: 512,
};
export const QUICK_SIZES: FeatureSizes = {
  nTrain: 5_120,
  nQuery: 5_000,
  nVal: 2_000,
  dim: 2048,
  classes: 1000,
  taus: 21,
  batch: 512,
};

/** ReLU-like non-negative pseudo-random features and long-tailed labels (deterministic LCG). */
export function makeFeatures(
  n: number,
  dim: number,
  classes: number,
  seed: number,
): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * dim);
  let s = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = s / 4294967296 - 0.3;
    x[i] = v > 0 ? v : 0;
  }
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Pareto-like: class index ~ classes·u², so low indices are the head classes.
    const u = s / 4294967296;
    y[i] = Math.min(classes - 1, Math.floor(classes * u * u));
  }
  return { x, y };
}

/** Row indices 0..n−1 (the `indices` a FeatureSet carries). */
function asFeatureSet(f: { x: Float32Array; y: Int32Array }, dim: number): FeatureSet {
  return { feats: f.x, labels: f.y, n: f.y.length, dim, indices: Int32Array.from({ length: f.y.length }, (_, i) => i) };
}

function top1(preds: Int32Array, labels: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (preds[i] === labels[i]) ok++;
  return labels.length > 0 ? ok / labels.length : 0;
}

/**
 * τ sweep through the project's own path (src/classifiers/tau-norm.ts `tauSweepPredictions`, behind `ltr tau-norm`
 * and the reproduction): one X·Wᵀ per row chunk, then the arg-max under every τ's column scales ‖w_j‖^−τ.
 * Returns the top-1 per τ.
 */
export function tauSweep(q: { x: Float32Array; y: Int32Array }, w: Float32Array, z: FeatureSizes): number[] {
  const taus = Array.from({ length: z.taus }, (_, t) => t / 10);
  return tauSweepPredictions({ weight: w, numClasses: z.classes, dim: z.dim }, taus, q.x, q.y.length).map((p) =>
    top1(p, q.y),
  );
}

/**
 * NCM through the project's own path (src/classifiers/ncm.ts): class means of the raw training features, then
 * cosine nearest-mean prediction of the queries (featType "un", dist "cos", as the PyTorch peer). Returns top-1.
 */
export function ncm(
  train: { x: Float32Array; y: Int32Array },
  q: { x: Float32Array; y: Int32Array },
  z: FeatureSizes,
): number {
  const model = fitNcm(asFeatureSet(train, z.dim), z.classes, { featType: "un", dist: "cos" });
  return top1(ncmPredict(model, q.x), q.y);
}

/**
 * One cRT epoch through the project's own training path (src/classifiers/crt.ts `trainCrt`, the code behind
 * `ltr classify` and the reproduction): a fresh linear layer, ⌊N/B⌋ class-balanced batches, forward, gradient and
 * SGD step (momentum 0.9, weight decay 5e-4, lr 0.2), then top-1 on the validation features. Returns val top-1.
 */
export function crtEpoch(
  train: { x: Float32Array; y: Int32Array },
  val: { x: Float32Array; y: Int32Array },
  z: FeatureSizes,
  seed: number,
): number {
  const r = trainCrt({
    train: asFeatureSet(train, z.dim),
    val: asFeatureSet(val, z.dim),
    numClasses: z.classes,
    epochs: 1,
    batchSize: z.batch,
    lr: 0.2,
    seed,
  });
  return r.bestValTop1;
}
