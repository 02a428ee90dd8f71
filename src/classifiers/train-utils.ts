/**
 * Pieces shared by the trained stage-2 classifiers (cRT, LWS): PyTorch-style SGD with momentum and coupled weight
 * decay, the per-epoch cosine schedule, the softmax cross-entropy gradient, and row gathering.
 */

import { checkFeatureSet, checkLabels, type FeatureSet } from "../features/types.js";
import { samplers } from "../samplers/registry.js";
import { cosineLr } from "../schedule.js";
import type { GemmEngine } from "./gemm.js";
import { sgdMomentumStep, softmaxXentGrad } from "./ops.js";

/**
 * SGD hyper-parameters of a linear head trained on fixed features: `epochs` with a per-epoch cosine learning rate
 * from `lr`, mini-batches of `batchSize`, PyTorch momentum and coupled weight decay, one seed. Each trainer documents
 * its defaults.
 */
export interface FeatureSgdOptions {
  /** Epochs. */
  epochs?: number;
  /** Batch size. */
  batchSize?: number;
  /** Initial learning rate (cosine-decayed per epoch). */
  lr?: number;
  /** SGD momentum. */
  momentum?: number;
  /** Coupled weight decay on the trained parameters. */
  weightDecay?: number;
  /** Seed of the initialisation (where there is one) and the sampler. */
  seed?: number;
}

/** {@link FeatureSgdOptions} of the re-balancing heads (cRT, LWS), which draw class-balanced batches. */
export interface BalancedHeadOptions extends FeatureSgdOptions {
  /** Rows per class visit of the class-balanced sampler (4). */
  samplesPerClass?: number;
  /** GEMM engine (default "auto"). */
  engine?: GemmEngine;
  /** Cosine-decay the learning rate per epoch (true), or keep it constant (false); config `coslr`. */
  coslr?: boolean;
  /** Floor of the cosine schedule (0); config `endlr`. */
  endLr?: number;
}

/** {@link BalancedHeadOptions} with every default applied. */
export type ResolvedHeadOptions = Required<BalancedHeadOptions>;

/** The defaults of a balanced head but its epochs (which differ per head): ImageNet-LT `cls_crt.yaml` / `cls_lws.yaml`. */
export const BALANCED_HEAD_DEFAULTS: Readonly<Omit<ResolvedHeadOptions, "epochs">> = {
  batchSize: 512,
  lr: 0.2,
  momentum: 0.9,
  weightDecay: 5e-4,
  seed: 0,
  samplesPerClass: 4,
  engine: "auto",
  coslr: true,
  endLr: 0,
};

/**
 * Check the inputs of a balanced head and apply its defaults (batch 512, lr 0.2, momentum 0.9, weight decay 5e-4,
 * seed 0, 4 rows per class visit, engine "auto"; the epochs differ per head). Errors name the head and the key.
 */
export function resolveHeadOptions(
  where: string,
  args: BalancedHeadOptions & { train: FeatureSet; val: FeatureSet; numClasses: number },
  defaultEpochs: number,
): ResolvedHeadOptions {
  const { train, val, numClasses: c } = args;
  const D = BALANCED_HEAD_DEFAULTS;
  checkFeatureSet(train, `${where} train features`);
  checkFeatureSet(val, `${where} val features`);
  checkLabels(train.labels, c, `${where} train labels`);
  checkLabels(val.labels, c, `${where} val labels`);
  if (val.dim !== train.dim) throw new Error(`${where}: val dim ${val.dim} differs from train dim ${train.dim}`);
  const o: ResolvedHeadOptions = {
    epochs: args.epochs ?? defaultEpochs,
    batchSize: args.batchSize ?? D.batchSize,
    lr: args.lr ?? D.lr,
    momentum: args.momentum ?? D.momentum,
    weightDecay: args.weightDecay ?? D.weightDecay,
    seed: args.seed ?? D.seed,
    samplesPerClass: args.samplesPerClass ?? D.samplesPerClass,
    engine: args.engine ?? D.engine,
    coslr: args.coslr ?? D.coslr,
    endLr: args.endLr ?? D.endLr,
  };
  checkPositive(where, "epochs", o.epochs);
  checkPositive(where, "batchSize", o.batchSize);
  checkPositive(where, "lr", o.lr);
  checkPositive(where, "momentum", o.momentum, true);
  checkPositive(where, "weightDecay", o.weightDecay, true);
  checkPositive(where, "endLr", o.endLr, true);
  if (train.n < o.batchSize)
    throw new Error(`${where}: ${train.n} training rows is fewer than one batch of ${o.batchSize}; lower batchSize`);
  return o;
}

