/**
 * Loading the `ltr_native` N-API addon (native/build/Release/ltr_native.node) and its typed surface.
 *
 * The addon is optional: it is built by `npm run build:native` (also run from `postinstall`) only where g++, the
 * Node headers, oneDNN and OpenBLAS exist. Every function works zero-copy on Float32Array views of the wasm heap.
 */

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuUnsupported, type NumericsMode, PINNED_OPENBLAS_CORE, requestedNumerics } from "./numerics.js";

/** The functions exported by the native addon (native/src/ops.h lists them; native/src/module.cc documents for argument meanings). */
export interface NativeAddon {
  /** Sets the OpenMP (oneDNN and our loops) and OpenBLAS thread counts. */
  setThreads(n: number): void;
  /** Numerics mode: 0 deterministic, 1 fast (call once, before any oneDNN primitive exists). */
  setNumerics(mode: 0 | 1): void;
  /** Library versions, the thread count, OpenBLAS's core, oneDNN's ISA in effect and the numerics mode. */
  info(): NativeInfo;
  /**
   * The vector width of our own kernels from now on: "avx512" (the default where the CPU has AVX-512F) or "avx2"
   * (the default elsewhere, or with LTR_KERNEL_ISA=avx2). Both give the same bits (docs/DETERMINISM.md, "AVX2 and
   * AVX-512"); throws for "avx512" on a CPU without it.
   */
  setKernelIsa(isa: KernelIsa): void;
  /** Row-major batched C[i] = op(A[i])·op(B[i]); a stride of 0 broadcasts that operand over the batch. */
  sgemm(
    batch: number,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    strideA: number,
    b: Float32Array,
    strideB: number,
    c: Float32Array,
    strideC: number,
  ): void;
  /** oneDNN NHWC convolution: kind 0 forward (x, w → y), 1 input gradient (dy, w → dx), 2 filter gradient (x, dy → dw). */
  conv(kind: 0 | 1 | 2, params: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /**
   * Our own deterministic NHWC convolution (same arguments as `conv`); algo 0 picks Winograd F(4x4, 3x3) where it
   * applies (3x3, stride 1, >= 8 channels, C x K <= 128 x 128) and the direct kernel elsewhere, 1 forces direct,
   * 2 forces Winograd.
   */
  convOwn(
    kind: 0 | 1 | 2,
    params: Int32Array,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    algo?: 0 | 1 | 2,
  ): void;
  /**
   * Inference relu?(bn(conv(x, w)) + residual?) in one pass (same conv params as `convOwn`, statistics of K entries),
   * bit-identical to convOwn's forward followed by batchNorm with the same residual and ReLU.
   */
  convBnEval(
    params: Int32Array,
    x: Float32Array,
    w: Float32Array,
    out: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array,
    scale: Float32Array,
    eps: number,
    residual: Float32Array | null,
    relu: 0 | 1,
  ): void;
  /** out[R,C] = a ∘ b with broadcast modes 0 full, 1 row vector [C], 2 column vector [R], 3 scalar. */
  binary(
    op: number,
    r: number,
    c: number,
    a: Float32Array,
    aMode: number,
    b: Float32Array,
    bMode: number,
    out: Float32Array,
  ): void;
  /** Element-wise unary op; `alpha` is the op's parameter (Step's value for x ≤ 0, the scale factor). */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[O,I] = reduction over the middle axis of x[O,Rd,I]. */
  reduce(op: number, o: number, rd: number, i: number, x: Float32Array, out: Float32Array): void;
  /**
   * Per-channel (last axis) batch normalisation of x[R,C]; with `residual` and/or `relu` (1), then + residual and a
   * ReLU, each rounded as the separate Add and Relu kernels round it.
   */
  batchNorm(
    r: number,
    c: number,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    eps: number,
    out: Float32Array,
    residual?: Float32Array | null,
    relu?: number,
  ): void;
  /** All FusedBatchNorm input gradients in two passes; null outputs are skipped. */
  bnGrad(
    r: number,
    c: number,
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    eps: number,
    dx: Float32Array | null,
    dMean: Float32Array | null,
    dVar: Float32Array | null,
    dScale: Float32Array | null,
    dOffset: Float32Array | null,
  ): void;
  /** Training-mode batch statistics of x[R,C] per channel: mean and biased variance (two passes). */
  bnMoments(r: number, c: number, x: Float32Array, mean: Float32Array, variance: Float32Array): void;
  /** Training-mode batch-norm gradient through the batch statistics: dx, dScale, dOffset in two passes. */
  bnTrainGrad(
    r: number,
    c: number,
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    eps: number,
    dx: Float32Array,
    dScale: Float32Array,
    dOffset: Float32Array,
  ): void;
  /** Training-mode batch norm y = act(γ·x̂ + β [+ residual]) of x[R,C]; writes y and the batch mean / biased variance. */
  bnActForward(
    r: number,
    c: number,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    residual: Float32Array | null,
    relu: number,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  /** Gradient of bnActForward: dx, dGamma, dBeta and (when given) dResidual, in two passes over dy, x, y. */
  bnActBackward(
    r: number,
    c: number,
    dy: Float32Array,
    x: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    relu: number,
    eps: number,
    dx: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
    dResidual: Float32Array | null,
  ): void;
  /** PyTorch running statistics: out = (1 − momentum)·running + momentum·mean, (1 − momentum)·runningVar + varFactor·variance. */
  bnRunning(
    c: number,
    runningMean: Float32Array,
    runningVar: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    momentum: number,
    varFactor: number,
    outMean: Float32Array,
    outVar: Float32Array,
  ): void;
  /** Gradient of (a − b)² for a full [R,C] and b broadcast by `bMode`: da = 2(a−b)·dy, db = −Σ da over b's broadcast axes. */
  sqDiffGrad(
    r: number,
    c: number,
    a: Float32Array,
    b: Float32Array,
    bMode: number,
    dy: Float32Array,
    da: Float32Array,
    db: Float32Array | null,
  ): void;
  /** Row-wise arg-max of x[R,C] into `out` (int32). */
  argMaxRows(r: number, c: number, x: Float32Array, out: Int32Array): void;
  /** out[K,D] = Σ rows of x[N,D] by segment id (ids outside [0,K) dropped). */
  segmentSum(n: number, d: number, k: number, x: Float32Array, ids: Int32Array, out: Float32Array): void;
  /**
   * Logits z[R,C] (+ bias[C] when given) → gradient of the mean softmax cross-entropy, in place; dBias (when given)
   * receives its column sums. Returns [Σ row losses, rows correct].
   */
  softmaxXentGrad(
    r: number,
    c: number,
    z: Float32Array,
    labels: Int32Array,
    bias: Float32Array | null,
    dBias: Float32Array | null,
  ): [number, number];
  /** Every τ of a sweep in one pass: out[t·outStride + i] = first arg-max over j of logits[i,j]·scales[t,j]. */
  scaledArgMax(
    r: number,
    c: number,
    t: number,
    logits: Float32Array,
    scales: Float32Array,
    out: Int32Array,
    outStride: number,
  ): void;
  /** sums[K,D] (float64) += rows of x[N,D] grouped by id, each column in row order; `total` [D] += every row. */
  classSums64(
    n: number,
    d: number,
    k: number,
    x: Float32Array,
    ids: Int32Array,
    sums: Float64Array,
    total?: Float64Array | null,
  ): void;
  /** Rows of x[R,D] (read from `src` when given) minus `mean`, scaled to unit L2 norm, into x (zero rows stay zero). */
  normalizeRows(r: number, d: number, x: Float32Array, mean: Float32Array | null, src?: Float32Array | null): void;
  /** src/train/sgd.ts's step in float32, op for op: d = g + p·wd, v = buf·μ + d, p' = p − v·lr, into the outputs. */
  sgdStepF32(
    param: Float32Array,
    grad: Float32Array,
    buf: Float32Array,
    outParam: Float32Array,
    outBuf: Float32Array,
    lr: number,
    momentum: number,
    weightDecay: number,
  ): void;
  /** PyTorch SGD step in place: v ← μ·v + g + wd·p; p ← p − lr·v. */
  sgdMomentum(
    param: Float32Array,
    grad: Float32Array,
    v: Float32Array,
    lr: number,
    momentum: number,
    weightDecay: number,
  ): void;
}

/** What `info()` reports; recorded in every run manifest. */
export interface NativeInfo {
  dnnl: string;
  openblas: string;
  threads: number;
  /** OpenBLAS's own thread count (fixed at 2 in deterministic mode: its results depend on it). */
  openblasThreads: number;
  /** The OpenBLAS core whose kernels run (pinned to Haswell in deterministic mode). */
  openblasCore: string;
  /** oneDNN's effective ISA and whether it was capped. */
  dnnlIsa: string;
  /** The vector width our own kernels run at (setKernelIsa). */
  kernelIsa: KernelIsa;
  /** Whether this CPU has AVX-512F. */
  cpuAvx512: boolean;
  numerics: NumericsMode;
}

/** Vector widths of our own kernels (native/src/common.h, KernelIsa). */
export type KernelIsa = "avx2" | "avx512";

/** Outcome of trying to load the addon: the addon, or the one-line reason it is unavailable. */
export type LoadResult = { addon: NativeAddon; path: string } | { addon: null; reason: string };

const ADDON_REL = join("native", "build", "Release", "ltr_native.node");
const PACKAGE_NAME = "decoupling-lt";

/**
 * The package root: walk up from `start` (default: the folder of this module, so an installed copy finds its own
 * native/build) to the `package.json` named decoupling-lt.
 */
export function findPackageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Thread count from `LTR_NUM_THREADS` (default 2, both cores of the reference machine). */
export function requestedThreads(): number {
  const raw = process.env.LTR_NUM_THREADS;
  if (raw === undefined || raw === "") return 2;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`LTR_NUM_THREADS must be a positive integer, got '${raw}'; unset it to use 2 threads`);
  }
  return n;
}

