/**
 * BatchNorm2d with PyTorch semantics: eps 1e-5; in training mode normalise with the biased batch variance
 * and update running stats as r ← (1-0.1)·r + 0.1·batch, using the *unbiased* variance for running_var.
 *
 * `apply(x, training, { relu, residual })` computes act(bn(x) + residual), the tail of every ResNet unit. In training
 * mode on the native layer that is one op (`bnAct`: statistics, normalisation, add and ReLU in two passes over the
 * activations, its gradient in two more) instead of moments, normalisation, add and ReLU as separate kernels with
 * separate gradients. Elsewhere `batchNormTrain` (one differentiable op with the closed-form gradient through the
 * batch statistics) is followed by plain tfjs add and ReLU.
 */
import * as tf from "@tensorflow/tfjs";
import {
  BN_ACT_GRAD_KERNEL,
  BN_ACT_KERNEL,
  BN_EVAL_KERNEL,
  BN_MOMENTS_KERNEL,
  BN_RUNNING_KERNEL,
  BN_TRAIN_GRAD_KERNEL,
} from "../kernels/native/batchnorm.js";
import type { ParamStore } from "./params.js";

/** PyTorch's BatchNorm2d defaults. */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** What follows the normalisation: y = relu?(bn(x) + residual?). */
export interface BnTail {
  /** Apply ReLU after the (optional) residual add (default false). */
  relu?: boolean;
  /** Added to the normalised output before the ReLU (same shape as x). */
  residual?: tf.Tensor4D;
}

export class BatchNorm2d {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  /** @param key PyTorch module path, e.g. "layer1.0.bn1" (variables "<key>.weight", ".bias", ".running_mean", ".running_var"). */
  constructor(
    private readonly store: ParamStore,
    private readonly key: string,
    channels: number,
  ) {
    const ones = new Float32Array(channels).fill(1);
    const zeros = new Float32Array(channels);
    this.gamma = store.add(`${key}.weight`, ones, [channels], true);
    this.beta = store.add(`${key}.bias`, zeros, [channels], true);
    this.runningMean = store.add(`${key}.running_mean`, zeros, [channels], false);
    this.runningVar = store.add(`${key}.running_var`, ones, [channels], false);
  }

  /** Throws, naming the layer, when the tail's residual does not have the normalised tensor's shape. */
  checkResidual(shape: readonly number[], tail: BnTail): void {
    if (tail.residual && !tf.util.arraysEqual(tail.residual.shape, shape as number[])) {
      throw new Error(
        `${this.store.model}: BatchNorm '${this.key}' residual has shape ${tail.residual.shape.join("x")}, input ${shape.join("x")}`,
      );
    }
  }

  apply(x: tf.Tensor4D, training: boolean, tail: BnTail = {}): tf.Tensor4D {
    this.checkResidual(x.shape, tail);
    const gamma = this.gamma as tf.Tensor1D;
    const beta = this.beta as tf.Tensor1D;
    if (!training) {
      // Inference (validation, feature extraction): normalisation, residual add and ReLU in one pass over x, with
      // the same bits as the three ops below (native/src/batchnorm.cc). The fused kernel has no gradient, so it runs
      // only where none is being recorded; otherwise, and without the native layer, the three ops run.
      if (tf.engine().state.gradientDepth === 0 && hasKernel(BN_EVAL_KERNEL)) {
        const inputs: tf.NamedTensorMap = {
          x,
          mean: this.runningMean as tf.Tensor1D,
          variance: this.runningVar as tf.Tensor1D,
          offset: beta,
          scale: gamma,
        };
        if (tail.residual) inputs.residual = tail.residual;
        return tf
          .engine()
          .runKernel(BN_EVAL_KERNEL, inputs, { relu: Boolean(tail.relu), varianceEpsilon: BN_EPS }) as tf.Tensor4D;
      }
      // Both offset and scale are always passed: tfjs's batchNorm gradient crashes when either is missing.
      return tf.tidy(() =>
        finishTail(
          tf.batchNorm4d(x, this.runningMean as tf.Tensor1D, this.runningVar as tf.Tensor1D, beta, gamma, BN_EPS),
          tail,
        ),
      );
    }
    const [n, h, w] = x.shape;
    const count = n * h * w;
    if (count < 2) {
      throw new Error(
        `${this.store.model}: BatchNorm '${this.key}' in training mode got ${count} value per channel (input ${x.shape.join("x")}); ` +
          "use a batch of at least 2 or a larger image, or call apply(x, false)",
      );
    }
    let y: tf.Tensor4D;
    let mean: tf.Tensor1D;
    let variance: tf.Tensor1D;
    if (hasKernel(BN_ACT_KERNEL)) ({ y, mean, variance } = bnAct(x, gamma, beta, BN_EPS, tail));
    else {
      ({ y, mean, variance } = batchNormTrain(x, gamma, beta, BN_EPS));
      if (tail.residual || tail.relu) {
        const pre = y;
        y = tf.tidy(() => finishTail(pre, tail));
        pre.dispose();
      }
    }
    this.updateRunning(mean, variance, count);
    mean.dispose();
    variance.dispose();
    return y;
  }

  /** r ← (1 − momentum)·r + momentum·batch (unbiased variance). Not on any path to the loss: no gradient. */
  private updateRunning(mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
    const varFactor = (BN_MOMENTUM * count) / (count - 1);
    if (hasKernel(BN_RUNNING_KERNEL)) {
      const [m, v] = tf
        .engine()
        .runKernel(
          BN_RUNNING_KERNEL,
          { runningMean: this.runningMean, runningVar: this.runningVar, mean, variance },
          { momentum: BN_MOMENTUM, varFactor },
        ) as tf.Tensor[];
      this.runningMean.assign(m);
      this.runningVar.assign(v);
      tf.dispose([m, v]);
      return;
    }
    tf.tidy(() => {
      const keep = 1 - BN_MOMENTUM;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, keep), tf.mul(mean, BN_MOMENTUM)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, keep), tf.mul(variance, varFactor)));
    });
  }
}

