/**
 * cRT on features (spec §7.2, §9.3): a freshly initialised linear layer with bias, trained on frozen features with
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
 * Note: features are fixed, so "frozen backbone with BN in train mode" (spec §15.1) is not reproduced here: cRT on
 * features corresponds to the backbone in eval mode and no augmentation.
 */
import { Rng } from "../rng.js";
import { checkFeatureSet, checkLabels, type FeatureSet } from "../features/types.js";
import { samplers } from "../samplers/registry.js";
import { gemm, gemmTN, transpose, type GemmEngine } from "./gemm.js";
import { linearPredict } from "./linear.js";
import { SgdMomentum, checkPositive, cosineLr, gatherRows, softmaxCrossEntropyGrad } from "./train-utils.js";

/** cRT hyper-parameters (defaults: ImageNet-LT `cls_crt.yaml`). */
export interface CrtOptions {
  /** Epochs (10; iNaturalist 30). */
  epochs?: number;
  /** Batch size (512; Places-LT 256). */
  batchSize?: number;
  /** Initial learning rate (0.2; Places-LT 0.1). */
  lr?: number;
  /** SGD momentum (0.9). */
  momentum?: number;
  /** Coupled weight decay on weight and bias (5e-4; iNaturalist 1e-4). */
  weightDecay?: number;
  /** Seed of the initialisation and the sampler (0). */
  seed?: number;
  /** Rows per class visit of the class-balanced sampler (4). */
  samplesPerClass?: number;
  /** GEMM engine (default "auto"). */
  engine?: GemmEngine;
}

/** Arguments of {@link trainCrt}. */
export interface CrtArgs extends CrtOptions {
  /** Training features (the class-balanced stream samples these rows). */
  train: FeatureSet;
  /** Validation features (best epoch by top-1). */
  val: FeatureSet;
  /** Number of classes C. */
  numClasses: number;
  /** Called after every epoch with its log entry (progress display, checkpoints). */
  onEpoch?: (log: CrtEpochLog) => void;
}

/** One epoch of training. */
export interface CrtEpochLog {
  /** 1-based epoch number. */
  epoch: number;
  /** Learning rate used in this epoch. */
  lr: number;
  /** Mean training cross-entropy over the epoch's steps. */
  loss: number;
  /** Training top-1 on the sampled batches (before each update). */
  trainTop1: number;
  /** Validation top-1 after the epoch. */
  valTop1: number;
}

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
  const where = "crt";
  const { train, val, numClasses: c } = args;
  checkFeatureSet(train, `${where} train features`);
  checkFeatureSet(val, `${where} val features`);
  checkLabels(train.labels, c, `${where} train labels`);
  checkLabels(val.labels, c, `${where} val labels`);
  if (val.dim !== train.dim) throw new Error(`${where}: val dim ${val.dim} differs from train dim ${train.dim}`);
  const epochs = args.epochs ?? 10;
  const bs = args.batchSize ?? 512;
  const lr0 = args.lr ?? 0.2;
  const momentum = args.momentum ?? 0.9;
  const wd = args.weightDecay ?? 5e-4;
  const seed = args.seed ?? 0;
  const engine = args.engine ?? "auto";
  checkPositive(where, "epochs", epochs);
  checkPositive(where, "batchSize", bs);
  checkPositive(where, "lr", lr0);
  checkPositive(where, "momentum", momentum, true);
  checkPositive(where, "weightDecay", wd, true);
  if (train.n < bs) throw new Error(`${where}: ${train.n} training rows is fewer than one batch of ${bs}; lower batchSize`);
  const d = train.dim;

  const { wt, bias } = initLinear(d, c, seed);
  const sampler = samplers.get("class_balanced")({ labels: train.labels, numClasses: c, batchSize: bs, seed: seed + 1, numEpochs: epochs, numSamplesCls: args.samplesPerClass ?? 4 });
  const optW = new SgdMomentum(wt.length, momentum, wd);
  const optB = new SgdMomentum(c, momentum, wd);
  // Step buffers, allocated once: the batch, its labels, logits/gradient Z, ∂Wᵀ, ∂b, and the transpose scratch.
  const xb = new Float32Array(bs * d);
  const yb = new Int32Array(bs);
  const z = new Float32Array(bs * c);
  const gW = new Float32Array(d * c);
  const gb = new Float32Array(c);
  const scratch = new Float32Array(d * bs);

  const log: CrtEpochLog[] = [];
  let best = { epoch: 0, top1: -1, weight: new Float32Array(0), bias: new Float32Array(0) };
  for (let e = 0; e < epochs; e++) {
    const lr = cosineLr(lr0, e, epochs);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (const idx of sampler.epoch(e)) {
      gatherRows(train.feats, d, idx, xb);
      for (let k = 0; k < bs; k++) yb[k] = train.labels[idx[k]];
      gemm(xb, bs, d, wt, c, engine, z);
      const r = softmaxCrossEntropyGrad(z, bs, c, yb, { bias, dBias: gb }); // z now holds G, gb = Σ_rows G
      lossSum += r.lossSum;
      correct += r.correct;
      seen += bs;
      gemmTN(xb, bs, d, z, c, engine, gW, scratch);
      optW.step(wt, gW, lr);
      optB.step(bias, gb, lr);
    }
    const weight = transpose(wt, d, c);
    const preds = linearPredict({ weight, bias, numClasses: c, dim: d, engine }, val.feats, val.n);
    let ok = 0;
    for (let i = 0; i < val.n; i++) if (preds[i] === val.labels[i]) ok++;
    const entry: CrtEpochLog = { epoch: e + 1, lr, loss: lossSum / seen, trainTop1: correct / seen, valTop1: val.n > 0 ? ok / val.n : 0 };
    log.push(entry);
    args.onEpoch?.(entry);
    if (entry.valTop1 > best.top1) best = { epoch: e + 1, top1: entry.valTop1, weight, bias: bias.slice() };
  }
  return { weight: best.weight, bias: best.bias, bestEpoch: best.epoch, bestValTop1: best.top1, log };
}
