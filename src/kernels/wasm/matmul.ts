/**
 * `BatchMatMul` / `_FusedMatMul` wrappers for the wasm backend.
 *
 * Why: the stock wasm kernel sends every call with `transposeA` or `transposeB` set (and every batched
 * call) to a scalar C++ loop at 0.2–2.3 GFLOP/s; only the untransposed batch-1 case reaches XNNPACK
 * (~27 GFLOP/s). Every Dense/MatMul gradient uses the transposed forms. For batch 1 we transpose the
 * flagged operand explicitly with the wasm `Transpose` kernel (a cheap memory pass) and call the stock
 * kernel with both flags false. Everything else (bias, activation, PReLU weights) passes through
 * unchanged, so the fused kernel keeps its exact semantics.
 */
import type * as tf from "@tensorflow/tfjs";
import { batchSize, release, transpose, type WasmKernelArgs } from "./heap.js";

/** Swap the two innermost dims of a batch-1 operand; keeps the leading dims so output ranks match. */
function transposeInner(args: WasmKernelArgs, x: tf.TensorInfo): tf.TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(args.backend, x, perm);
}

/**
 * Wrap a stock matmul kernel function: returns a kernelFunc that routes batch-1 transposed calls to the
 * XNNPACK path of `stock`, and hands every other call to `stock` untouched.
 */
export function makeMatMulKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return ((args: WasmKernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = Boolean(args.attrs.transposeA);
    const transposeB = Boolean(args.attrs.transposeB);
    const plain =
      (!transposeA && !transposeB) ||
      a.dtype !== "float32" ||
      b.dtype !== "float32" ||
      a.shape.length < 2 ||
      b.shape.length < 2 ||
      batchSize(a.shape) !== 1 ||
      batchSize(b.shape) !== 1;
    if (plain) return stock(args as never);
    let a2: tf.TensorInfo | null = null;
    let b2: tf.TensorInfo | null = null;
    try {
      if (transposeA) a2 = transposeInner(args, a);
      if (transposeB) b2 = transposeInner(args, b);
      return stock({
        ...args,
        inputs: { ...args.inputs, a: a2 ?? a, b: b2 ?? b },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      } as never);
    } finally {
      release(args.backend, a2, b2);
    }
  }) as unknown as tf.KernelFunc;
}
