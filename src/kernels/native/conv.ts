/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on NHWC activations and HWIO filters, with TF's asymmetric
 * 'same' padding passed as explicit left/right pads. Deterministic numerics (the default) run our own kernels
 * (`convOwn`: Winograd F(4x4, 3x3) for 3x3 stride-1 layers, direct elsewhere); LTR_NUMERICS=fast runs oneDNN.
 * Also the three kernels of our grouped convolution op (src/kernels/grouped_conv.ts): oneDNN plans with a group
 * count (docs/DETERMINISM.md: grouped convolutions are not covered by our own kernels).
 */
import * as tf from "@tensorflow/tfjs";
import {
  GROUPED_CONV2D,
  GROUPED_CONV2D_BACKPROP_FILTER,
  GROUPED_CONV2D_BACKPROP_INPUT,
  type GroupedConvAttrs,
} from "../grouped_conv.js";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { f32, type NativeKernelArgs, overrideKernel } from "./wrap.js";

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/**
 * The integers the addon's `conv` takes (17, or 18 with the group count when `groups` > 1), or null when oneDNN's
 * output-size formula disagrees with tfjs's.
 */
export function convParams(ci: ConvInfo, groups = 1): Int32Array | null {
  const p = ci.padInfo;
  const ekh = (ci.filterHeight - 1) * ci.dilationHeight + 1;
  const ekw = (ci.filterWidth - 1) * ci.dilationWidth + 1;
  const oh = Math.floor((ci.inHeight + p.top + p.bottom - ekh) / ci.strideHeight) + 1;
  const ow = Math.floor((ci.inWidth + p.left + p.right - ekw) / ci.strideWidth) + 1;
  if (oh !== ci.outHeight || ow !== ci.outWidth) return null;
  return Int32Array.from([
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outHeight,
    ci.outWidth,
    ci.outChannels,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideHeight,
    ci.strideWidth,
    ci.dilationHeight,
    ci.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
    ...(groups > 1 ? [groups] : []),
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
  overrideKernel(
    "Conv2D",
    impl,
    ({ inputs, backend, attrs }: NativeKernelArgs) => {
      const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as {
        strides: [number, number] | number;
        pad: Pad;
        dataFormat?: string;
        dilations: [number, number] | number;
        dimRoundingMode?: DimRounding;
      };
      if (!isNhwc(dataFormat) || !allF32(x, filter) || x.shape.length !== 4) return null;
      const ci = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides,
        dilations ?? 1,
        pad,
        dimRoundingMode,
        false,
        "channelsLast",
      );
      const p = convParams(ci);
      if (!p || ci.outShape.some((d) => d === 0)) return null;
      const out = backend.makeOutput(ci.outShape, "float32");
      conv(0, p, f32(backend, x), f32(backend, filter), f32(backend, out));
      return out;
    },
    report,
  );

  overrideKernel(
    "Conv2DBackpropInput",
    impl,
    ({ inputs, backend, attrs }: NativeKernelArgs) => {
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as {
        strides: [number, number] | number;
        pad: Pad;
        dataFormat?: string;
        dimRoundingMode?: DimRounding;
        inputShape: number[];
      };
      if (!isNhwc(dataFormat) || !allF32(dy, filter) || inputShape.length !== 4) return null;
      const ci = tf.backend_util.computeConv2DInfo(
        inputShape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        "channelsLast",
      );
      const p = convParams(ci);
      if (!p || inputShape.some((d) => d === 0)) return null;
      const out = backend.makeOutput(inputShape, "float32");
      conv(1, p, f32(backend, dy), f32(backend, filter), f32(backend, out));
      return out;
    },
    report,
  );

  overrideKernel(
    "Conv2DBackpropFilter",
    impl,
    ({ inputs, backend, attrs }: NativeKernelArgs) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
        strides: [number, number] | number;
        pad: Pad;
        dataFormat?: string;
        dimRoundingMode?: DimRounding;
        filterShape: number[];
      };
      if (!isNhwc(dataFormat) || !allF32(x, dy) || x.shape.length !== 4) return null;
      const ci = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        "channelsLast",
      );
      const p = convParams(ci);
      if (!p || filterShape.some((d) => d === 0)) return null;
      const out = backend.makeOutput(filterShape, "float32");
      conv(2, p, f32(backend, x), f32(backend, dy), f32(backend, out));
      return out;
    },
    report,
  );
}

