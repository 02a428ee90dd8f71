/**
 * Kernel diagnostic: forward time of our own convolutions (direct / Winograd, deterministic) against oneDNN's on the
 * convolution shapes of ResNet-50 inference at 224x224, batch 8, NHWC. Not a headline figure (scripts/bench/run.ts
 * and imagenet.ts are): it says which layers dominate and which kernel is slow there.
 * Usage: node --import tsx scripts/bench/conv_shapes.ts [--batch N] [--reps N] [--cpu]
 */
import { loadAddon } from "../../src/kernels/native/index.js";

const argv = process.argv.slice(2);
const arg = (f: string, d: number) => (argv.includes(f) ? Number(argv[argv.indexOf(f) + 1]) : d);
const N = arg("--batch", 8);
const REPS = arg("--reps", 5);
const loaded = loadAddon();
if (!loaded.addon) throw new Error(`conv_shapes: the native layer is not loaded (${loaded.reason})`);
const addon = loaded.addon;

/** [H, C, K, kernel, stride, count in ResNet-50] */
const SHAPES: Array<[number, number, number, number, number, number]> = [
  [224, 3, 64, 7, 2, 1],
  [56, 64, 64, 1, 1, 1],
  [56, 64, 64, 3, 1, 3],
  [56, 64, 256, 1, 1, 4],
  [56, 256, 64, 1, 1, 2],
  [56, 256, 128, 1, 1, 1],
  [56, 128, 128, 3, 2, 1],
  [28, 128, 128, 3, 1, 3],
  [28, 128, 512, 1, 1, 4],
  [28, 512, 128, 1, 1, 3],
  [28, 512, 256, 1, 1, 1],
  [28, 256, 256, 3, 2, 1],
  [14, 256, 256, 3, 1, 5],
  [14, 256, 1024, 1, 1, 6],
  [14, 1024, 256, 1, 1, 5],
  [14, 1024, 512, 1, 1, 1],
  [14, 512, 512, 3, 2, 1],
  [7, 512, 512, 3, 1, 2],
  [7, 512, 2048, 1, 1, 3],
  [7, 2048, 512, 1, 1, 2],
  [56, 256, 512, 1, 2, 1],
  [28, 512, 1024, 1, 2, 1],
  [14, 1024, 2048, 1, 2, 1],
];

function params(H: number, C: number, K: number, k: number, s: number): Int32Array {
  const pad = (k - 1) >> 1;
  const OH = Math.floor((H + 2 * pad - k) / s) + 1;
  return Int32Array.from([N, H, H, C, OH, OH, K, k, k, s, s, 1, 1, pad, pad, pad, pad]);
}

/** --cpu: CPU time of this process (meaningful with LTR_NUM_THREADS=1 on a shared machine), else wall time. */
const CPU = argv.includes("--cpu");
function now(): number {
  if (!CPU) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function time(f: () => void): number {
  f();
  const ts: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = now();
    f();
    ts.push(now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[ts.length >> 1];
}

let totOwn = 0;
let totDnnl = 0;
console.log("shape (H C->K kxk /s) x count       own ms   oneDNN ms  own/oneDNN   GFLOP/s own");
for (const [H, C, K, k, s, count] of SHAPES) {
  const p = params(H, C, K, k, s);
  const OH = p[4];
  const x = new Float32Array(N * H * H * C).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const w = new Float32Array(k * k * C * K).map((_, i) => ((i * 104729) % 1000) / 10000 - 0.05);
  const y = new Float32Array(N * OH * OH * K);
  const own = time(() => addon.convOwn(0, p, x, w, y, 0));
  const dnnl = time(() => addon.conv(0, p, x, w, y));
  const direct = k === 3 && s === 1 ? time(() => addon.convOwn(0, p, x, w, y, 1)) : NaN;
  const flops = 2 * N * OH * OH * K * C * k * k;
  totOwn += own * count;
  totDnnl += dnnl * count;
  console.log(
    `${`${H} ${C}->${K} ${k}x${k} /${s} x${count}`.padEnd(34)} ${own.toFixed(2).padStart(8)} ${dnnl.toFixed(2).padStart(10)} ${(own / dnnl).toFixed(2).padStart(10)} ${(flops / own / 1e6).toFixed(1).padStart(12)}${Number.isNaN(direct) ? "" : `   direct ${direct.toFixed(2)} ms`}`,
  );
}
console.log(`total (x count): own ${totOwn.toFixed(0)} ms, oneDNN ${totDnnl.toFixed(0)} ms per batch of ${N}`);
