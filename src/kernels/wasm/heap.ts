/**
 * Small helpers for writing kernels on top of the stock tfjs wasm backend: typed access to its heap,
 * calling other registered wasm kernels, and cheap "views" (same data, other shape).
 *
 * Two rules every kernel in this folder follows:
 *  - Take heap views (`f32`) only after the last `makeOutput` / kernel call of a phase: allocating can grow
 *    the wasm memory, which detaches every earlier `Float32Array` view.
 *  - Every intermediate `TensorInfo` a kernel creates is released with `release` (in a `finally`), so a
 *    kernel leaks neither tensors nor heap bytes, even when it throws.
 */
import * as tf from "@tensorflow/tfjs";

/** The part of the wasm backend (`BackendWasm`) our kernels use; structural so we need no deep import. */
export interface WasmBackendLike {
  /** Allocate an output tensor on the wasm heap (uninitialised memory). */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A typed-array view of a tensor's heap memory (invalidated by heap growth). */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Drop one reference to a tensor's data; frees it at zero. */
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  /** Per-tensor bookkeeping; `id` is the number the C++ side knows the tensor by. */
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number; refCount: number } | undefined };
}

/** Arguments every kernelFunc receives (typed for our use). */
export interface WasmKernelArgs {
  /** Named input tensors of the kernel. */
  inputs: Record<string, tf.TensorInfo | undefined>;
  /** The wasm backend instance. */
  backend: WasmBackendLike;
  /** Kernel attributes (strides, pad, transposeA, ...). */
  attrs: Record<string, unknown>;
}

export const BACKEND = "wasm";

/** The float32 heap view of a tensor. Call after the last allocation of the current phase. */
export function f32(backend: WasmBackendLike, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== "float32") {
    throw new Error(`src/kernels/wasm: expected a float32 tensor, got dtype '${info.dtype}' (shape [${info.shape}])`);
  }
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/**
 * The same data under another shape, without touching the reference count. Only pass it to kernels
 * that read their inputs and never keep them (every stock compute kernel); never return it.
 */
export function view(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const size = tf.util.sizeFromShape(shape);
  if (size !== tf.util.sizeFromShape(info.shape)) {
    throw new Error(`src/kernels/wasm: cannot view shape [${info.shape}] as [${shape}] (sizes differ)`);
  }
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** Release intermediate tensors made by our kernels (null entries are skipped). */
export function release(backend: WasmBackendLike, ...infos: (tf.TensorInfo | null | undefined)[]): void {
  for (const info of infos) if (info) backend.disposeData(info.dataId);
}

/**
 * Call the kernel currently registered for `name` on wasm (stock or an override: whatever is fastest
 * now). The result is a new tensor the caller owns.
 */
export function callKernel(
  name: string,
  backend: WasmBackendLike,
  inputs: Record<string, tf.TensorInfo | undefined>,
  attrs: Record<string, unknown> = {},
): tf.TensorInfo {
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`src/kernels/wasm: kernel '${name}' is not registered for backend 'wasm'`);
  const out = k.kernelFunc({
    inputs: inputs as tf.NamedTensorInfoMap,
    backend: backend as never,
    attrs: attrs as tf.NamedAttrMap,
  });
  if (Array.isArray(out))
    throw new Error(`src/kernels/wasm: kernel '${name}' returned ${out.length} outputs, expected 1`);
  return out;
}

/** Transpose through the wasm kernel (C++; drops size-1 dims before permuting). */
export function transpose(backend: WasmBackendLike, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return callKernel("Transpose", backend, { x }, { perm });
}

/** Product of the leading (batch) dims of a matmul operand. */
export function batchSize(shape: number[]): number {
  let b = 1;
  for (let i = 0; i < shape.length - 2; i++) b *= shape[i];
  return b;
}
