/**
 * LWS on features (docs/ARCHITECTURE.md, "The five classifiers"): per-class scales s (init 1) on the frozen stage-1 logits INCLUDING bias,
 * z_j = s_j·(w_j·x + b_j). Only s is trained: class-balanced sampler, SGD momentum, coupled weight decay on s,
 * per-epoch cosine lr, mean softmax cross-entropy, best epoch by val top-1.
 *
 * With L = X·Wᵀ + b fixed, ∂loss/∂s_j = Σ_i G_ij·L_ij where G = (softmax(z) − Y)/B, so training only needs the base
 * logits of the sampled rows. Each epoch visits ≈ N rows, so when the N × C base logits fit in `maxCacheBytes`
 * (ImageNet-LT: 115,846 × 1,000 × 4 B = 463 MB) they are computed once — one epoch's worth of GEMM — and every
 * epoch after that is GEMM-free; otherwise each batch's logits are computed on the fly. Val logits are cached
 * under the same rule.
 */
import type { FeatureSet } from "../features/types.js";
import { argmaxRow, RowGemm, transpose } from "./gemm.js";
import { forEachLinearChunk, linearLogits } from "./linear.js";
import {
  type BalancedHeadOptions,
  gatherRows,
  type HeadEpochLog,
  type HeadEpochProgress,
  resolveHeadOptions,
  runHeadEpochs,
  SgdMomentum,
  softmaxCrossEntropyGrad,
} from "./train-utils.js";

/**
 * LWS hyper-parameters; defaults from ImageNet-LT `cls_lws.yaml`: 5 epochs, batch 512 (Places-LT 256), lr 0.2
 * (Places-LT 0.1), momentum 0.9, weight decay 5e-4 on the scales s (iNaturalist 1e-4), sampler seed 0.
 */
export interface LwsOptions extends BalancedHeadOptions {
  /** Largest base-logit cache (bytes) per split; 0 disables caching (default 1 GiB). */
  maxCacheBytes?: number;
}

/** LWS's epochs when none are given (ImageNet-LT `cls_lws.yaml`). */
export const LWS_DEFAULT_EPOCHS = 5;

/** {@link LwsOptions.maxCacheBytes} when not given: 1 GiB. */
export const LWS_DEFAULT_MAX_CACHE_BYTES = 2 ** 30;

/** Arguments of {@link trainLws}. */
export interface LwsArgs extends LwsOptions {
  /** Training features. */
  train: FeatureSet;
  /** Validation features (best epoch by top-1). */
  val: FeatureSet;
  /** Number of classes C. */
  numClasses: number;
  /** The frozen stage-1 classifier: weight [C × d] and bias [C]. */
  stage1: { weight: Float32Array; bias: Float32Array };
  /** Called after every epoch with its log entry. */
  onEpoch?: (log: LwsEpochLog, progress: HeadEpochProgress) => void;
}

/** One epoch of LWS training. */
export type LwsEpochLog = HeadEpochLog;

/** Trained LWS scales (best-val epoch). */
export interface LwsResult {
  /** Per-class scales s [C]. */
  scales: Float32Array;
  /** 1-based best epoch (earliest on ties). */
  bestEpoch: number;
  /** Val top-1 at the best epoch. */
  bestValTop1: number;
  /** Per-epoch log. */
  log: LwsEpochLog[];
}

/** LWS logits for one [rows × C] chunk of base logits, in place: z = s ⊙ L. */
export function applyScales(l: Float32Array, rows: number, scales: ArrayLike<number>): Float32Array {
  const c = scales.length;
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) l[i * c + j] *= scales[j];
  return l;
}

export function trainLws(args: LwsArgs): LwsResult {
  const where = "lws";
  const { train, val, numClasses: c, stage1 } = args;
  const o = resolveHeadOptions(where, args, LWS_DEFAULT_EPOCHS);
  const { batchSize: bs, momentum, weightDecay: wd, engine } = o;
  const d = train.dim;
  if (stage1.weight.length !== c * d)
    throw new Error(`${where}: stage1.weight has ${stage1.weight.length} values, expected ${c} × ${d}`);
  if (stage1.bias.length !== c)
    throw new Error(`${where}: stage1.bias has ${stage1.bias.length} values, expected ${c}`);
  const maxCache = args.maxCacheBytes ?? LWS_DEFAULT_MAX_CACHE_BYTES;

  const linear = { weight: stage1.weight, bias: stage1.bias, numClasses: c, dim: d, engine };
  const trainCache = train.n * c * 4 <= maxCache ? linearLogits(linear, train.feats, train.n) : null;
  const valCache = val.n * c * 4 <= maxCache ? linearLogits(linear, val.feats, val.n) : null;
  const gemm = trainCache ? null : new RowGemm(transpose(stage1.weight, c, d), d, c, engine);

  const scales = new Float32Array(c).fill(1);
  const opt = new SgdMomentum(c, momentum, wd);
  const base = new Float32Array(bs * c);
  const z = new Float32Array(bs * c);
  const xb = trainCache ? null : new Float32Array(bs * d);
  const yb = new Int32Array(bs);
  const gs = new Float32Array(c);
  try {
    const r = runHeadEpochs({
      opts: o,
      labels: train.labels,
      numClasses: c,
      step: (idx, lr) => {
        if (trainCache) gatherRows(trainCache, c, idx, base);
        else {
          gatherRows(train.feats, d, idx, xb!);
          gemm!.mul(xb!, bs, base);
          for (let i = 0; i < bs; i++) for (let j = 0; j < c; j++) base[i * c + j] += stage1.bias[j];
        }
        for (let k = 0; k < bs; k++) yb[k] = train.labels[idx[k]];
        z.set(base);
        applyScales(z, bs, scales);
        const res = softmaxCrossEntropyGrad(z, bs, c, yb);
        gs.fill(0);
        for (let i = 0; i < bs; i++) for (let j = 0; j < c; j++) gs[j] += z[i * c + j] * base[i * c + j];
        opt.step(scales, gs, lr);
        return res;
      },
      valTop1: () => {
        let ok = 0;
        if (valCache) {
          const row = new Float32Array(c);
          for (let i = 0; i < val.n; i++) {
            for (let j = 0; j < c; j++) row[j] = valCache[i * c + j] * scales[j];
            if (argmaxRow(row, 0, c) === val.labels[i]) ok++;
          }
        } else {
          forEachLinearChunk({ ...linear, scale: scales }, val.feats, val.n, (l, r0, rows) => {
            for (let i = 0; i < rows; i++) if (argmaxRow(l, i, c) === val.labels[r0 + i]) ok++;
          });
        }
        return val.n > 0 ? ok / val.n : 0;
      },
      snapshot: () => scales.slice(),
      onEpoch: args.onEpoch,
    });
    return { scales: r.best, bestEpoch: r.bestEpoch, bestValTop1: r.bestValTop1, log: r.log };
  } finally {
    gemm?.dispose();
  }
}