let cached: LoadResult | null = null;

/**
 * OpenMP threads that spin after a parallel region steal the cores from OpenBLAS's own thread pool (and from other
 * processes on a shared machine): a cRT step took 5.8x longer with libgomp's default spinning (300,000 spins, ~3 ms),
 * so by default the workers sleep at once (OMP_WAIT_POLICY=passive). A stage-1 step is the opposite case: hundreds
 * of parallel regions back to back with a little JS between them, where waking a sleeping worker costs 25-150 us per
 * region; there a short spin (~0.1 ms, about the longest gap between two kernels) makes a ResNet-8 / ResNet-32 step
 * about 12-15% faster at 2 threads, and a cRT epoch 4-8% slower (docs/PERFORMANCE.md, "Two threads").
 */
const STAGE1_SPIN_COUNT = 10_000;
/** Marks a wait policy chosen by this loader (so a child process chooses its own instead of inheriting it). */
const POLICY_MARK = "LTR_OMP_POLICY_DEFAULT";
let spinWanted = false;

/**
 * Ask for the stage-1 wait policy (a short spin between parallel regions) when the addon is loaded. Call it before
 * the first `loadAddon` / `initBackend` of a process that trains stage 1; once the addon is loaded it has no effect.
 */
export function preferSpinningWorkers(): void {
  spinWanted = true;
}

