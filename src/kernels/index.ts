/**
 * Our kernels, registered on top of a stock tfjs backend (`tf.registerKernel`), so model code stays plain tfjs
 * and every backend keeps working. Two layers, each optional:
 *  - `wasm/`   pure-JS/WASM registrations that fill the stock wasm backend's gaps (portable, always available);
 *  - `native/` an N-API addon over oneDNN / OpenBLAS, used when it was built, skipped with a one-line notice if not.
 */
import { installWasmKernels } from "./wasm/index.js";
import { installNativeKernels, type NativeInfo } from "./native/index.js";

export interface KernelReport {
  /** Kernel name -> implementation that now serves it ("wasm-js", "native-dnnl", "native-openblas", ...). */
  registered: Record<string, string>;
  /** One-line notes, e.g. why the native layer was skipped. */
  notes: string[];
  /** The native layer's numerics mode, OpenBLAS core and oneDNN ISA actually in use (absent without the addon). */
  native?: NativeInfo;
}

export function installKernels(backend: string): KernelReport {
  const report: KernelReport = { registered: {}, notes: [] };
  if (backend !== "wasm") return report;
  installWasmKernels(report);
  installNativeKernels(report);
  return report;
}
