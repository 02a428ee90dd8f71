/**
 * Row-chunked matrix products for classifiers on features. The big operand (N × d features) stays in a JS
 * Float32Array and is streamed in row chunks; the fixed operand (a weight matrix) is stored pre-transposed as
 * [d, C] so every tfjs call is a plain `matMul(x, w)`: stock tfjs-wasm runs `transposeA/transposeB` through a scalar
 * loop at 0.2–2.3 GFLOP/s against ~27 for the XNNPACK no-transpose path (docs/ARCHITECTURE.md, "Kernels and the native layer"). When a native
 * BatchMatMul kernel is registered (src/kernels) `tf.matMul` picks it up transparently.
 *
 * Engines: "native" calls the addon's OpenBLAS SGEMM directly on the JS arrays (src/kernels/native/addon.ts):
 * no upload, no download, no tensor bookkeeping, and Aᵀ·B without a transpose copy. For a cRT step's two
 * 512×2,048×1,000 products this is the whole difference between the tfjs route (each product uploads 4–8 MB and
 * downloads 2–8 MB) and PyTorch. "tf" is the portable route for every backend; "js" a plain loop.
 *
 * Tiny products run in the JS loop under "auto": below ~32k multiply-adds the per-call tensor overhead dominates
 * (measured on a loaded 2-core machine: 32×32·32×10 takes 0.24 ms in JS against 0.45–1.3 ms through tfjs,
 * 64×64·64×10 is about even, and from 64×64·64×64 on tfjs is 8–50× faster; the JS loop runs at 0.1–0.6 GFLOP/s).
 */
import { createRequire } from "node:module";
import type * as TF from "@tensorflow/tfjs";
import type { NativeAddon } from "../kernels/native/addon.js";
import { nativeAddon } from "./ops.js";

let tfModule: typeof TF | null = null;

/**
 * tfjs, loaded on the first "tf"-engine product: importing the classifiers loads no tensors, so `ltr config show` can
 * check `stage2.method` against their registry quickly. tfjs is a CommonJS package, so this is the very module
 * instance an `import` of it gives.
 */
function tfjs(): typeof TF {
  tfModule ??= createRequire(import.meta.url)("@tensorflow/tfjs") as typeof TF;
  return tfModule;
}

/**
 * "tf": always tfjs; "js": always the JS loop; "native": the addon's SGEMM (an error if it is not built);
 * "auto": JS for tiny products, else native when the addon loaded, else tfjs.
 */
export type GemmEngine = "tf" | "js" | "native" | "auto";

/** Every engine name, for option validation. */
export const GEMM_ENGINES: readonly GemmEngine[] = ["auto", "tf", "js", "native"];

/** Multiply-add count below which "auto" uses the JS loop. */
export const JS_GEMM_MAX_MACS = 1 << 15;
/** Default rows per streamed chunk: 512 × 2,048 floats = 4 MB in, 512 × 1,000 out. */
export const DEFAULT_CHUNK_ROWS = 512;

/** out[m×n] = a[m×k] · b[k×n], all row-major, in plain JS (i-k-j order so the inner loop is contiguous). */
export function jsGemm(
  a: Float32Array,
  m: number,
  k: number,
  b: Float32Array,
  n: number,
  out = new Float32Array(m * n),
): Float32Array {
  out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue; // features are post-ReLU, often sparse
      const bo = p * n;
      for (let j = 0; j < n; j++) out[o + j] += av * b[bo + j];
    }
  }
  return out;
}

/** The addon when "native" may be used, or null; an explicit "native" without the addon is an error naming why. */
function nativeFor(engine: GemmEngine): NativeAddon | null {
  if (engine !== "native" && engine !== "auto") return null;
  const r = nativeAddon();
  if (r.addon) return r.addon;
  if (engine === "native")
    throw new Error(`gemm engine "native" is unavailable: ${r.reason}; use engine "auto" or "tf"`);
  return null;
}

/** The engine that runs a product of `macs` multiply-adds. */
export function resolveEngine(engine: GemmEngine, macs: number): "tf" | "js" | "native" {
  if (engine === "js" || (engine === "auto" && macs < JS_GEMM_MAX_MACS)) return "js";
  if (engine === "tf") return "tf";
  return nativeFor(engine) ? "native" : "tf";
}

function checkOut(out: Float32Array | undefined, size: number, where: string): Float32Array {
  if (out === undefined) return new Float32Array(size);
  if (out.length < size) throw new Error(`${where}: output buffer has ${out.length} values, needs ${size}`);
  return out;
}

/** One-shot out[m×n] = a[m×k] · b[k×n] on the chosen engine (both operands uploaded when on tfjs). */
export function gemm(
  a: Float32Array,
  m: number,
  k: number,
  b: Float32Array,
  n: number,
  engine: GemmEngine = "auto",
  out?: Float32Array,
): Float32Array {
  if (a.length < m * k || b.length < k * n) throw new Error(`gemm: operand too short for [${m}×${k}]·[${k}×${n}]`);
  const e = resolveEngine(engine, m * k * n);
  if (e === "tf") {
    const tf = tfjs();
    const ta = tf.tensor2d(a.subarray(0, m * k), [m, k]);
    const tb = tf.tensor2d(b.subarray(0, k * n), [k, n]);
    const r = readAndDispose(tf.matMul(ta, tb), [ta, tb]);
    if (out === undefined) return r;
    checkOut(out, m * n, "gemm").set(r);
    return out;
  }
  const o = checkOut(out, m * n, "gemm");
  if (e === "js") return jsGemm(a, m, k, b, n, o);
  nativeFor("native")!.sgemm(1, 0, 0, m, n, k, a, 0, b, 0, o, 0);
  return o;
}

