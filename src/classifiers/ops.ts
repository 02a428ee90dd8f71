/**
 * The stage-2 math that has a native twin: the one place that decides native vs JS for the classifiers on
 * features. Each op below is written out twice, side by side — the call into the addon (native/src/stage2.cc)
 * and the JS loop it must equal — so the claim "bit-identical" can be checked by reading one function, and is
 * checked by test/classifiers/native_steps.test.ts and head_steps.test.ts, which run every op under
 * `withoutAddon()` as well.
 *
 * The addon is looked up on every call (`loadAddon` caches it), so `withoutAddon(fn)` switches every op inside
 * `fn` to its JS twin. The matrix products have three engines (tfjs, JS, native) and their own chooser in
 * gemm.ts, which asks {@link nativeAddon} here for the addon.
 */
import { loadAddon, type NativeAddon } from "../kernels/native/addon.js";

/** The native addon when it loaded (and is not disabled by `withoutAddon`), else null; `reason` says why not. */
export function nativeAddon(): { addon: NativeAddon; reason?: undefined } | { addon: null; reason: string } {
  const r = loadAddon();
  // `in` narrowing: tslab type-checks the notebooks without strict mode, where `if (r.addon)` does not narrow.
  return "path" in r ? { addon: r.addon } : { addon: null, reason: r.reason };
}

/** Normalise `x[o .. o+d)` to unit L2 norm in place, the sum of squares in double (zero vectors stay zero). */
export function normaliseInPlace(x: Float32Array | Float64Array, o: number, d: number): void {
  let s = 0;
  for (let p = 0; p < d; p++) s += x[o + p] * x[o + p];
  if (s === 0) return;
  const inv = 1 / Math.sqrt(s);
  for (let p = 0; p < d; p++) x[o + p] *= inv;
}

/**
 * Rows of x [rows × d] minus `mean` (when given, in float), scaled to unit L2 norm, in place (NCM's l2n / cl2n);
 * with `src`, the rows are read from src [rows × d] and written to x (one pass instead of a copy, then the pass).
 */
export function normaliseRows(
  x: Float32Array,
  rows: number,
  d: number,
  mean: Float32Array | null,
  src: Float32Array | null = null,
): void {
  const { addon } = nativeAddon();
  if (addon) return addon.normalizeRows(rows, d, x, mean, src);
  if (src) x.set(src.subarray(0, rows * d));
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    if (mean) for (let p = 0; p < d; p++) x[o + p] -= mean[p];
    normaliseInPlace(x, o, d);
  }
}

/**
 * sums[ids[i]·d + p] += x[i·d + p] for `rows` rows of x [rows × d], in double, each column in row order (NCM's class
 * means: 115k float32 rows summed in float would lose about three digits). With `total` [d], also total[p] += x[i·d + p]
 * for every row, in the same pass (one read of the features for NCM's global mean and class sums).
 */
export function addClassSums64(
  x: Float32Array,
  rows: number,
  d: number,
  ids: Int32Array,
  k: number,
  sums: Float64Array,
  total: Float64Array | null = null,
): void {
  const { addon } = nativeAddon();
  if (addon) return addon.classSums64(rows, d, k, x, ids, sums, total);
  for (let i = 0; i < rows; i++) {
    const so = ids[i] * d;
    const xo = i * d;
    for (let p = 0; p < d; p++) sums[so + p] += x[xo + p];
    if (total) for (let p = 0; p < d; p++) total[p] += x[xo + p];
  }
}

let unitScales = new Float32Array(0);

/**
 * preds[i] = the first arg-max of row i of l [rows × c] (NaN never wins), exactly as `argmaxRow` (below) picks it.
 * Natively through the τ sweep's scaledArgMax with unit scales: a float times 1 in double is the float itself, so
 * the comparisons are the JS loop's (docs/PERFORMANCE.md, "Stage-2 workloads": the JS loop over 50,000 × 1,000
 * logits was ~8% of NCM's time).
 */