/** The conv geometry of a grouped kernel call; filterShape is [KH, KW, C/G, OC]. Throws on what oneDNN cannot take. */
function groupedParams(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  a: GroupedConvAttrs,
): { ci: ConvInfo; p: Int32Array } {
  if (xShape.length !== 4 || filterShape.length !== 4) {
    throw new Error(
      `${kernel}: expected 4-D x and filter, got x [${xShape.join(",")}] and filter [${filterShape.join(",")}]`,
    );
  }
  const ci = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    1,
    a.pad,
    undefined,
    false,
    "channelsLast",
  );
  const p = convParams(ci, a.groups);
  if (!p)
    throw new Error(
      `${kernel}: padding ${JSON.stringify(a.pad)} with stride ${a.strides} gives an output size oneDNN does not compute`,
    );
  return { ci, p };
}

function requireF32(kernel: string, ...ts: tf.TensorInfo[]): void {
  const bad = ts.find((t) => t.dtype !== "float32");
  if (bad) throw new Error(`${kernel}: float32 tensors only, got ${bad.dtype}`);
}

/**
 * The grouped-convolution op's kernels. Unlike the stock overrides above there is no earlier implementation to
 * fall back to, so unsupported inputs are errors; the op (src/models/conv.ts) computes groups elsewhere.
 */
export function installGroupedConvKernels(addon: NativeAddon, report: KernelReport): void {
  const register = (kernelName: string, kernelFunc: (args: NativeKernelArgs) => tf.TensorInfo) => {
    if (tf.getKernel(kernelName, "wasm")) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) =>
        kernelFunc({
          inputs: args.inputs,
          backend: args.backend as NativeKernelArgs["backend"],
          attrs: args.attrs ?? {},
        })) as tf.KernelFunc,
    });
    report.registered[kernelName] = "native-dnnl";
  };

  register(GROUPED_CONV2D, ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    requireF32(GROUPED_CONV2D, x, filter);
    const { ci, p } = groupedParams(GROUPED_CONV2D, x.shape, filter.shape, attrs as unknown as GroupedConvAttrs);
    const out = backend.makeOutput(ci.outShape, "float32");
    if (ci.outShape.every((d) => d > 0)) addon.conv(0, p, f32(backend, x), f32(backend, filter), f32(backend, out));
    return out;
  });

  register(GROUPED_CONV2D_BACKPROP_INPUT, ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as GroupedConvAttrs;
    requireF32(GROUPED_CONV2D_BACKPROP_INPUT, dy, filter);
    const { p } = groupedParams(GROUPED_CONV2D_BACKPROP_INPUT, a.inputShape ?? [], filter.shape, a);
    const out = backend.makeOutput(a.inputShape!, "float32");
    if (a.inputShape!.every((d) => d > 0)) addon.conv(1, p, f32(backend, dy), f32(backend, filter), f32(backend, out));
    return out;
  });

  register(GROUPED_CONV2D_BACKPROP_FILTER, ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = attrs as unknown as GroupedConvAttrs;
    requireF32(GROUPED_CONV2D_BACKPROP_FILTER, x, dy);
    const { p } = groupedParams(GROUPED_CONV2D_BACKPROP_FILTER, x.shape, a.filterShape ?? [], a);
    const out = backend.makeOutput(a.filterShape!, "float32");
    if (a.filterShape!.every((d) => d > 0)) addon.conv(2, p, f32(backend, x), f32(backend, dy), f32(backend, out));
    return out;
  });
}
