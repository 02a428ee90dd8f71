/**
 * cRT on features (docs/ARCHITECTURE.md, "The five classifiers"): a freshly initialised linear layer with bias, trained on frozen features with
 * the class-balanced sampler, SGD momentum + coupled weight decay (weight and bias), per-epoch cosine lr, mean
 * softmax cross-entropy, ⌊N/B⌋ steps per epoch; the epoch with the best val top-1 is returned.
 *
 * Forward and backward are analytical around two GEMMs per step (src/classifiers/gemm.ts picks the engine):
 *   Z = X_b·Wᵀ + b          (the weight is kept as Wᵀ [d, C])
 *   G = (softmax(Z) − Y)/B  (in place; native when the addon loaded)
 *   ∂Wᵀ = X_bᵀ·G            (native: a transposed SGEMM; tfjs/JS: X_b transposed first)   ∂b = Σ_rows G
 * then the SGD update (native when the addon loaded). This avoids tfjs autodiff bookkeeping and, with the native
 * addon, every upload and download: a 512 × 2,048 → 1,000 step costs two SGEMMs plus a few milliseconds.
 *
 * Note: features are fixed, so "frozen backbone with BN in train mode" (docs/ARCHITECTURE.md, "Training mechanics") is not reproduced here: cRT on
 * features corresponds to the backbone in eval mode and no augmentation.
 */

import type { FeatureSet } from "../features/types.js";
import { Rng } from "../rng.js";
import { gemm, gemmTN, transpose } from "./gemm.js";
import { linearPredict } from "./linear.js";
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
 * cRT hyper-parameters; defaults from ImageNet-LT `cls_crt.yaml`: 10 epochs (iNaturalist 30), batch 512 (Places-LT
 * 256), lr 0.2 (Places-LT 0.1), momentum 0.9, weight decay 5e-4 on weight and bias (iNaturalist 1e-4), seed 0.
 */
export type CrtOptions = BalancedHeadOptions;

/** cRT's epochs when none are given (ImageNet-LT `cls_crt.yaml`). */
export const CRT_DEFAULT_EPOCHS = 10;

/** Arguments of {@link trainCrt}. */
export interface CrtArgs extends CrtOptions {
  /** Training features (the class-balanced stream samples these rows). */
  train: FeatureSet;
  /** Validation features (best epoch by top-1). */
  val: FeatureSet;
  /** Number of classes C. */
  numClasses: number;
  /** Called after every epoch with its log entry (progress display, checkpoints). */
  onEpoch?: (log: CrtEpochLog, progress: HeadEpochProgress) => void;
}

/** One epoch of cRT training. */
export type CrtEpochLog = HeadEpochLog;

/** A trained cRT classifier (the best-val epoch's parameters). */
export interface CrtResult {
  /** Weight [C × d] (PyTorch layout). */
  weight: Float32Array;
  /** Bias [C]. */
  bias: Float32Array;
  /** 1-based epoch whose parameters are returned (earliest on ties). */
  bestEpoch: number;
  /** Val top-1 of that epoch. */
  bestValTop1: number;
  /** Per-epoch log. */
  log: CrtEpochLog[];
}

/** PyTorch `nn.Linear` default init: weight and bias ~ U(−1/√d, 1/√d). Returns Wᵀ [d × C] and b. */
export function initLinear(dim: number, numClasses: number, seed: number): { wt: Float32Array; bias: Float32Array } {
  const rng = new Rng(seed);
  const bound = 1 / Math.sqrt(dim);
  const w = new Float32Array(numClasses * dim);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
  const bias = new Float32Array(numClasses);
  for (let j = 0; j < numClasses; j++) bias[j] = rng.uniform(-bound, bound);
  return { wt: transpose(w, numClasses, dim), bias };
}

export function trainCrt(args: CrtArgs): CrtResult {
  const { train, val, numClasses: c } = args;
  const o = resolveHeadOptions("crt", args, CRT_DEFAULT_EPOCHS);
  const { batchSize: bs, momentum, weightDecay: wd, engine } = o;
  const d = train.dim;

  const { wt, bias } = initLinear(d, c, o.seed);
  const optW = new SgdMomentum(wt.length, momentum, wd);
  const optB = new SgdMomentum(c, momentum, wd);
  // Step buffers, allocated once: the batch, its labels, logits/gradient Z, ∂Wᵀ, ∂b, and the transpose scratch.
  const xb = new Float32Array(bs * d);
  const yb = new Int32Array(bs);
  const z = new Float32Array(bs * c);
  const gW = new Float32Array(d * c);
  const gb = new Float32Array(c);
  const scratch = new Float32Array(d * bs);

  let weight = new Float32Array(0); // the current W [C × d], refreshed for each validation
  const r = runHeadEpochs({
    opts: o,
    labels: train.labels,
    numClasses: c,
    step: (idx, lr) => {
      gatherRows(train.feats, d, idx, xb);
      for (let k = 0; k < bs; k++) yb[k] = train.labels[idx[k]];
      gemm(xb, bs, d, wt, c, engine, z);
      const res = softmaxCrossEntropyGrad(z, bs, c, yb, { bias, dBias: gb }); // z now holds G, gb = Σ_rows G
      gemmTN(xb, bs, d, z, c, engine, gW, scratch);
      optW.step(wt, gW, lr);
      optB.step(bias, gb, lr);
      return res;
    },
    valTop1: () => {
      weight = transpose(wt, d, c);
      const preds = linearPredict({ weight, bias, numClasses: c, dim: d, engine }, val.feats, val.n);
      let ok = 0;
      for (let i = 0; i < val.n; i++) if (preds[i] === val.labels[i]) ok++;
      return val.n > 0 ? ok / val.n : 0;
    },
    snapshot: () => ({ weight, bias: bias.slice() }),
    onEpoch: args.onEpoch,
  });
  return { weight: r.best.weight, bias: r.best.bias, bestEpoch: r.bestEpoch, bestValTop1: r.bestValTop1, log: r.log };
}
