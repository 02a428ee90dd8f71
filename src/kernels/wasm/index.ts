/**
 * The portable wasm kernel set: registrations on top of stock @tensorflow/tfjs-backend-wasm 4.22.0 that
 * make convnet training possible and fast (docs/ARCHITECTURE.md, "Kernels and the native layer"). Pure JS plus calls into stock wasm kernels,
 * no build step. The native layer (`../native/`) may later override some of these registrations.
 *
 *  - Conv2DBackpropFilter   missing in stock wasm (conv gradients throw without it)
 *  - Conv2DBackpropInput    stock is a naive C++ loop
 *  - BatchMatMul, _FusedMatMul   stock transposed forms run a scalar loop; we route them to XNNPACK
 *  - Sum, Mean              reductions over leading axes (BN moments, GAP) without the stock transpose
 *  - FusedBatchNorm gradient   broadcasting instead of Tile (a gradient, so it applies to every backend)
 *
 * `installWasmKernels` is idempotent; `uninstallWasmKernels` restores the stock kernels (for A/B tests).
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import { fusedBatchNormGradConfig } from "./batchnorm_grad.js";
import { conv2DBackpropFilter } from "./conv_backprop_filter.js";
import { conv2DBackpropInput } from "./conv_backprop_input.js";
import { BACKEND } from "./heap.js";
import { makeMatMulKernel } from "./matmul.js";
import { makeLeadingReduceKernel } from "./reduce.js";

export { type FilterGradStrategy, filterGradStrategy, forceFilterGradStrategy } from "./conv_backprop_filter.js";
export { type InputGradStrategy, inputGradStrategy } from "./conv_backprop_input.js";
export { type ConvSetup, convSetup, DEFAULT_COLUMN_BUDGET, setColumnBudget } from "./conv_common.js";

/** What we register, with how to build the kernelFunc given the stock kernel (absent for missing kernels). */
interface Plan {
  /** Kernel name. */
  name: string;
  /** Build our kernelFunc; `stock` is the stock wasm kernel's function, if the backend has one. */
  make: (stock: tf.KernelFunc | undefined) => tf.KernelFunc | null;
}

const PLANS: Plan[] = [
  { name: "Conv2DBackpropFilter", make: () => conv2DBackpropFilter as unknown as tf.KernelFunc },
  { name: "Conv2DBackpropInput", make: () => conv2DBackpropInput as unknown as tf.KernelFunc },
  { name: "BatchMatMul", make: (stock) => (stock ? makeMatMulKernel(stock) : null) },
  { name: "_FusedMatMul", make: (stock) => (stock ? makeMatMulKernel(stock) : null) },
  { name: "Sum", make: (stock) => (stock ? makeLeadingReduceKernel("sum", stock) : null) },
  { name: "Mean", make: (stock) => (stock ? makeLeadingReduceKernel("mean", stock) : null) },
];

/** Stock configs captured the first time we replace them (null: the kernel did not exist). */
const stockKernels = new Map<string, tf.KernelConfig | null>();
/** Our kernelFuncs, to recognise our own registrations on a repeated install. */
const ours = new WeakSet<object>();
let stockBnGrad: tf.GradConfig | undefined | null = null; // null: not captured yet

function setKernel(config: tf.KernelConfig): void {
  // unregister first: registerKernel on an existing key logs a warning on every install
  if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/** Register the wasm kernel set (call after `tf.setBackend("wasm")`); records each kernel in `report`. */
export function installWasmKernels(report: KernelReport): void {
  for (const plan of PLANS) {
    const current = tf.getKernel(plan.name, BACKEND);
    if (!stockKernels.has(plan.name)) {
      stockKernels.set(plan.name, current && !ours.has(current.kernelFunc) ? current : null);
    }
    const stock = stockKernels.get(plan.name) ?? undefined;
    const fn = plan.make(stock?.kernelFunc);
    if (!fn) {
      report.notes.push(`wasm kernels: stock '${plan.name}' not found on backend 'wasm'; left as is`);
      continue;
    }
    ours.add(fn);
    // keep the stock setupFunc: it (re)binds the C++ entry point our wrapper calls if the backend re-inits
    setKernel({ kernelName: plan.name, backendName: BACKEND, kernelFunc: fn, setupFunc: stock?.setupFunc });
    report.registered[plan.name] = "wasm-js";
  }
  if (stockBnGrad === null) stockBnGrad = tf.getGradient("FusedBatchNorm");
  tf.registerGradient(fusedBatchNormGradConfig);
  report.registered["FusedBatchNorm (gradient)"] = "wasm-js";
}

/** Restore the stock wasm kernels and the stock FusedBatchNorm gradient (benchmarks, A/B tests). */
export function uninstallWasmKernels(): void {
  for (const [name, stock] of stockKernels) {
    if (stock) setKernel(stock);
    else if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
  }
  stockKernels.clear();
  if (stockBnGrad) tf.registerGradient(stockBnGrad);
  stockBnGrad = null;
}
