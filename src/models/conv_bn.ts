/**
 * conv → batch norm (→ + residual → ReLU): the unit every ResNet block is built from.
 *
 * In inference, with no gradient being recorded and where the native layer registers it, this is one kernel
 * (`LtrConvBnEval`, src/kernels/native/conv_bn.ts) that applies the batch norm, residual add and ReLU while the
 * convolution stores its outputs, so the convolution's output is never written and read back. It gives the same bits
 * as the separate ops (test/kernels/conv_bn.test.ts). Everywhere else (training, grouped convolutions, other
 * backends, LTR_NUMERICS=fast): the convolution, then `BatchNorm2d.apply`.
 */
import * as tf from "@tensorflow/tfjs";
import { CONV_BN_EVAL_KERNEL, type ConvBnEvalAttrs } from "../kernels/native/conv_bn.js";
import { type BatchNorm2d, BN_EPS, type BnTail } from "./batchnorm.js";
import type { Conv2d } from "./conv.js";

export function convBn(
  conv: Conv2d,
  bn: BatchNorm2d,
  x: tf.Tensor4D,
  training: boolean,
  tail: BnTail = {},
): tf.Tensor4D {
  const fused =
    !training &&
    conv.groups === 1 &&
    tf.engine().state.gradientDepth === 0 &&
    tf.getKernel(CONV_BN_EVAL_KERNEL, tf.getBackend()) !== undefined;
  if (!fused) return bn.apply(conv.apply(x), training, tail);
  if (tail.residual) {
    // The output shape as the kernel computes it, so that a wrong residual is reported with the layer's name.
    const ci = tf.backend_util.computeConv2DInfo(
      x.shape,
      conv.weight.shape as [number, number, number, number],
      conv.stride,
      1,
      conv.pad,
    );
    bn.checkResidual(ci.outShape, tail);
  }
  const inputs: tf.NamedTensorMap = {
    x,
    filter: conv.weight,
    mean: bn.runningMean,
    variance: bn.runningVar,
    offset: bn.beta,
    scale: bn.gamma,
  };
  if (tail.residual) inputs.residual = tail.residual;
  const attrs: ConvBnEvalAttrs = {
    strides: conv.stride,
    pad: conv.pad,
    relu: Boolean(tail.relu),
    varianceEpsilon: BN_EPS,
  };
  return tf.engine().runKernel(CONV_BN_EVAL_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
