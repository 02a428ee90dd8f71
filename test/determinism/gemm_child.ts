/**
 * Child process of determinism.test.ts: sha256 of GEMM products through the native layer's `sgemm` (OpenBLAS) on
 * shapes where OpenBLAS's result depends on its thread count, under the environment's LTR_NUM_THREADS.
 */
import { createHash } from "node:crypto";
import { loadAddon } from "../../src/kernels/native/index.js";
import { Rng } from "../../src/rng.js";

const loaded = loadAddon();
if (!loaded.addon) throw new Error(`native layer unavailable: ${loaded.reason}`);
const a = loaded.addon;
const h = createHash("sha256");
for (const [m, n, k, ta, tb] of [
  [10000, 10, 64, 0, 1],
  [9324, 64, 10, 1, 0],
  [333, 77, 555, 0, 0],
]) {
  const rng = new Rng(m + n + k);
  const A = Float32Array.from({ length: m * k }, () => rng.uniform(-1, 1));
  const B = Float32Array.from({ length: k * n }, () => rng.uniform(-1, 1));
  const C = new Float32Array(m * n);
  a.sgemm(1, ta, tb, m, n, k, A, 0, B, 0, C, 0);
  h.update(Buffer.from(C.buffer));
}
console.log(JSON.stringify({ sha256: h.digest("hex"), info: a.info() }));
