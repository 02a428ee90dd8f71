/**
 * LWS on features (spec §7.3, §9.5): per-class scales s (init 1) on the frozen stage-1 logits INCLUDING bias,
 * z_j = s_j·(w_j·x + b_j). Only s is trained: class-balanced sampler, SGD momentum, coupled weight decay on s,
 * per-epoch cosine lr, mean softmax cross-entropy, best epoch by val top-1.
 *
 * With L = X·Wᵀ + b fixed, ∂loss/∂s_j = Σ_i G_ij·L_ij where G = (softmax(z) − Y)/B, so training only needs the base
 * logits of the sampled rows. Each epoch visits ≈ N rows, so when the N × C base logits fit in `maxCacheBytes`
 * (ImageNet-LT: 115,846 × 1,000 × 4 B = 463 MB) they are computed once — one epoch's worth of GEMM — and every
 * epoch after that is GEMM-free; otherwise each batch's logits are computed on the fly. Val logits are cached
 * under the same rule.
 */
import { checkFeatureSet, checkLabels, type FeatureSet } from "../features/types.js";
import { RowGemm, argmaxRow, transpose, type GemmEngine } from "./gemm.js";
import { forEachLinearChunk, linearLogits } from "./linear.js";
import { samplers } from "../samplers/registry.js";
import { SgdMomentum, checkPositive, cosineLr, gatherRows, softmaxCrossEntropyGrad } from "./train-utils.js";

/** LWS hyper-parameters (defaults: ImageNet-LT `cls_lws.yaml`). */
export interface LwsOptions {
  /** Epochs (5). */
  epochs?: number;
  /** Batch size (512; Places-LT 256). */
  batchSize?: number;
  /** Initial learning rate (0.2; Places-LT 0.1). */
  lr?: number;
  /** SGD momentum (0.9). */
  momentum?: number;
  /** Coupled weight decay on s (5e-4; iNaturalist 1e-4). */
  weightDecay?: number;
  /** Sampler seed (0). */
  seed?: number;
  /** Rows per class visit of the class-balanced sampler (4). */
  samplesPerClass?: number;
  /** Largest base-logit cache (bytes) per split; 0 disables caching (default 1 GiB). */
  maxCacheBytes?: number;
  /** GEMM engine (default "auto"). */
  engine?: GemmEngine;
}

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
  onEpoch?: (log: LwsEpochLog) => void;
}

/** One epoch of LWS training. */
export interface LwsEpochLog {
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
  checkFeatureSet(train, `${where} train features`);
  checkFeatureSet(val, `${where} val features`);
  checkLabels(train.labels, c, `${where} train labels`);
  checkLabels(val.labels, c, `${where} val labels`);
  const d = train.dim;
  if (stage1.weight.length !== c * d) throw new Error(`${where}: stage1.weight has ${stage1.weight.length} values, expected ${c} × ${d}`);
  if (stage1.bias.length !== c) throw new Error(`${where}: stage1.bias has ${stage1.bias.length} values, expected ${c}`);
  const epochs = args.epochs ?? 5;
  const bs = args.batchSize ?? 512;
  const lr0 = args.lr ?? 0.2;
  const momentum = args.momentum ?? 0.9;
  const wd = args.weightDecay ?? 5e-4;
  const seed = args.seed ?? 0;
  const engine = args.engine ?? "auto";
  const maxCache = args.maxCacheBytes ?? 2 ** 30;
  checkPositive(where, "epochs", epochs);
  checkPositive(where, "batchSize", bs);
  checkPositive(where, "lr", lr0);
  checkPositive(where, "momentum", momentum, true);
  checkPositive(where, "weightDecay", wd, true);
  if (train.n < bs) throw new Error(`${where}: ${train.n} training rows is fewer than one batch of ${bs}; lower batchSize`);

  const linear = { weight: stage1.weight, bias: stage1.bias, numClasses: c, dim: d, engine };
  const trainCache = train.n * c * 4 <= maxCache ? linearLogits(linear, train.feats, train.n) : null;
  const valCache = val.n * c * 4 <= maxCache ? linearLogits(linear, val.feats, val.n) : null;
  const gemm = trainCache ? null : new RowGemm(transpose(stage1.weight, c, d), d, c, engine);

  const scales = new Float32Array(c).fill(1);
  const opt = new SgdMomentum(c, momentum, wd);
  const sampler = samplers.get("class_balanced")({ labels: train.labels, numClasses: c, batchSize: bs, seed: seed + 1, numEpochs: epochs, numSamplesCls: args.samplesPerClass ?? 4 });
  const base = new Float32Array(bs * c);
  const z = new Float32Array(bs * c);
  const xb = trainCache ? null : new Float32Array(bs * d);
  const yb = new Int32Array(bs);
  const gs = new Float32Array(c);
  const log: LwsEpochLog[] = [];
  let best = { epoch: 0, top1: -1, scales: scales.slice() };
  try {
    for (let e = 0; e < epochs; e++) {
      const lr = cosineLr(lr0, e, epochs);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (const idx of sampler.epoch(e)) {
        if (trainCache) gatherRows(trainCache, c, idx, base);
        else {
          gatherRows(train.feats, d, idx, xb!);
          base.set(gemm!.mul(xb!, bs));
          for (let i = 0; i < bs; i++) for (let j = 0; j < c; j++) base[i * c + j] += stage1.bias[j];
        }
        for (let k = 0; k < bs; k++) yb[k] = train.labels[idx[k]];
        z.set(base);
        applyScales(z, bs, scales);
        const r = softmaxCrossEntropyGrad(z, bs, c, yb);
        lossSum += r.lossSum;
        correct += r.correct;
        seen += bs;
        gs.fill(0);
        for (let i = 0; i < bs; i++) for (let j = 0; j < c; j++) gs[j] += z[i * c + j] * base[i * c + j];
        opt.step(scales, gs, lr);
      }
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
      const entry: LwsEpochLog = { epoch: e + 1, lr, loss: lossSum / seen, trainTop1: correct / seen, valTop1: val.n > 0 ? ok / val.n : 0 };
      log.push(entry);
      args.onEpoch?.(entry);
      if (entry.valTop1 > best.top1) best = { epoch: e + 1, top1: entry.valTop1, scales: scales.slice() };
    }
  } finally {
    gemm?.dispose();
  }
  return { scales: best.scales, bestEpoch: best.epoch, bestValTop1: best.top1, log };
}
