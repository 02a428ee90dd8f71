/**
 * Bias-free 2-D convolution with PyTorch semantics on NHWC tensors: symmetric zero padding (k-1)/2, optional
 * groups, He fan-out initialisation N(0, 2/(k·k·out)) as in the reference ResNet code.
 */
import * as tf from "@tensorflow/tfjs";
import { groupedConv2dKernel, hasGroupedConvKernels } from "../kernels/grouped_conv.js";
import { fillNormal, type ParamStore } from "./params.js";
import type { GroupedConvImpl } from "./types.js";

export interface ConvArgs {
  /** Input channels. */
  inC: number;
  /** Output channels. */
  outC: number;
  /** Square kernel size (odd: 1, 3 or 7 here). */
  kernel: number;
  /** Stride (default 1). */
  stride?: number;
  /** Channel groups (default 1); both inC and outC must be divisible by it. */
  groups?: number;
  /** How to compute groups > 1 (default "auto", see `BackboneArgs.groupedConv`). */
  groupedConv?: GroupedConvImpl;
}

/**
 * tfjs padding argument matching PyTorch's `padding=(k-1)/2`. For stride 1 that is exactly 'same' (odd k),
 * and we pass 'same' so kernels with a 'same' fast path can take it; for stride 2 TF's 'same' pads (0,1)
 * on even sizes while PyTorch pads (1,1), which shifts every window, so the explicit number is required.
 */
export function torchPad(kernel: number, stride: number): "valid" | "same" | number {
  if (kernel === 1) return "valid";
  if (stride === 1) return "same";
  return (kernel - 1) / 2;
}

/**
 * "auto" resolves, per call (the backend may change after a model is built), to:
 *  - "kernel" where the active backend registers the grouped-convolution kernels (wasm with the native layer:
 *    one oneDNN call per layer, forward and both gradients, src/kernels/grouped_conv.ts);
 *  - else "depthwise" where the backend can differentiate a depthwise conv (cpu can; stock wasm 4.22 cannot);
 *  - else "split".
 */
export function resolveGroupedConv(impl: GroupedConvImpl): "split" | "depthwise" | "kernel" {
  if (impl !== "auto") return impl;
  const be = tf.getBackend();
  if (hasGroupedConvKernels(be)) return "kernel";
  const has = (k: string) => tf.getKernel(k, be) !== undefined;
  return has("DepthwiseConv2dNativeBackpropInput") && has("DepthwiseConv2dNativeBackpropFilter")
    ? "depthwise"
    : "split";
}

/**
 * Grouped convolution of x [N,H,W,G·wi] with w [k,k,wi,G·wo] (PyTorch's [G·wo, wi, k, k] in NHWC order).
 * tfjs 4.22 `conv2d` has no groups argument, so:
 *  - "kernel": our grouped op (`LtrGroupedConv2D`), one kernel call with registered gradients; only where the
 *    backend has it ("kernel" elsewhere is an error that says so).
 *  - "split": one conv per group on channel slices, then concat. Exactly the grouped FLOPs; G kernel calls.
 *    The portable fallback: differentiable wherever conv2d is.
 *  - "depthwise": a depthwise conv with channel multiplier wo computes every (input channel, output of its
 *    group) product in one call (again exactly the grouped FLOPs); summing the wi inputs of each group
 *    gives the result. Output channel of the depthwise op for input c = g·wi+i and multiplier j is c·wo+j,
 *    so reshaping to [.., G, wi, wo] and summing axis wi yields channel g·wo+j, the grouped-conv order.
 */
export function groupedConv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  groups: number,
  stride: number,
  pad: "valid" | "same" | number,
  impl: GroupedConvImpl = "auto",
): tf.Tensor4D {
  if (groups === 1) return tf.conv2d(x, w, stride, pad) as tf.Tensor4D;
  const how = resolveGroupedConv(impl);
  if (how === "kernel") {
    if (!hasGroupedConvKernels()) {
      throw new Error(
        `groupedConv2d: impl "kernel" needs the grouped-convolution kernels, which backend '${tf.getBackend()}' does not register ` +
          `(they come with the native layer on wasm); use "auto", "split" or "depthwise"`,
      );
    }
    return groupedConv2dKernel(x, w, groups, stride, pad);
  }
  return tf.tidy(() => {
    const [k, kw, wi, outC] = w.shape;
    const wo = outC / groups;
    if (how === "split") {
      const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
      const ws = tf.split(w, groups, 3) as tf.Tensor4D[];
      return tf.concat(
        xs.map((xg, g) => tf.conv2d(xg, ws[g], stride, pad)),
        3,
      ) as tf.Tensor4D;
    }
    // [k,k,wi,G,wo] -> [k,k,G,wi,wo] -> [k,k,G·wi,wo]: depthwise filter for input channel g·wi+i.
    const dw = tf
      .transpose(tf.reshape(w, [k, kw, wi, groups, wo]), [0, 1, 3, 2, 4])
      .reshape([k, kw, groups * wi, wo]) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(x, dw, stride, pad);
    const [n, oh, ow] = y.shape;
    return tf.sum(tf.reshape(y, [n, oh, ow, groups, wi, wo]), 4).reshape([n, oh, ow, outC]) as tf.Tensor4D;
  });
}

/** A conv layer: one variable `<key>.weight` of shape [k, k, inC/groups, outC]. */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly stride: number;
  readonly groups: number;
  /** tfjs padding argument (`torchPad`). */
  readonly pad: "valid" | "same" | number;
  private readonly impl: GroupedConvImpl;

  /** @param key PyTorch module path, e.g. "layer1.0.conv1" (the variable is "<key>.weight"). */
  constructor(store: ParamStore, key: string, args: ConvArgs) {
    const { inC, outC, kernel } = args;
    this.stride = args.stride ?? 1;
    this.groups = args.groups ?? 1;
    this.impl = args.groupedConv ?? "auto";
    if (inC % this.groups !== 0 || outC % this.groups !== 0) {
      throw new Error(
        `${store.model}: conv '${key}' has inC=${inC}, outC=${outC} not divisible by groups=${this.groups}`,
      );
    }
    this.pad = torchPad(kernel, this.stride);
    const shape = [kernel, kernel, inC / this.groups, outC];
    // He fan-out as in the reference code: n = k·k·out_channels (groups do not enter).
    const std = Math.sqrt(2 / (kernel * kernel * outC));
    const name = `${key}.weight`;
    const values = fillNormal(store.rng(name), new Float32Array(shape.reduce((a, b) => a * b, 1)), std);
    this.weight = store.add(name, values, shape, true);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return groupedConv2d(x, this.weight as tf.Tensor4D, this.groups, this.stride, this.pad, this.impl);
  }
}
