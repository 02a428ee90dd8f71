/**
 * What the kernel layers registered, recorded in every run manifest. Its own module so that the layers (wasm/,
 * native/) and their installer (index.ts) all depend on it and not on each other.
 */
import type { NativeInfo } from "./native/addon.js";

export interface KernelReport {
  /** Kernel name -> implementation that now serves it ("wasm-js", "native-dnnl", "native-openblas", ...). */
  registered: Record<string, string>;
  /** One-line notes, e.g. why the native layer was skipped. */
  notes: string[];
  /** The native layer's numerics mode, OpenBLAS core and oneDNN ISA actually in use (absent without the addon). */
  native?: NativeInfo;
}
