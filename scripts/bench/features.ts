/**
 * Stage-2 feature workloads (spec: τ-normalisation sweep, NCM, cRT), on synthetic features held in JS memory and
 * streamed to the backend in chunks (115,846×2,048 floats is 0.95 GB, too much to keep on the 4 GB wasm heap
 * next to everything else).
 */
import * as tf from "@tensorflow/tfjs";
import { LinearClassifier } from "../../src/models/linear.js";
import { Sgd } from "../../src/train/sgd.js";

export interface FeatureSizes {
  /** Training features (cRT epoch, NCM means). */
  nTrain: number;
  /** Query features (τ sweep, NCM prediction). */
  nQuery: number;
  /** Feature length. */
  dim: number;
  /** Classes. */
  classes: number;
  /** τ values in the sweep (21 = 0, 0.1, ..., 2.0). */
  taus: number;
  /** cRT batch size. */
  batch: number;
}

export const FULL_SIZES: FeatureSizes = { nTrain: 115_846, nQuery: 50_000, dim: 2048, classes: 1000, taus: 21, batch: 512 };
export const QUICK_SIZES: FeatureSizes = { nTrain: 5_120, nQuery: 5_000, dim: 2048, classes: 1000, taus: 21, batch: 512 };

/** ReLU-like non-negative pseudo-random features and long-tailed labels (deterministic LCG). */
export function makeFeatures(n: number, dim: number, classes: number, seed: number): { x: Float32Array; y: Int32Array } {
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

const CHUNK = 5000;

/** τ sweep as one X·Wᵀ per chunk plus a per-class column rescale ‖w_j‖^−τ per τ; returns the accuracy per τ. */
export function tauSweep(q: { x: Float32Array; y: Int32Array }, w: Float32Array, z: FeatureSizes): number[] {
  const correct = new Array<number>(z.taus).fill(0);
  const n = q.y.length;
  const W = tf.tensor2d(w, [z.classes, z.dim]);
  const norms = tf.norm(W, 2, 1);
  const scales = Array.from({ length: z.taus }, (_, t) => tf.tidy(() => tf.pow(norms, -t / 10)));
  for (let r0 = 0; r0 < n; r0 += CHUNK) {
    const rows = Math.min(CHUNK, n - r0);
    const preds = tf.tidy(() => {
      const xb = tf.tensor2d(q.x.subarray(r0 * z.dim, (r0 + rows) * z.dim), [rows, z.dim]);
      const logits = tf.matMul(xb, W, false, true);
      return scales.map((s) => tf.argMax(tf.mul(logits, s), 1));
    });
    preds.forEach((p, t) => {
      const v = p.dataSync();
      for (let i = 0; i < rows; i++) if (v[i] === q.y[r0 + i]) correct[t]++;
    });
    tf.dispose(preds);
  }
  tf.dispose([W, norms, ...scales]);
  return correct.map((c) => c / n);
}

/** NCM: class means in one pass over the training features (segment sums per chunk), then cosine nearest-mean. */
export function ncm(train: { x: Float32Array; y: Int32Array }, q: { x: Float32Array; y: Int32Array }, z: FeatureSizes): number {
  const counts = new Float32Array(z.classes);
  for (let i = 0; i < train.y.length; i++) counts[train.y[i]]++;
  let sums = tf.zeros([z.classes, z.dim]);
  for (let r0 = 0; r0 < train.y.length; r0 += CHUNK) {
    const rows = Math.min(CHUNK, train.y.length - r0);
    const next = tf.tidy(() => {
      const xb = tf.tensor2d(train.x.subarray(r0 * z.dim, (r0 + rows) * z.dim), [rows, z.dim]);
      return tf.add(sums, tf.unsortedSegmentSum(xb, tf.tensor1d(train.y.subarray(r0, r0 + rows), "int32"), z.classes));
    });
    sums.dispose();
    sums = next;
  }
  const M = tf.tidy(() => {
    const m = tf.div(sums, tf.tensor2d(counts.map((c) => Math.max(c, 1)), [z.classes, 1]));
    return tf.div(m, tf.add(tf.norm(m, 2, 1, true), 1e-12));
  });
  sums.dispose();
  let correct = 0;
  const n = q.y.length;
  for (let r0 = 0; r0 < n; r0 += CHUNK) {
    const rows = Math.min(CHUNK, n - r0);
    const p = tf.tidy(() => {
      const xb = tf.tensor2d(q.x.subarray(r0 * z.dim, (r0 + rows) * z.dim), [rows, z.dim]);
      const xn = tf.div(xb, tf.add(tf.norm(xb, 2, 1, true), 1e-12));
      return tf.argMax(tf.matMul(xn, M, false, true), 1);
    });
    const v = p.dataSync();
    for (let i = 0; i < rows; i++) if (v[i] === q.y[r0 + i]) correct++;
    p.dispose();
  }
  M.dispose();
  return correct / n;
}

/** One cRT epoch: a fresh linear classifier trained by SGD (momentum 0.9, wd 5e-4) over batches in stored order
 * (the synthetic features are already in random order). */
export function crtEpoch(train: { x: Float32Array; y: Int32Array }, z: FeatureSizes, seed: number): number {
  const clf = new LinearClassifier({ featDim: z.dim, numClasses: z.classes, seed });
  const sgd = new Sgd([{ name: "classifier", params: clf.trainable(), args: { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 } }]);
  const vars = [...clf.trainable().values()];
  const n = train.y.length;
  let last = 0;
  for (let r0 = 0; r0 < n; r0 += z.batch) {
    const rows = Math.min(z.batch, n - r0);
    const xb = tf.tensor2d(train.x.subarray(r0 * z.dim, (r0 + rows) * z.dim), [rows, z.dim]);
    const yb = tf.tidy(() => tf.oneHot(tf.tensor1d(train.y.subarray(r0, r0 + rows), "int32"), z.classes).toFloat());
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yb, clf.apply(xb)) as tf.Scalar, vars);
    sgd.step(grads);
    tf.dispose(grads);
    last = value.dataSync()[0];
    tf.dispose([value, xb, yb]);
  }
  sgd.dispose();
  clf.dispose();
  return last;
}
