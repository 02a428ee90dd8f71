/**
 * Replacing a wasm kernel with a native one while keeping the previous implementation as the fallback.
 *
 * A native kernel function returns `null` when it does not handle a call (a dtype, layout or broadcast it does not
 * support); the call then goes to whatever was registered before us (the stock kernel or the portable
 * `src/kernels/wasm` one), so registering never narrows what tfjs can run.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KernelReport } from "../report.js";

/**
 * Which native code serves a kernel: "native-own" our own deterministic AVX2 kernels (convolutions), "native-omp"
 * our own OpenMP/AVX loops (element-wise, reductions, batch norm), or a library.
 */
export type NativeImpl = "native-own" | "native-dnnl" | "native-openblas" | "native-omp";

/** Arguments a kernel function receives, with the backend typed as the wasm backend. */
export interface NativeKernelArgs {
  /** Named input tensors (kernel-specific names, e.g. `x`, `filter`). */
  inputs: tf.NamedTensorInfoMap;
  /** The wasm backend: `makeOutput` allocates on its heap, `typedArrayFromHeap` views a tensor zero-copy. */
  backend: BackendWasm;
  /** Kernel attributes (strides, axes, ...). */
  attrs: tf.NamedAttrMap;
}

/** A native kernel: outputs, or `null` to hand the call to the previous implementation. */
export type NativeKernelFunc = (args: NativeKernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

const MARK = Symbol.for("ltr.nativeKernel");

/** Register `fn` for `kernelName` on wasm, falling back to the kernel registered before; records it in `report`. */
export function overrideKernel(kernelName: string, impl: NativeImpl, fn: NativeKernelFunc, report: KernelReport): void {
  const prev = tf.getKernel(kernelName, "wasm");
  // Installing twice (initBackend called again) must not wrap our own wrapper.
  if (prev && (prev.kernelFunc as unknown as Record<symbol, unknown>)[MARK]) {
    report.registered[kernelName] = impl;
    return;
  }
  const fallback = prev?.kernelFunc;
  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const out = fn({ inputs: args.inputs, backend: args.backend as BackendWasm, attrs: args.attrs ?? {} });
    if (out !== null) return out;
    if (!fallback) {
      throw new Error(
        `kernel '${kernelName}' on wasm: the native kernel does not handle these inputs and no other implementation is registered`,
      );
    }
    return fallback(args as Parameters<tf.KernelFunc>[0]);
  }) as tf.KernelFunc;
  (kernelFunc as unknown as Record<symbol, unknown>)[MARK] = true;
  if (prev) tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({
    kernelName,
    backendName: "wasm",
    kernelFunc,
    setupFunc: prev?.setupFunc,
    disposeFunc: prev?.disposeFunc,
  });
  report.registered[kernelName] = impl;
}

/** Product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A Float32Array view of a float32 tensor on the wasm heap. Take views only after allocating every output. */
export function f32(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}
