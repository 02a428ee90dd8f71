/**
 * A small synthetic long-tailed *feature* benchmark: the stand-in notebook 07 uses when no ImageNet-LT features
 * are available. It mimics what the decoupled classifiers see after stage 1 — a frozen representation in which
 * classes form clusters, a long-tailed training split, balanced val/test splits, and a jointly learned linear
 * classifier that is biased toward the head — without any network or image data.
 *
 *  - Class counts: the exponential long-tail profile of the library (`longTailCounts`), by default 100 classes
 *    from 500 down to 5 images (imbalance factor 100), which puts classes in all three shot groups.
 *  - Features: class j has a mean μ_j ~ N(0, separation² I_d); a sample is μ_j + N(0, I_d). Val and test are
 *    balanced (like ImageNet-LT's 20 and 50 images per class).
 *  - The "joint" classifier: a linear softmax layer trained on the frozen features with instance-balanced SGD,
 *    as stage 1 trains its classifier. Why not a closed-form least-squares fit: its scores are on a probability
 *    scale where the additive prior n_j/N dominates, which makes it far more head-biased than a softmax layer
 *    (All accuracy collapsed to a third of NCM's in a trial) and unlike the paper's joint classifier.
 *
 * Everything is seeded: the same arguments always give bit-identical features and weights.
 */
import type { FeatureSgdOptions } from "../classifiers/train-utils.js";
import { longTailCounts } from "../data/longtail.js";
import type { FeatureSet } from "../features/types.js";
import { Rng } from "../rng.js";

/** Arguments of {@link syntheticLongTail}; every field has a default. */
export interface SyntheticLongTailArgs {
  /** Number of classes C (default 100). */
  numClasses?: number;
  /** Feature dimension d (default 64). */
  dim?: number;
  /** Training images of the head class (default 500). */
  nMax?: number;
  /** Imbalance factor n_max / n_min of the exponential profile (default 100: 500 → 5). */
  imbFactor?: number;
  /** Balanced validation images per class (default 20, as ImageNet-LT). */
  valPerClass?: number;
  /** Balanced test images per class (default 50, as ImageNet-LT). */
  testPerClass?: number;
  /** Standard deviation of the class means around the origin; the within-class noise is 1 (default 0.4). */
  separation?: number;
  /** Training of the joint classifier (defaults of {@link SoftmaxJointArgs}; its seed defaults to `seed`). */
  joint?: SoftmaxJointArgs;
  /** Seed of the class means and samples (default 0). */
  seed?: number;
}

/**
 * A stage-2 benchmark on features: three splits, the training counts, and the joint (stage-1) linear classifier.
 * Built synthetically here ({@link SyntheticLongTail}) or loaded from exported features (`ImportedFeatures`).
 */
export interface FeatureBenchmark {
  /** Long-tailed training features. */
  train: FeatureSet;
  /** Validation features (selection only). */
  val: FeatureSet;
  /** Test features (reported). */
  test: FeatureSet;
  /** Training images per class n_j. */
  trainCounts: number[];
  /** Number of classes C. */
  numClasses: number;
  /** The joint classifier: weight [C × d] row-major (row j = w_j) and bias [C]. */
  stage1: { weight: Float32Array; bias: Float32Array };
  /** One line describing the benchmark (for notebook output). */
  description: string;
}

/** The synthetic benchmark (balanced val/test, counts descending). */
export type SyntheticLongTail = FeatureBenchmark;

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min)
    throw new Error(`syntheticLongTail: ${name} must be an integer >= ${min}, got ${v}`);
}

/** Draw `perClass[j]` samples of each class j around its mean (rows grouped by class, in class order). */
function drawSplit(means: Float64Array, dim: number, perClass: number[], rng: Rng): FeatureSet {
  const n = perClass.reduce((a, b) => a + b, 0);
  const feats = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  const indices = new Int32Array(n);
  let row = 0;
  perClass.forEach((count, j) => {
    for (let k = 0; k < count; k++, row++) {
      labels[row] = j;
      indices[row] = row;
      for (let t = 0; t < dim; t++) feats[row * dim + t] = means[j * dim + t] + rng.normal();
    }
  });
  return { feats, dim, labels, indices, n };
}

/**
 * Hyper-parameters of {@link softmaxJoint}: 6 epochs, batch 128, lr 0.1 cosine-decayed to 0, momentum 0.9, weight
 * decay 5e-4 on the weights (as the paper's stage 1), shuffle seed 0.
 */
export type SoftmaxJointArgs = FeatureSgdOptions;

/**
 * The joint classifier: a linear softmax layer trained with plain instance-balanced SGD (a fresh shuffle of all
 * training rows every epoch), mean cross-entropy, momentum and weight decay — stage 1 of the paper with the
 * representation frozen. Head classes dominate the gradient, so their weight norms grow and the tail's shrink.
 * Zero initialisation keeps it free of an init seed; plain JS, float64 parameters (small: C × d).
 */
