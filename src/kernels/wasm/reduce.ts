/**
 * `Sum` / `Mean` over a contiguous block of non-innermost axes, for the wasm backend.
 *
 * Why: the stock wasm reductions only reduce innermost axes, so BN moments (axes [0,1,2] of NHWC) and
 * global average pooling (axes [1,2]) first transpose the whole activation. Viewing x as [A, R, C]
 * (R = the reduced block) and accumulating rows of C contiguous floats in one JS pass avoids the
 * copy. Accumulation is in float64, so it is at least as accurate as the stock float32 kernel.
 * Anything else (innermost axes, non-float32, non-contiguous axes) goes to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { f32, type WasmKernelArgs } from "./heap.js";

/** [A, R, C] factorisation of x for reducing `axes`, or null when this kernel does not apply. */
export function middleBlock(shape: number[], axis: number | number[]): [number, number, number] | null {
  const rank = shape.length;
  const axes = tf.util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0) return null;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (last >= rank - 1) return null; // innermost: the stock kernel needs no transpose
  const prod = (a: number, b: number) => shape.slice(a, b).reduce((p, d) => p * d, 1);
  return [prod(0, first), prod(first, last + 1), prod(last + 1, rank)];
}

/** Rows per block: a block of rows (≤ 64 KiB for C ≤ 64) stays in L1/L2 while each column is summed. */
const BLOCK_ROWS = 256;

/**
 * out[a, c] = Σ_r x[a, r, c] · scale. Column-wise within blocks of rows, four independent scalar
 * accumulators per column: about 2× faster in V8 than a row-wise loop updating an accumulator array.
 */
export function reduceMiddle(x: Float32Array, out: Float32Array, A: number, R: number, C: number, scale: number): void {
  const acc = new Float64Array(C);
  for (let a = 0; a < A; a++) {
    acc.fill(0);
    const base = a * R * C;
    for (let r0 = 0; r0 < R; r0 += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, R - r0);
      const start = base + r0 * C;
      const end = start + rows * C;
      const step = 4 * C;
      for (let c = 0; c < C; c++) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let i = start + c;
        for (; i + 3 * C < end; i += step) {
          s0 += x[i];
          s1 += x[i + C];
          s2 += x[i + 2 * C];
          s3 += x[i + 3 * C];
        }
        for (; i < end; i += C) s0 += x[i];
        acc[c] += s0 + s1 + s2 + s3;
      }
    }
    const o = a * C;
    for (let c = 0; c < C; c++) out[o + c] = acc[c] * scale;
  }
}

/** Wrap the stock `Sum` or `Mean` kernelFunc with the leading/middle-axes fast path. */
export function makeLeadingReduceKernel(op: "sum" | "mean", stock: tf.KernelFunc): tf.KernelFunc {
  return ((args: WasmKernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const axis = args.attrs.axis as number | number[];
    const block = x.dtype === "float32" && tf.util.sizeFromShape(x.shape) > 0 ? middleBlock(x.shape, axis) : null;
    if (!block) return stock(args as never);
    const [A, R, C] = block;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outShape = args.attrs.keepDims ? keep : x.shape.filter((_, i) => !axes.includes(i));
    const out = args.backend.makeOutput(outShape, "float32");
    reduceMiddle(f32(args.backend, x), f32(args.backend, out), A, R, C, op === "mean" ? 1 / R : 1);
    return out;
  }) as unknown as tf.KernelFunc;
}
