/**
 * Sum / Mean / Max / Min over a contiguous block of axes, e.g. the NHWC per-channel moments (axes 0,1,2), which the
 * wasm backend computes by transposing first.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { f32, type NativeKernelArgs, overrideKernel } from "./wrap.js";

/** tfjs kernel name -> reduce op code in native/src/reduce.cc. */
export const REDUCE_OPS: Record<string, number> = { Sum: 0, Mean: 1, Max: 2, Min: 3 };

const MIN_ELEMENTS = 4096;

/** [outer, reduced, inner] sizes when `axes` form one contiguous block of `shape`, else null. */
export function reductionView(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  if (axes.length === 0) return null;
  const sorted = [...axes].sort((p, q) => p - q);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1] + 1) return null;
  const lo = sorted[0];
  const hi = sorted[sorted.length - 1] + 1;
  let o = 1;
  let r = 1;
  let n = 1;
  shape.forEach((d, i) => {
    if (i < lo) o *= d;
    else if (i < hi) r *= d;
    else n *= d;
  });
  return [o, r, n];
}

export function installReduceKernels(addon: NativeAddon, report: KernelReport): void {
  // Segment sums over rows (class sums for NCM in one pass; the gradient of tf.gather). Missing on stock wasm.
  overrideKernel(
    "UnsortedSegmentSum",
    "native-omp",
    ({ inputs, backend, attrs }: NativeKernelArgs) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as { numSegments: number };
      if (x.dtype !== "float32" || segmentIds.dtype !== "int32" || x.shape.length < 1) return null;
      if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) return null;
      const n = x.shape[0];
      const d = x.shape.slice(1).reduce((p, q) => p * q, 1);
      const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], "float32");
      addon.segmentSum(
        n,
        d,
        numSegments,
        f32(backend, x),
        backend.typedArrayFromHeap(segmentIds) as Int32Array,
        f32(backend, out),
      );
      return out;
    },
    report,
  );

  // ArgMax over the last axis (predictions from logits); other axes go to the wasm kernel.
  overrideKernel(
    "ArgMax",
    "native-omp",
    ({ inputs, backend, attrs }: NativeKernelArgs) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const rank = x.shape.length;
      if (x.dtype !== "float32" || rank === 0 || axes.length !== 1 || axes[0] !== rank - 1) return null;
      const c = x.shape[rank - 1];
      const r = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
      if (c === 0 || r * c < MIN_ELEMENTS) return null;
      const out = backend.makeOutput(x.shape.slice(0, -1), "int32");
      addon.argMaxRows(r, c, f32(backend, x), backend.typedArrayFromHeap(out) as Int32Array);
      return out;
    },
    report,
  );

  for (const [name, op] of Object.entries(REDUCE_OPS)) {
    overrideKernel(
      name,
      "native-omp",
      ({ inputs, backend, attrs }: NativeKernelArgs) => {
        const { x } = inputs as { x: tf.TensorInfo };
        // Max names its axes `reductionIndices`; the others call them `axis`.
        const { axis, reductionIndices, keepDims } = attrs as {
          axis?: number | number[];
          reductionIndices?: number | number[];
          keepDims: boolean;
        };
        if (x.dtype !== "float32") return null;
        const axes = tf.util.parseAxisParam(axis ?? reductionIndices ?? [], x.shape);
        const view = reductionView(x.shape, axes);
        if (!view || view[0] * view[1] * view[2] < MIN_ELEMENTS || view[1] === 0) return null;
        const outShape = keepDims
          ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
          : x.shape.filter((_, i) => !axes.includes(i));
        const out = backend.makeOutput(outShape, "float32");
        addon.reduce(op, view[0], view[1], view[2], f32(backend, x), f32(backend, out));
        return out;
      },
      report,
    );
  }
}
