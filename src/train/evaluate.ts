/**
 * Evaluation passes over a split: predictions of backbone + head, and pooled features (for NCM, tau-norm and
 * the feature-based stage-2 trainers). BatchNorm in eval mode, no augmentation, fixed row order.
 */
import * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/types.js";
import type { Backbone, Classifier } from "../models/types.js";
import { Rng } from "../rng.js";

export interface PassArgs {
  backbone: Backbone;
  split: Split;
  batchSize: number;
  /** Optional head: when given, predictions (argmax of logits) are returned too. */
  head?: Classifier;
  /** Keep the pooled features (N × featDim, row-major). */
  keepFeatures?: boolean;
}

export interface PassResult {
  preds: Int32Array | null;
  feats: Float32Array | null;
  labels: Int32Array;
  indices: Int32Array;
}

/** One pass over a whole split in row order. */
export async function runPass(a: PassArgs): Promise<PassResult> {
  const n = a.split.size;
  const d = a.backbone.featDim;
  const preds = a.head ? new Int32Array(n) : null;
  const feats = a.keepFeatures ? new Float32Array(n * d) : null;
  const rng = new Rng(0); // unused: no augmentation at evaluation
  const idx = new Int32Array(Math.min(a.batchSize, n));
  for (let start = 0; start < n; start += a.batchSize) {
    const m = Math.min(a.batchSize, n - start);
    const rows = idx.subarray(0, m);
    for (let i = 0; i < m; i++) rows[i] = start + i;
    const b = await a.split.loadBatch(rows, { augment: false, rng });
    const out = tf.tidy(() => {
      const x = tf.tensor4d(b.x, b.shape);
      const feat = a.backbone.apply(x, false);
      const res: tf.Tensor[] = [];
      if (a.head) res.push(tf.argMax(a.head.apply(feat), 1));
      if (feats) res.push(feat);
      return res;
    });
    let k = 0;
    if (preds) preds.set(out[k++].dataSync() as Int32Array, start);
    if (feats) feats.set(out[k++].dataSync() as Float32Array, start * d);
    out.forEach((t) => t.dispose());
  }
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  return { preds, feats, labels: a.split.labels, indices };
}
