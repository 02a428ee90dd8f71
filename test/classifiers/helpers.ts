/** Small hand-made feature sets shared by the classifier tests. */
import type { FeatureSet } from "../../src/features/types.js";
import { Rng } from "../../src/rng.js";

export function fset(rows: number[][], labels: number[]): FeatureSet {
  const dim = rows[0]?.length ?? 1;
  return {
    feats: Float32Array.from(rows.flat()),
    dim,
    labels: Int32Array.from(labels),
    indices: Int32Array.from(labels.map((_, i) => i)),
    n: rows.length,
  };
}

/**
 * Linearly separable clusters: class j lives around a one-hot-ish prototype scaled by 3, plus uniform noise
 * in [0, 0.5); `counts[j]` rows of class j, shuffled.
 */
export function clusters(counts: number[], dim: number, seed: number): FeatureSet {
  const rng = new Rng(seed);
  const c = counts.length;
  const rows: number[][] = [];
  const labels: number[] = [];
  counts.forEach((m, j) => {
    for (let k = 0; k < m; k++) {
      const r = Array.from({ length: dim }, (_, p) => (p % c === j ? 3 : 0) + rng.uniform(0, 0.5));
      rows.push(r);
      labels.push(j);
    }
  });
  const perm = rng.permutation(rows.length);
  return fset(
    Array.from(perm, (i) => rows[i]),
    Array.from(perm, (i) => labels[i]),
  );
}

/** Random non-negative features with arbitrary labels. */
export function randomSet(n: number, dim: number, c: number, seed: number): FeatureSet {
  const rng = new Rng(seed);
  const feats = new Float32Array(n * dim);
  for (let i = 0; i < feats.length; i++) feats[i] = Math.max(0, rng.normal());
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = rng.int(c);
  return { feats, dim, labels, indices: Int32Array.from({ length: n }, (_, i) => i), n };
}

export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * cols }, () => scale * rng.normal());
}