function finishTail(y: tf.Tensor4D, tail: BnTail): tf.Tensor4D {
  const z = tail.residual ? tf.add(y, tail.residual) : y;
  return (tail.relu ? tf.relu(z) : z) as tf.Tensor4D;
}

/** True when `kernel` is registered for the active backend. */
function hasKernel(kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

/**
 * Training-mode batch norm with its tail as one differentiable op on the native kernels:
 * y = relu?(γ·(x − μ_B)/√(σ²_B + eps) + β + residual?). Returns y and the batch statistics (the caller disposes mean
 * and variance). Gradient (g = dy masked by y > 0 under ReLU, N' = N·H·W, x̂ the normalised input):
 *   ∂x = γ/√(σ²+eps) · (g − mean(g) − x̂·mean(g·x̂)),  ∂γ = Σ g·x̂,  ∂β = Σ g,  ∂residual = g.
 */
export function bnAct(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  tail: BnTail = {},
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const relu = Boolean(tail.relu);
  const residual = tail.residual !== undefined;
  const body = (xt: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, r: tf.Tensor4D | undefined, save: tf.GradSaveFunc) => {
    const inputs: tf.NamedTensorMap = { x: xt, gamma: g, beta: b };
    if (r) inputs.residual = r;
    const [value, mean, variance] = tf
      .engine()
      .runKernel(BN_ACT_KERNEL, inputs, { relu, varianceEpsilon: eps }) as tf.Tensor[];
    stats = [tf.keep(mean as tf.Tensor1D), tf.keep(variance as tf.Tensor1D)];
    save([xt, value, mean, variance, g]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sy, sm, sv, sg] = saved;
      return tf
        .engine()
        .runKernel(
          BN_ACT_GRAD_KERNEL,
          { dy, x: sx, y: sy, mean: sm, variance: sv, gamma: sg },
          { relu, varianceEpsilon: eps, residual },
        ) as tf.Tensor[];
    };
    return { value: value as tf.Tensor4D, gradFunc };
  };
  const op = residual
    ? tf.customGrad((xIn, gIn, bIn, rIn, save) =>
        body(xIn as tf.Tensor4D, gIn as tf.Tensor1D, bIn as tf.Tensor1D, rIn as tf.Tensor4D, save as tf.GradSaveFunc),
      )
    : tf.customGrad((xIn, gIn, bIn, save) =>
        body(xIn as tf.Tensor4D, gIn as tf.Tensor1D, bIn as tf.Tensor1D, undefined, save as tf.GradSaveFunc),
      );
  const y = (residual ? op(x, gamma, beta, tail.residual!) : op(x, gamma, beta)) as tf.Tensor4D;
  const [mean, variance] = stats!;
  return { y, mean, variance };
}

/**
 * Training-mode batch norm of x [N, H, W, C]: y = γ·(x − μ_B)/√(σ²_B + eps) + β with the batch mean and biased
 * variance, differentiable in x, γ and β. Returns y and the batch statistics (the caller disposes mean and variance).
 * Gradient (N' = N·H·W values per channel, x̂ the normalised input):
 *   ∂x = γ/√(σ²+eps) · (dy − mean(dy) − x̂·mean(dy·x̂)),   ∂γ = Σ dy·x̂,   ∂β = Σ dy.
 */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const op = tf.customGrad((xIn, gIn, bIn, save) => {
    const [xt, g, b] = [xIn as tf.Tensor4D, gIn as tf.Tensor1D, bIn as tf.Tensor1D];
    let mean: tf.Tensor1D;
    let variance: tf.Tensor1D;
    if (hasKernel(BN_MOMENTS_KERNEL))
      [mean, variance] = tf.engine().runKernel(BN_MOMENTS_KERNEL, { x: xt }) as tf.Tensor1D[];
    else ({ mean, variance } = tf.moments(xt, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D });
    // Kept past this op's tidy for the running-stat update; saved (as clones) for the gradient.
    stats = [tf.keep(mean), tf.keep(variance)];
    (save as tf.GradSaveFunc)([xt, mean, variance, g]);
    const value = tf.batchNorm4d(xt, mean, variance, b, g, eps);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sm, sv, sg] = saved;
      if (hasKernel(BN_TRAIN_GRAD_KERNEL)) {
        return tf
          .engine()
          .runKernel(
            BN_TRAIN_GRAD_KERNEL,
            { x: sx, dy, mean: sm, variance: sv, scale: sg },
            { varianceEpsilon: eps },
          ) as tf.Tensor[];
      }
      return tf.tidy(() => {
        const n = sx.size / sm.size;
        const inv = tf.rsqrt(tf.add(sv, eps));
        const xm = tf.sub(sx, sm);
        const sumDy = tf.sum(dy, [0, 1, 2]);
        const sumDyXm = tf.sum(tf.mul(dy, xm), [0, 1, 2]);
        const inner = tf.sub(tf.sub(dy, tf.div(sumDy, n)), tf.mul(xm, tf.div(tf.mul(tf.square(inv), sumDyXm), n)));
        return [tf.mul(tf.mul(sg, inv), inner), tf.mul(inv, sumDyXm), sumDy];
      });
    };
    return { value, gradFunc };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  const [mean, variance] = stats!;
  return { y, mean, variance };
}