export function argmaxRows(l: Float32Array, rows: number, c: number, preds: Int32Array): void {
  const { addon } = nativeAddon();
  if (addon && rows > 0) {
    if (unitScales.length < c) unitScales = new Float32Array(c).fill(1);
    return addon.scaledArgMax(rows, c, 1, l, unitScales, preds, rows);
  }
  for (let i = 0; i < rows; i++) preds[i] = argmaxRow(l, i, c);
}

/** Index of the largest value in row `i` of a [rows × c] matrix (first index on ties). */
export function argmaxRow(m: Float32Array, i: number, c: number): number {
  const o = i * c;
  let best = 0;
  let bv = m[o];
  for (let j = 1; j < c; j++) {
    const v = m[o + j];
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/**
 * The τ sweep's arg-max: for every τ t and row i of the logits l [rows × c], out[t·stride + i] = argmax_j
 * l[i,j]·scales[t·c + j] (the first maximum on ties; the products in double), all τ in one pass over the chunk.
 */
export function scaledArgMax(
  l: Float32Array,
  rows: number,
  c: number,
  scales: Float32Array,
  nTau: number,
  out: Int32Array,
  stride: number,
): void {
  const { addon } = nativeAddon();
  if (addon) return addon.scaledArgMax(rows, c, nTau, l, scales, out, stride);
  for (let t = 0; t < nTau; t++) {
    const so = t * c;
    const po = t * stride;
    for (let i = 0; i < rows; i++) {
      const o = i * c;
      let best = 0;
      let bv = l[o] * scales[so];
      for (let j = 1; j < c; j++) {
        const v = l[o + j] * scales[so + j];
        if (v > bv) {
          bv = v;
          best = j;
        }
      }
      out[po + i] = best;
    }
  }
}

/**
 * One SGD-with-momentum step as PyTorch: v ← μ·v + (g + wd·θ); θ ← θ − lr·v, coupled weight decay, in double
 * (a 2M-parameter cRT layer: ~1 ms native against ~13 ms for the JS loop).
 */
export function sgdMomentumStep(
  param: Float32Array,
  grad: Float32Array,
  v: Float32Array,
  lr: number,
  mu: number,
  wd: number,
): void {
  const { addon } = nativeAddon();
  if (addon) return addon.sgdMomentum(param, grad, v, lr, mu, wd);
  for (let i = 0; i < v.length; i++) {
    const vi = mu * v[i] + grad[i] + wd * param[i];
    v[i] = vi;
    param[i] -= lr * vi;
  }
}

/**
 * Logits z [rows × c] (plus `bias` per row when given) → the gradient of the MEAN softmax cross-entropy, in place:
 * (softmax(z) − onehot(y))/rows; `dBias` receives its column sums. Returns the summed loss and the rows whose
 * arg-max equals the label (before the update). Native only for Int32Array labels (the addon's signature); the JS
 * loop spends ~16 ms on a 512 × 1,000 batch, mostly in Math.exp.
 */
export function softmaxXentGrad(
  z: Float32Array,
  rows: number,
  c: number,
  labels: ArrayLike<number>,
  bias: Float32Array | null,
  dBias: Float32Array | null,
): { lossSum: number; correct: number } {
  const { addon } = nativeAddon();
  if (addon && labels instanceof Int32Array) {
    const [lossSum, correct] = addon.softmaxXentGrad(rows, c, z, labels, bias, dBias);
    return { lossSum, correct };
  }
  if (bias) for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) z[i * c + j] += bias[j];
  let lossSum = 0;
  let correct = 0;
  const inv = 1 / rows;
  for (let i = 0; i < rows; i++) {
    const o = i * c;
    let mx = -Infinity;
    let arg = 0;
    for (let j = 0; j < c; j++) {
      if (z[o + j] > mx) {
        mx = z[o + j];
        arg = j;
      }
    }
    const y = labels[i];
    if (arg === y) correct++;
    const zy = z[o + y];
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(z[o + j] - mx);
      z[o + j] = e;
      s += e;
    }
    lossSum += Math.log(s) - (zy - mx);
    const scale = inv / s;
    for (let j = 0; j < c; j++) z[o + j] *= scale;
    z[o + y] -= inv;
  }
  if (dBias) {
    dBias.fill(0, 0, c);
    for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) dBias[j] += z[i * c + j];
  }
  return { lossSum, correct };
}
