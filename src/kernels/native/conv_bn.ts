/**
 * Inference convolution with its batch norm (and residual add and ReLU) applied while the outputs are stored:
 * `LtrConvBnEval`, x, filter, mean, variance, offset, scale[, residual] -> relu?(bn(conv(x, filter)) + residual?).
 *
 * Why: in inference a ResNet unit is conv → batch norm → (+ residual) → ReLU, and the batch norm is a per-channel
 * scale and shift, so it can be applied to the convolution's sums in registers (native/src/conv_own.cc, `Epilogue`)
 * instead of writing the convolution's output and reading it back in a second pass. The result is bit-identical to
 * Conv2D followed by `LtrBnEval` (the same folded scale and shift, the same rounding of every step).
 *
 * Registered only where Conv2D runs our own kernels (deterministic numerics), so that the fused and the separate
 * path compute the same convolution. No gradient: src/models/conv_bn.ts uses it only where none is recorded.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { BN_EVAL_KERNEL } from "./batchnorm.js";
import { convParams } from "./conv.js";
import { f32, type NativeKernelArgs } from "./wrap.js";

export const CONV_BN_EVAL_KERNEL = "LtrConvBnEval";

/** Attributes of `LtrConvBnEval`: the conv's stride and padding (as tf.conv2d takes them), the tail, eps. */
export interface ConvBnEvalAttrs {
  strides: number;
  pad: "valid" | "same" | number;
  relu: boolean;
  varianceEpsilon: number;
}

export function installConvBnKernel(addon: NativeAddon, report: KernelReport): void {
  if (addon.info().numerics !== "deterministic") return;
  report.registered[CONV_BN_EVAL_KERNEL] = "native-own";
  if (tf.getKernel(CONV_BN_EVAL_KERNEL, "wasm")) return;
  tf.registerKernel({
    kernelName: CONV_BN_EVAL_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as NativeKernelArgs["backend"];
      const { x, filter, mean, variance, offset, scale, residual } = inputs as Record<string, tf.TensorInfo>;
      const a = attrs as unknown as ConvBnEvalAttrs;
      const ci = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        a.strides,
        1,
        a.pad,
        undefined,
        false,
        "channelsLast",
      );
      if (residual && !tf.util.arraysEqual(residual.shape, ci.outShape)) {
        throw new Error(
          `${CONV_BN_EVAL_KERNEL}: residual has shape [${residual.shape.join(",")}], the convolution's output [${ci.outShape.join(",")}]`,
        );
      }
      const p = convParams(ci);
      if (!p || ci.outShape.some((d) => d === 0)) return separate(backend, inputs as Record<string, tf.TensorInfo>, a);
      const out = backend.makeOutput(ci.outShape, "float32");
      addon.convBnEval(
        p,
        f32(backend, x),
        f32(backend, filter),
        f32(backend, out),
        f32(backend, mean),
        f32(backend, variance),
        f32(backend, offset),
        f32(backend, scale),
        a.varianceEpsilon,
        residual ? f32(backend, residual) : null,
        a.relu ? 1 : 0,
      );
      return out;
    },
  });
}

/** The same result as two kernels (Conv2D, then LtrBnEval), for a geometry the fused kernel does not take. */
function separate(
  backend: NativeKernelArgs["backend"],
  inputs: Record<string, tf.TensorInfo>,
  a: ConvBnEvalAttrs,
): tf.TensorInfo {
  const { x, filter, mean, variance, offset, scale, residual } = inputs;
  const conv = tf.getKernel("Conv2D", "wasm")!.kernelFunc;
  const y = conv({
    inputs: { x, filter },
    backend,
    attrs: { strides: a.strides, pad: a.pad, dataFormat: "NHWC", dilations: 1 },
  }) as tf.TensorInfo;
  const bnInputs: tf.NamedTensorInfoMap = { x: y, mean, variance, offset, scale };
  if (residual) bnInputs.residual = residual;
  const out = tf.getKernel(BN_EVAL_KERNEL, "wasm")!.kernelFunc({
    inputs: bnInputs,
    backend,
    attrs: { relu: a.relu, varianceEpsilon: a.varianceEpsilon },
  }) as tf.TensorInfo;
  backend.disposeData(y.dataId);
  return out;
}
