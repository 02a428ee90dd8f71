/**
 * The numerics mode of the native layer (docs/DETERMINISM.md):
 *  - `deterministic` (default): the same commit and seed give bit-identical numbers on every x86-64-v3 machine
 *    (AVX2 + FMA) whatever its CPU model, cache sizes or thread count. Our own kernels (src: native/src/conv_direct.cc,
 *    winograd.cc) serve every convolution; OpenBLAS is pinned to its Haswell kernels; oneDNN, where still used, is
 *    capped at AVX2.
 *  - `fast`: oneDNN convolutions with the CPU's widest ISA and OpenBLAS's auto-detected core; results then depend on
 *    the machine.
 * Chosen by `LTR_NUMERICS`, read once when the addon loads.
 */
export const NUMERICS_MODES = ["deterministic", "fast"] as const;
export type NumericsMode = (typeof NUMERICS_MODES)[number];

/** The mode requested by `LTR_NUMERICS` (default `deterministic`); a bad value throws naming the valid ones. */
export function requestedNumerics(): NumericsMode {
  const raw = process.env.LTR_NUMERICS;
  if (raw === undefined || raw === "") return "deterministic";
  if (!(NUMERICS_MODES as readonly string[]).includes(raw)) {
    throw new Error(
      `LTR_NUMERICS must be one of ${NUMERICS_MODES.join(", ")}, got '${raw}'; unset it for the default (deterministic)`,
    );
  }
  return raw as NumericsMode;
}

/** The OpenBLAS core the deterministic mode pins (its sgemm kernel and blocking are fixed for this core). */
export const PINNED_OPENBLAS_CORE = "Haswell";

/**
 * Why the native layer cannot run on this CPU, or null when it can: the addon is compiled for x86-64-v3 and would
 * stop with an illegal instruction on a CPU without AVX2 and FMA. Reads /proc/cpuinfo (Linux, where it is built).
 */
export function cpuUnsupported(cpuinfo: string | null): string | null {
  if (process.arch !== "x64") return `the native layer is built for x86-64 (this is ${process.arch})`;
  if (cpuinfo === null) return null;
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "").split(/\s+/));
  const missing = ["avx2", "fma", "f16c", "bmi2", "movbe"].filter((f) => !flags.has(f));
  return missing.length
    ? `this CPU lacks ${missing.join(", ")} (x86-64-v3), which the native layer is compiled for`
    : null;
}