let disabledDepth = 0;

/** Load the addon once; never throws (a failure becomes `{ addon: null, reason }`). */
export function loadAddon(): LoadResult {
  if (disabledDepth > 0) return { addon: null, reason: "disabled inside withoutAddon()" };
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

/**
 * Run `fn` as if the addon were not built: the stage-2 code that calls the addon directly (GEMM engine "auto",
 * cRT/LWS steps, NCM, the τ sweep) takes its JS/tfjs path. Kernels already registered with tfjs are unaffected.
 * Tests use it to compare each native twin with its JS original.
 */
export function withoutAddon<T>(fn: () => T): T {
  disabledDepth++;
  try {
    return fn();
  } finally {
    disabledDepth--;
  }
}

function readCpuinfo(): string | null {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return null;
  }
}

function tryLoad(): LoadResult {
  if (process.env.LTR_NATIVE === "0") return { addon: null, reason: "disabled by LTR_NATIVE=0" };
  const numerics = requestedNumerics();
  const cpu = cpuUnsupported(readCpuinfo());
  if (cpu) return { addon: null, reason: cpu };
  const root = findPackageRoot();
  if (!root)
    return { addon: null, reason: `no ${PACKAGE_NAME} package.json above ${dirname(fileURLToPath(import.meta.url))}` };
  const path = join(root, ADDON_REL);
  if (!existsSync(path)) return { addon: null, reason: `${ADDON_REL} not built (run \`npm run build:native\`)` };
  // The OpenMP wait policy, unless the user chose one (a policy this loader chose in a parent process is re-chosen).
  // Must be in the environment before libgomp is loaded with the addon.
  if (
    process.env[POLICY_MARK] === "1" ||
    (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined)
  ) {
    delete process.env.OMP_WAIT_POLICY;
    delete process.env.GOMP_SPINCOUNT;
    if (spinWanted) process.env.GOMP_SPINCOUNT = String(STAGE1_SPIN_COUNT);
    else process.env.OMP_WAIT_POLICY = "passive";
    process.env[POLICY_MARK] = "1";
  }
  // OpenBLAS's own threads spin for 2^28 cycles (~0.1 s) after every GEMM by default, so an OpenMP loop right after
  // a GEMM (the softmax of a cRT step, the SGD update, a oneDNN convolution) finds one core busy and runs at half
  // speed (measured: the cRT softmax took 6.2 ms after a GEMM against 3.2 ms alone). 2^4 cycles: sleep at once.
  if (process.env.OPENBLAS_THREAD_TIMEOUT === undefined) process.env.OPENBLAS_THREAD_TIMEOUT = "4";
  // Deterministic numerics: OpenBLAS picks its kernels by CPU at load time (a DYNAMIC_ARCH build); pin the Haswell
  // core, whose sgemm kernel and blocking are fixed at compile time (docs/DETERMINISM.md). Read by libopenblas's
  // constructor when the addon below is loaded, so it must be in the environment now.
  if (numerics === "deterministic") process.env.OPENBLAS_CORETYPE = PINNED_OPENBLAS_CORE;
  try {
    const req = createRequire(join(root, "noop.js"));
    const addon = req(path) as NativeAddon;
    addon.setNumerics(numerics === "fast" ? 1 : 0);
    addon.setThreads(requestedThreads());
    const core = addon.info().openblasCore;
    if (numerics === "deterministic" && core.toLowerCase() !== PINNED_OPENBLAS_CORE.toLowerCase()) {
      return {
        addon: null,
        reason: `OpenBLAS runs its ${core} kernels although OPENBLAS_CORETYPE=${PINNED_OPENBLAS_CORE} was set before loading; deterministic numerics need the pinned core (set LTR_NUMERICS=fast to accept machine-dependent results)`,
      };
    }
    return { addon, path };
  } catch (e) {
    return { addon: null, reason: `${path} failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
}
