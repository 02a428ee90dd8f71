/** Element-wise binary and unary kernels served by the addon's OpenMP/AVX loops (multi-threaded, zero-copy). */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { planBroadcast } from "./broadcast.js";
import { f32, type NativeKernelArgs, overrideKernel, sizeOf } from "./wrap.js";

/** tfjs kernel name -> binary op code in native/src/elementwise.cc. */
export const BINARY_OPS: Record<string, number> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  SquaredDifference: 4,
  Maximum: 5,
  Minimum: 6,
  Pow: 8,
};

/** tfjs kernel name -> unary op code in native/src/elementwise.cc. */
export const UNARY_OPS: Record<string, number> = {
  Relu: 0,
  Step: 1,
  Neg: 2,
  Square: 3,
  Rsqrt: 4,
  Sqrt: 5,
  Exp: 6,
  Log: 7,
  Relu6: 9,
  Abs: 10,
};

// Below this many output elements the wasm kernel is as fast (no thread fork, no call marshalling): leave it there.
const MIN_ELEMENTS = 4096;

export function installElementwiseKernels(addon: NativeAddon, report: KernelReport): void {
  for (const [name, op] of Object.entries(BINARY_OPS)) {
    overrideKernel(
      name,
      "native-omp",
      ({ inputs, backend }: NativeKernelArgs) => {
        const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        if (a.dtype !== "float32" || b.dtype !== "float32") return null;
        const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
        if (sizeOf(outShape) < MIN_ELEMENTS) return null;
        const plan = planBroadcast(outShape, [a.shape, b.shape]);
        if (!plan) return null;
        const out = backend.makeOutput(outShape, "float32");
        addon.binary(
          op,
          plan.r,
          plan.c,
          f32(backend, a),
          plan.modes[0],
          f32(backend, b),
          plan.modes[1],
          f32(backend, out),
        );
        return out;
      },
      report,
    );
  }
  for (const [name, op] of Object.entries(UNARY_OPS)) {
    overrideKernel(
      name,
      "native-omp",
      ({ inputs, backend, attrs }: NativeKernelArgs) => {
        const { x } = inputs as { x: tf.TensorInfo };
        if (x.dtype !== "float32" || sizeOf(x.shape) < MIN_ELEMENTS) return null;
        const alpha = name === "Step" ? Number((attrs as { alpha?: number }).alpha ?? 0) : 0;
        const out = backend.makeOutput(x.shape, "float32");
        addon.unary(op, f32(backend, x), f32(backend, out), alpha);
        return out;
      },
      report,
    );
  }
}