/**
 * out[k×n] = a[m×k]ᵀ · b[m×n] (a weight gradient Xᵀ·G). Native multiplies the transpose in place; the other
 * engines copy aᵀ first (`scratch`, k×m, may be passed to reuse) and run a plain product.
 */
export function gemmTN(
  a: Float32Array,
  m: number,
  k: number,
  b: Float32Array,
  n: number,
  engine: GemmEngine = "auto",
  out?: Float32Array,
  scratch?: Float32Array,
): Float32Array {
  if (a.length < m * k || b.length < m * n) throw new Error(`gemmTN: operand too short for [${m}×${k}]ᵀ·[${m}×${n}]`);
  const o = checkOut(out, k * n, "gemmTN");
  const e = resolveEngine(engine, m * k * n);
  if (e === "native") {
    nativeFor("native")!.sgemm(1, 1, 0, k, n, m, a, 0, b, 0, o, 0);
    return o;
  }
  const at = transpose(a, m, k, checkOut(scratch, k * m, "gemmTN scratch"));
  return gemm(at, k, m, b, n, e, o);
}

/**
 * Download a result and free it and its inputs. Deliberately not `tf.tidy(() => t.dataSync())`: tidy walks the
 * returned value looking for tensors, element by element for a typed array, which cost 6× the GEMM itself
 * (150 ms for a 512 × 1,000 result).
 */
function readAndDispose(result: TF.Tensor, inputs: TF.Tensor[]): Float32Array {
  try {
    return result.dataSync() as Float32Array;
  } finally {
    result.dispose();
    for (const t of inputs) t.dispose();
  }
}

/** Transpose a row-major [rows × cols] matrix into [cols × rows]. */
export function transpose(
  a: Float32Array,
  rows: number,
  cols: number,
  out = new Float32Array(rows * cols),
): Float32Array {
  // Blocked so both the reads and the writes stay within a few cache lines.
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = a[i * cols + j];
    }
  }
  return out;
}

/**
 * A fixed right-hand matrix B [k × n] (typically Wᵀ) kept resident as one tfjs tensor, multiplied by row chunks of
 * a JS matrix. Call {@link RowGemm.dispose} when done (the registry entries do so in `finally`).
 */
export class RowGemm {
  private tensor: TF.Tensor2D | null = null;

  /**
   * @param b the right-hand matrix, row-major [k × n] (pre-transposed weights: row p = feature dim p).
   * @param k inner dimension (feature dim d).
   * @param n output columns (number of classes C).
   * @param engine which engine to use; "auto" decides per call from the product size.
   */
  constructor(
    readonly b: Float32Array,
    readonly k: number,
    readonly n: number,
    readonly engine: GemmEngine = "auto",
  ) {
    if (b.length !== k * n) throw new Error(`RowGemm: matrix has ${b.length} values, expected k × n = ${k} × ${n}`);
  }

  /** out[rows × n] = x[rows × k] · B. `x` may be longer than rows × k (only the prefix is used). */
  mul(x: Float32Array, rows: number, out?: Float32Array): Float32Array {
    if (x.length < rows * this.k)
      throw new Error(`RowGemm.mul: x has ${x.length} values, need rows × k = ${rows} × ${this.k}`);
    const e = resolveEngine(this.engine, rows * this.k * this.n);
    if (e === "js") return jsGemm(x, rows, this.k, this.b, this.n, out);
    if (e === "native") return gemm(x, rows, this.k, this.b, this.n, "native", out);
    const tf = tfjs();
    if (this.tensor === null) this.tensor = tf.keep(tf.tensor2d(this.b, [this.k, this.n]));
    const w = this.tensor;
    const xt = tf.tensor2d(x.subarray(0, rows * this.k), [rows, this.k]);
    const res = readAndDispose(tf.matMul(xt, w), [xt]);
    if (out === undefined) return res;
    out.set(res);
    return out;
  }

  /** Free the resident tensor (safe to call twice). */
  dispose(): void {
    this.tensor?.dispose();
    this.tensor = null;
  }
}

/**
 * Stream `feats` [n × k] through `gemm` in chunks of `chunkRows`, calling `visit(logits, row0, rows)` with each
 * chunk's [rows × C] product. The logits buffer is reused between calls (copy what you keep).
 */
export function forEachLogitChunk(
  gemm: RowGemm,
  feats: Float32Array,
  n: number,
  visit: (logits: Float32Array, row0: number, rows: number) => void,
  chunkRows = DEFAULT_CHUNK_ROWS,
): void {
  const k = gemm.k;
  for (let r0 = 0; r0 < n; r0 += chunkRows) {
    const rows = Math.min(chunkRows, n - r0);
    const logits = gemm.mul(feats.subarray(r0 * k, (r0 + rows) * k), rows);
    visit(logits, r0, rows);
  }
}

/** Row arg-max, defined beside its native twin `argmaxRows` (ops.ts). */
export { argmaxRow } from "./ops.js";
