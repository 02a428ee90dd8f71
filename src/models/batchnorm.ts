/**
 * BatchNorm2d with PyTorch semantics: eps 1e-5; in training mode normalise with the biased batch variance
 * and update running stats as r ← (1-0.1)·r + 0.1·batch, using the *unbiased* variance for running_var.
 */
import * as tf from "@tensorflow/tfjs";
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
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, this.beta as tf.Tensor1D, this.gamma as tf.Tensor1D, BN_EPS);
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
