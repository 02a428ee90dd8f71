/**
 * A cheaper gradient for `FusedBatchNorm` (tf.batchNorm), registered with `tf.registerGradient`.
 *
 * Why: the stock gradient materialises a full-size `Tile` of 1/√(var+ε) and runs about ten full-size
 * element-wise ops (18% of a stock wasm training step). Here every per-channel factor is computed on
 * [C]-sized tensors and broadcast, leaving three full-size ops (dx = dy·γ/σ, x-μ, (x-μ)·dy) and two
 * reductions (Σdy, Σ(x-μ)·dy), which the wasm `Sum` override does without a transpose.
 *
 * The two shared sums are computed eagerly in `gradFunc`: the tape runs each input's closure in its own
 * `tidy`, so a tensor memoised by one closure would be freed before another uses it (docs/ARCHITECTURE.md, "Kernels and the native layer").
 * Gradients are registered per kernel name, not per backend, so this also serves cpu; it is the exact
 * same math as the stock gradient.
 *
 *   σ⁻¹ = rsqrt(var + ε)            dx     = dy · γσ⁻¹
 *   dμ  = -γσ⁻¹ · Σdy               dvar   = -½ γ σ⁻³ · Σ(x-μ)dy
 *   dγ  = σ⁻¹ · Σ(x-μ)dy            dβ     = Σdy
 */
import * as tf from "@tensorflow/tfjs";

export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: "FusedBatchNorm",
  inputsToSave: ["x", "mean", "variance", "scale"],
  gradFunc: (dy, saved, attrs) => {
    const g = dy as tf.Tensor;
    const [x, mean, variance, scale] = saved as (tf.Tensor | null | undefined)[];
    if (!x || !mean || !variance) {
      throw new Error(
        "src/kernels/wasm/batchnorm_grad: FusedBatchNorm gradient is missing a saved x, mean or variance",
      );
    }
    const eps = attrs.varianceEpsilon as number;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    // Σ over the broadcast axes, back in mean's shape (a no-op when mean is already full-size)
    const reduce = (t: tf.Tensor): tf.Tensor => (axes.length > 0 ? tf.reshape(tf.sum(t, axes), mean.shape) : t);

    const inv = tf.rsqrt(tf.add(variance, tf.scalar(eps)));
    const scaleInv = scale ? tf.mul(scale, inv) : inv;
    const sumDy = reduce(g);
    // tidy: x-μ and (x-μ)·dy are full-size; only their per-channel sum outlives this line
    const sumXcDy = tf.tidy(() => reduce(tf.mul(tf.sub(x, mean), g)));

    return {
      x: () => tf.mul(g, scaleInv),
      mean: () => tf.reshape(tf.neg(tf.mul(scaleInv, sumDy)), mean.shape),
      variance: () =>
        tf.reshape(tf.mul(tf.mul(scaleInv, tf.mul(tf.square(inv), tf.scalar(-0.5))), sumXcDy), mean.shape),
      scale: () => tf.reshape(tf.mul(inv, sumXcDy), mean.shape),
      offset: () => tf.reshape(sumDy, mean.shape),
    };
  },
};
