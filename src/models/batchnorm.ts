/**
 * BatchNorm2d with PyTorch semantics: eps 1e-5; in training mode normalise with the biased batch variance
 * and update running stats as r ← (1-0.1)·r + 0.1·batch, using the *unbiased* variance for running_var.
 *
 * Training mode is one differentiable op (`batchNormTrain`) with the closed-form gradient through the batch
 * statistics, instead of autodiff through tf.moments (mean, squared difference, mean) and the normalisation:
 * that chain cost ~12 element-wise kernels per layer and a third of a ResNet-8 training step. Where the native
 * layer registered its helper kernels (wasm + addon) both directions are two passes over the activations; on any
 * other backend the same formulas run as plain tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";
import { BN_MOMENTS_KERNEL, BN_TRAIN_GRAD_KERNEL } from "../kernels/native/batchnorm.js";
import type { ParamStore } from "./params.js";

/** PyTorch's BatchNorm2d defaults. */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

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

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    // Both offset and scale are always passed: tfjs's batchNorm gradient crashes when either is missing.
    if (!training) return tf.batchNorm4d(x, this.runningMean as tf.Tensor1D, this.runningVar as tf.Tensor1D, this.beta as tf.Tensor1D, this.gamma as tf.Tensor1D, BN_EPS);
    const [n, h, w] = x.shape;
    const count = n * h * w;
    if (count < 2) {
      throw new Error(
        `${this.store.model}: BatchNorm '${this.key}' in training mode got ${count} value per channel (input ${x.shape.join("x")}); ` +
          "use a batch of at least 2 or a larger image, or call apply(x, false)",
      );
    }
    const { y, mean, variance } = batchNormTrain(x, this.gamma as tf.Tensor1D, this.beta as tf.Tensor1D, BN_EPS);
    // The running update is not on any path to the loss, so under tf.variableGrads it gets no gradient.
    tf.tidy(() => {
      const keep = 1 - BN_MOMENTUM;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, keep), tf.mul(mean, BN_MOMENTUM)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, keep), tf.mul(variance, (BN_MOMENTUM * count) / (count - 1))));
    });
    mean.dispose();
    variance.dispose();
    return y;
  }
}

/** True when `kernel` is registered for the active backend. */
function hasKernel(kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

/**
 * Training-mode batch norm of x [N, H, W, C]: y = γ·(x − μ_B)/√(σ²_B + eps) + β with the batch mean and biased
 * variance, differentiable in x, γ and β. Returns y and the batch statistics (the caller disposes mean and variance).
 * Gradient (N' = N·H·W values per channel, x̂ the normalised input):
 *   ∂x = γ/√(σ²+eps) · (dy − mean(dy) − x̂·mean(dy·x̂)),   ∂γ = Σ dy·x̂,   ∂β = Σ dy.
 */
export function batchNormTrain(
  x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const op = tf.customGrad((xIn, gIn, bIn, save) => {
    const [xt, g, b] = [xIn as tf.Tensor4D, gIn as tf.Tensor1D, bIn as tf.Tensor1D];
    let mean: tf.Tensor1D;
    let variance: tf.Tensor1D;
    if (hasKernel(BN_MOMENTS_KERNEL)) [mean, variance] = tf.engine().runKernel(BN_MOMENTS_KERNEL, { x: xt }) as tf.Tensor1D[];
    else ({ mean, variance } = tf.moments(xt, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D });
    // Kept past this op's tidy for the running-stat update; saved (as clones) for the gradient.
    stats = [tf.keep(mean), tf.keep(variance)];
    (save as tf.GradSaveFunc)([xt, mean, variance, g]);
    const value = tf.batchNorm4d(xt, mean, variance, b, g, eps);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sm, sv, sg] = saved;
      if (hasKernel(BN_TRAIN_GRAD_KERNEL)) {
        return tf.engine().runKernel(BN_TRAIN_GRAD_KERNEL, { x: sx, dy, mean: sm, variance: sv, scale: sg }, { varianceEpsilon: eps }) as tf.Tensor[];
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