export function softmaxJoint(
  train: FeatureSet,
  numClasses: number,
  args: SoftmaxJointArgs = {},
): { weight: Float32Array; bias: Float32Array } {
  const epochs = args.epochs ?? 6;
  const bs = args.batchSize ?? 128;
  const lr0 = args.lr ?? 0.1;
  const mom = args.momentum ?? 0.9;
  const wd = args.weightDecay ?? 5e-4;
  checkInt("epochs", epochs, 1);
  checkInt("batchSize", bs, 1);
  const d = train.dim;
  const c = numClasses;
  const w = new Float64Array(c * d);
  const b = new Float64Array(c);
  const vw = new Float64Array(c * d);
  const vb = new Float64Array(c);
  const gw = new Float64Array(c * d);
  const gb = new Float64Array(c);
  const z = new Float64Array(c);
  const xr = new Float64Array(d);
  const feats = train.feats;
  const rng = new Rng(args.seed ?? 0);
  for (let e = 0; e < epochs; e++) {
    const lr = 0.5 * lr0 * (1 + Math.cos((Math.PI * e) / epochs));
    const order = rng.permutation(train.n);
    for (let start = 0; start < train.n; start += bs) {
      const end = Math.min(train.n, start + bs);
      const inv = 1 / (end - start);
      gw.fill(0);
      gb.fill(0);
      for (let k = start; k < end; k++) {
        const row = order[k];
        const x = row * d;
        for (let t = 0; t < d; t++) xr[t] = feats[x + t];
        let zmax = -Infinity;
        for (let j = 0; j < c; j++) {
          let s = b[j];
          const wj = j * d;
          for (let t = 0; t < d; t++) s += w[wj + t] * xr[t];
          z[j] = s;
          if (s > zmax) zmax = s;
        }
        let sum = 0;
        for (let j = 0; j < c; j++) {
          const ez = Math.exp(z[j] - zmax);
          z[j] = ez;
          sum += ez;
        }
        const y = train.labels[row];
        const scale = inv / sum;
        for (let j = 0; j < c; j++) {
          const g = z[j] * scale - (j === y ? inv : 0);
          gb[j] += g;
          const wj = j * d;
          for (let t = 0; t < d; t++) gw[wj + t] += g * xr[t];
        }
      }
      for (let i = 0; i < w.length; i++) {
        vw[i] = mom * vw[i] + gw[i] + wd * w[i];
        w[i] -= lr * vw[i];
      }
      for (let j = 0; j < c; j++) {
        vb[j] = mom * vb[j] + gb[j];
        b[j] -= lr * vb[j];
      }
    }
  }
  return { weight: Float32Array.from(w), bias: Float32Array.from(b) };
}

/** Build the seeded synthetic long-tailed feature benchmark (see the module comment). */
export function syntheticLongTail(args: SyntheticLongTailArgs = {}): SyntheticLongTail {
  const C = args.numClasses ?? 100;
  const d = args.dim ?? 64;
  const nMax = args.nMax ?? 500;
  const imbFactor = args.imbFactor ?? 100;
  const valPer = args.valPerClass ?? 20;
  const testPer = args.testPerClass ?? 50;
  const separation = args.separation ?? 0.4;
  const seed = args.seed ?? 0;
  checkInt("numClasses", C, 2);
  checkInt("dim", d, 1);
  checkInt("valPerClass", valPer, 1);
  checkInt("testPerClass", testPer, 1);
  checkInt("seed", seed, 0);
  if (!(separation > 0)) throw new Error(`syntheticLongTail: separation must be > 0, got ${separation}`);
  const trainCounts = longTailCounts({ nMax, numClasses: C, imbFactor, profile: "exp" });

  // Separate streams per purpose, so changing e.g. the test size leaves the means and the train split unchanged.
  const root = new Rng(seed);
  const meanRng = root.fork(1);
  const means = new Float64Array(C * d);
  for (let i = 0; i < means.length; i++) means[i] = separation * meanRng.normal();
  const train = drawSplit(means, d, trainCounts, root.fork(2));
  const val = drawSplit(means, d, new Array<number>(C).fill(valPer), root.fork(3));
  const test = drawSplit(means, d, new Array<number>(C).fill(testPer), root.fork(4));
  const stage1 = softmaxJoint(train, C, { seed, ...args.joint });
  const description =
    `synthetic long-tailed features: ${C} classes, d = ${d}, train ${train.n} images (exp profile ${trainCounts[0]} → ${trainCounts[C - 1]}), ` +
    `val ${valPer}/class, test ${testPer}/class; Gaussian class clusters (mean spread ${separation}, noise 1), seed ${seed}; ` +
    `joint classifier = softmax layer trained with instance-balanced SGD`;
  return { train, val, test, trainCounts, numClasses: C, stage1, description };
}
