/**
 * Our kernels, registered on top of a stock tfjs backend. See issue "Fast CPU training".
 * Placeholder until the kernel set lands: reports that nothing extra is registered.
 */
export interface KernelReport {
  /** Kernel names we registered or overrode, with which implementation ("wasm-js", "native-dnnl", ...). */
  registered: Record<string, string>;
  /** One-line notes, e.g. why the native layer was skipped. */
  notes: string[];
}

export function installKernels(_backend: string): KernelReport {
  return { registered: {}, notes: [] };
}
