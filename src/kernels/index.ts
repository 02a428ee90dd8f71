/**
 * Our kernels, registered on top of a stock tfjs backend (`tf.registerKernel`), so model code stays plain tfjs
 * and every backend keeps working. Two layers, each optional:
 *  - `wasm/`   pure-JS/WASM registrations that fill the stock wasm backend's gaps (portable, always available);
 *  - `native/` an N-API addon over oneDNN / OpenBLAS, used when it was built, skipped with a one-line notice if not.
 */

import { installNativeKernels } from "./native/index.js";
import type { KernelReport } from "./report.js";
import { installWasmKernels } from "./wasm/index.js";

export type { KernelReport };

export function installKernels(backend: string): KernelReport {
  const report: KernelReport = { registered: {}, notes: [] };
  if (backend !== "wasm") return report;
  installWasmKernels(report);
  installNativeKernels(report);
  return report;
}
