/**
 * Pieces shared by the trained stage-2 classifiers (cRT, LWS): PyTorch-style SGD with momentum and coupled weight
 * decay, the per-epoch cosine schedule, the softmax cross-entropy gradient, and row gathering.
 */
import { loadAddon, type NativeAddon } from "../kernels/native/addon.js";

/**
 * Learning rate of epoch `e` (0-based) of `total`: lr0·½(1 + cos(π·e/E)). The first epoch runs at lr0 and the
 * last at lr0·½(1+cos(π(E−1)/E)) > 0, i.e. the schedule is stepped once per epoch before training it (the
 * PyTorch < 1.1 convention; with ≥ 1.1 the original code ran its last epoch at 0 — spec §15.5).
 */
export function cosineLr(lr0: number, e: number, total: number): number {
  return lr0 * 0.5 * (1 + Math.cos((Math.PI * e) / total));
}

/**
 * SGD with momentum as PyTorch: v ← μ·v + (g + wd·θ); θ ← θ − lr·v (v starts at 0, so the first step is v = g + wd·θ).
 * Weight decay is coupled (added to the gradient) and applies to every parameter it is given, bias included.
 *
 * The step runs in the native addon when it loaded (a 2M-parameter cRT layer: ~1 ms against ~13 ms for the JS
 * loop) and in JS otherwise (see `withoutAddon`); both do the same double-precision arithmetic and agree bit for bit
 * (tested).
 */
export class SgdMomentum {
  private readonly v: Float32Array;
  private readonly addon: NativeAddon | null;
  constructor(size: number, readonly momentum: number, readonly weightDecay: number) {
    this.v = new Float32Array(size);
    this.addon = loadAddon().addon;
  }
  step(param: Float32Array, grad: Float32Array, lr: number): void {
    const { v, momentum: mu, weightDecay: wd } = this;
    if (param.length !== v.length || grad.length !== v.length) throw new Error(`SgdMomentum: size mismatch (${param.length}, ${grad.length}, ${v.length})`);
    if (this.addon) {
      this.addon.sgdMomentum(param, grad, v, lr, mu, wd);
      return;
    }
    for (let i = 0; i < v.length; i++) {
      const vi = mu * v[i] + grad[i] + wd * param[i];
      v[i] = vi;
      param[i] -= lr * vi;
    }
  }
}

/** Options of {@link softmaxCrossEntropyGrad}. */
export interface SoftmaxCeOptions {
  /** A bias [c] added to every row of z first (the logits are X·Wᵀ + b). */
  bias?: Float32Array;
  /** Receives the bias gradient [c]: the column sums of the returned gradient. */
  dBias?: Float32Array;
}

/**
 * Turn logits z [rows × c] into the gradient of the MEAN softmax cross-entropy, in place: (softmax(z) − onehot(y))/rows.
 * Returns the summed loss and the number of rows whose arg-max equals the label (computed before the update).
 * Runs natively when the addon loaded and the labels are an Int32Array (the JS loop spends ~16 ms on a 512 × 1,000
 * batch, mostly in Math.exp); the native twin repeats the same double-precision steps row by row.
 */
export function softmaxCrossEntropyGrad(
  z: Float32Array, rows: number, c: number, labels: ArrayLike<number>, opts: SoftmaxCeOptions = {},
): { lossSum: number; correct: number } {
  const { bias, dBias } = opts;
  if ((bias && bias.length < c) || (dBias && dBias.length < c)) throw new Error(`softmaxCrossEntropyGrad: bias arrays need ${c} values`);
  const addon = loadAddon().addon;
  if (addon && labels instanceof Int32Array) {
    const [lossSum, correct] = addon.softmaxXentGrad(rows, c, z, labels, bias ?? null, dBias ?? null);
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

/** Copy rows `idx` of a row-major [* × d] matrix into `out` [idx.length × d]. */
export function gatherRows(src: Float32Array, d: number, idx: Int32Array, out = new Float32Array(idx.length * d)): Float32Array {
  for (let k = 0; k < idx.length; k++) out.set(src.subarray(idx[k] * d, idx[k] * d + d), k * d);
  return out;
}

/** Validate a numeric hyper-parameter; the error names the classifier and key. */
export function checkPositive(where: string, key: string, v: number, allowZero = false): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`${where}: ${key} must be a ${allowZero ? "non-negative" : "positive"} number, got ${v}`);
  }
}