/** One epoch of a balanced head's training. */
export interface HeadEpochLog {
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

/** Arguments of {@link runHeadEpochs}. */
export interface HeadEpochsArgs<S> {
  /** Resolved options (epochs, lr, batch size, seed, rows per class visit). */
  opts: ResolvedHeadOptions;
  /** Training labels, which the class-balanced sampler draws batches from. */
  labels: Int32Array;
  /** Number of classes C. */
  numClasses: number;
  /** Train on one batch at learning rate `lr`; returns its summed loss and rows predicted correctly. */
  step: (idx: Int32Array, lr: number) => { lossSum: number; correct: number };
  /** Val top-1 of the current parameters. */
  valTop1: () => number;
  /** A copy of the current parameters (taken when an epoch beats every earlier one on val). */
  snapshot: () => S;
  /** Called after every epoch with its log entry and the loop's progress (for an ETA; never part of the results). */
  onEpoch?: (log: HeadEpochLog, progress: HeadEpochProgress) => void;
}

/** Where the epoch loop stands when it reports an epoch: its epoch count and the seconds since it began. */
export interface HeadEpochProgress {
  epochs: number;
  elapsedS: number;
}

/**
 * The epoch loop of the balanced heads (cRT, LWS): class-balanced batches (sampler seed = seed + 1), per-epoch cosine
 * lr, every batch through `step`, val top-1 after each epoch, and the parameters of the best-val epoch (the earliest
 * on ties) kept via `snapshot`.
 */
export function runHeadEpochs<S>(a: HeadEpochsArgs<S>): {
  best: S;
  bestEpoch: number;
  bestValTop1: number;
  log: HeadEpochLog[];
} {
  const { epochs, lr: lr0, batchSize, seed, samplesPerClass } = a.opts;
  const sampler = samplers.get("class_balanced")({
    labels: a.labels,
    numClasses: a.numClasses,
    batchSize,
    seed: seed + 1,
    numEpochs: epochs,
    numSamplesCls: samplesPerClass,
  });
  const log: HeadEpochLog[] = [];
  let best: { epoch: number; top1: number; params: S | null } = { epoch: 0, top1: -1, params: null };
  const t0 = Date.now();
  for (let e = 0; e < epochs; e++) {
    const lr = a.opts.coslr ? cosineLr(lr0, e, epochs, a.opts.endLr) : lr0;
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (const idx of sampler.epoch(e)) {
      const r = a.step(idx, lr);
      lossSum += r.lossSum;
      correct += r.correct;
      seen += idx.length;
    }
    const entry: HeadEpochLog = {
      epoch: e + 1,
      lr,
      loss: lossSum / seen,
      trainTop1: correct / seen,
      valTop1: a.valTop1(),
    };
    log.push(entry);
    a.onEpoch?.(entry, { epochs, elapsedS: (Date.now() - t0) / 1000 });
    if (entry.valTop1 > best.top1) best = { epoch: e + 1, top1: entry.valTop1, params: a.snapshot() };
  }
  return { best: best.params as S, bestEpoch: best.epoch, bestValTop1: best.top1, log };
}

/**
 * SGD with momentum as PyTorch: v ← μ·v + (g + wd·θ); θ ← θ − lr·v (v starts at 0, so the first step is v = g + wd·θ).
 * Weight decay is coupled (added to the gradient) and applies to every parameter it is given, bias included. The
 * step itself is ops.ts `sgdMomentumStep` (native or JS, bit for bit the same).
 */
export class SgdMomentum {
  private readonly v: Float32Array;
  constructor(
    size: number,
    readonly momentum: number,
    readonly weightDecay: number,
  ) {
    this.v = new Float32Array(size);
  }
  step(param: Float32Array, grad: Float32Array, lr: number): void {
    const { v, momentum: mu, weightDecay: wd } = this;
    if (param.length !== v.length || grad.length !== v.length)
      throw new Error(`SgdMomentum: size mismatch (${param.length}, ${grad.length}, ${v.length})`);
    sgdMomentumStep(param, grad, v, lr, mu, wd);
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
 * Returns the summed loss and the number of rows whose arg-max equals the label (computed before the update); the
 * arithmetic is ops.ts `softmaxXentGrad`.
 */
export function softmaxCrossEntropyGrad(
  z: Float32Array,
  rows: number,
  c: number,
  labels: ArrayLike<number>,
  opts: SoftmaxCeOptions = {},
): { lossSum: number; correct: number } {
  const { bias, dBias } = opts;
  if ((bias && bias.length < c) || (dBias && dBias.length < c))
    throw new Error(`softmaxCrossEntropyGrad: bias arrays need ${c} values`);
  return softmaxXentGrad(z, rows, c, labels, bias ?? null, dBias ?? null);
}

/** Copy rows `idx` of a row-major [* × d] matrix into `out` [idx.length × d]. */
export function gatherRows(
  src: Float32Array,
  d: number,
  idx: Int32Array,
  out = new Float32Array(idx.length * d),
): Float32Array {
  for (let k = 0; k < idx.length; k++) out.set(src.subarray(idx[k] * d, idx[k] * d + d), k * d);
  return out;
}

/** Validate a numeric hyper-parameter; the error names the classifier and key. */
export function checkPositive(where: string, key: string, v: number, allowZero = false): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`${where}: ${key} must be a ${allowZero ? "non-negative" : "positive"} number, got ${v}`);
  }
}
