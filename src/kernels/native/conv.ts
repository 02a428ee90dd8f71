/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on NHWC activations and HWIO filters, with TF's asymmetric
 * 'same' padding passed as explicit left/right pads. Deterministic numerics (the default) run our own kernels
 * (`convOwn`: Winograd F(4x4, 3x3) for 3x3 stride-1 layers, direct elsewhere); LTR_NUMERICS=fast runs oneDNN.
 */
import * as tf from "@tensorflow/tfjs";
import type { NativeAddon } from "./addon.js";
import type { KernelReport } from "../index.js";
import { f32, overrideKernel, type NativeKernelArgs } from "./wrap.js";

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** The 17 integers the addon's `conv` takes, or null when oneDNN's output-size formula disagrees with tfjs's. */
export function convParams(ci: ConvInfo): Int32Array | null {
  const p = ci.padInfo;
  const ekh = (ci.filterHeight - 1) * ci.dilationHeight + 1;
  const ekw = (ci.filterWidth - 1) * ci.dilationWidth + 1;
  const oh = Math.floor((ci.inHeight + p.top + p.bottom - ekh) / ci.strideHeight) + 1;
  const ow = Math.floor((ci.inWidth + p.left + p.right - ekw) / ci.strideWidth) + 1;
  if (oh !== ci.outHeight || ow !== ci.outWidth) return null;
  return Int32Array.from([
    ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.outHeight, ci.outWidth, ci.outChannels,
    ci.filterHeight, ci.filterWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight, ci.dilationWidth,
    p.top, p.left, p.bottom, p.right,
  ]);
}

function isNhwc(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === "NHWC" || dataFormat === "channelsLast";
}

function allF32(...ts: tf.TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === "float32");
}

type DimRounding = "floor" | "round" | "ceil" | undefined;
type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;

export function installConvKernels(addon: NativeAddon, report: KernelReport): void {
  const own = addon.info().numerics === "deterministic";
  const impl = own ? "native-own" : "native-dnnl";
  const conv = own ? addon.convOwn.bind(addon) : addon.conv.bind(addon);
  overrideKernel("Conv2D", impl, ({ inputs, backend, attrs }: NativeKernelArgs) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as {
      strides: [number, number] | number; pad: Pad; dataFormat?: string; dilations: [number, number] | number; dimRoundingMode?: DimRounding;
    };
    if (!isNhwc(dataFormat) || !allF32(x, filter) || x.shape.length !== 4) return null;
    const ci = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, dilations ?? 1, pad, dimRoundingMode, false, "channelsLast",
    );
    const p = convParams(ci);
    if (!p || ci.outShape.some((d) => d === 0)) return null;
    const out = backend.makeOutput(ci.outShape, "float32");
    conv(0, p, f32(backend, x), f32(backend, filter), f32(backend, out));
    return out;
  }, report);

  overrideKernel("Conv2DBackpropInput", impl, ({ inputs, backend, attrs }: NativeKernelArgs) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as {
      strides: [number, number] | number; pad: Pad; dataFormat?: string; dimRoundingMode?: DimRounding; inputShape: number[];
    };
    if (!isNhwc(dataFormat) || !allF32(dy, filter) || inputShape.length !== 4) return null;
    const ci = tf.backend_util.computeConv2DInfo(
      inputShape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, 1, pad, dimRoundingMode, false, "channelsLast",
    );
    const p = convParams(ci);
    if (!p || inputShape.some((d) => d === 0)) return null;
    const out = backend.makeOutput(inputShape, "float32");
    conv(1, p, f32(backend, dy), f32(backend, filter), f32(backend, out));
    return out;
  }, report);

  overrideKernel("Conv2DBackpropFilter", impl, ({ inputs, backend, attrs }: NativeKernelArgs) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
      strides: [number, number] | number; pad: Pad; dataFormat?: string; dimRoundingMode?: DimRounding; filterShape: number[];
    };
    if (!isNhwc(dataFormat) || !allF32(x, dy) || x.shape.length !== 4) return null;
    const ci = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape as [number, number, number, number],
      strides, 1, pad, dimRoundingMode, false, "channelsLast",
    );
    const p = convParams(ci);
    if (!p || filterShape.some((d) => d === 0)) return null;
    const out = backend.makeOutput(filterShape, "float32");
    conv(2, p, f32(backend, x), f32(backend, dy), f32(backend, out));
    return out;
  }, report);
}
