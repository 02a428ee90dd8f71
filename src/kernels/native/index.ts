/**
 * The native kernel layer: an N-API addon over oneDNN (convolutions), OpenBLAS (GEMM) and our own OpenMP/AVX loops
 * (batch-norm, reductions, element-wise), registered on the tfjs wasm backend after the portable wasm kernels so
 * they win where the addon loaded. Absent or broken addon → one note, and the wasm path stays.
 *
 * Environment: `LTR_NATIVE=0` disables the layer; `LTR_NUM_THREADS` sets the thread count (default 2);
 * `LTR_NUMERICS` = deterministic (default) | fast (src/kernels/native/numerics.ts, docs/DETERMINISM.md).
 */
import type { KernelReport } from "../report.js";
import { loadAddon, type NativeAddon } from "./addon.js";
import { installBatchNormKernels } from "./batchnorm.js";
import { installConvKernels, installGroupedConvKernels } from "./conv.js";
import { installConvBnKernel } from "./conv_bn.js";
import { installElementwiseKernels } from "./elementwise.js";
import { installAliasKernels, installGradientOverrides } from "./gradients.js";
import { installMatMulKernels } from "./matmul.js";
import { installReduceKernels } from "./reduce.js";
import { installSgdKernel } from "./sgd.js";
import { overrideKernel } from "./wrap.js";

export {
  findPackageRoot,
  type KernelIsa,
  type LoadResult,
  loadAddon,
  type NativeAddon,
  type NativeInfo,
  requestedThreads,
} from "./addon.js";
export { type NumericsMode, requestedNumerics } from "./numerics.js";

/** Register every native kernel on wasm; on failure record why in `report.notes` and leave the wasm kernels. */
export function installNativeKernels(report: KernelReport): void {
  const loaded = loadAddon();
  // `in` narrowing, not `!loaded.addon`: tslab type-checks without strict mode, where the latter does not narrow.
  if (!("path" in loaded)) {
    report.notes.push(`native kernel layer skipped: ${loaded.reason}`);
    return;
  }
  const addon: NativeAddon = loaded.addon;
  try {
    installConvKernels(addon, report);
    installGroupedConvKernels(addon, report);
    installMatMulKernels(addon, report);
    installBatchNormKernels(addon, report);
    installConvBnKernel(addon, report);
    installSgdKernel(addon, report);
    installReduceKernels(addon, report);
    installElementwiseKernels(addon, report);
    installGradientOverrides(addon, report);
    installAliasKernels(report, overrideKernel);
    const info = addon.info();
    report.native = info;
    report.notes.push(
      `native kernel layer: ${info.numerics} numerics, ${info.threads} threads, OpenBLAS core ${info.openblasCore}, oneDNN ${info.dnnl} ISA ${info.dnnlIsa}, own kernels ${info.kernelIsa} (${loaded.path})`,
    );
  } catch (e) {
    report.notes.push(`native kernel layer partly installed: ${(e as Error).message.split("\n")[0]}`);
  }
}
