/**
 * Our kernels at AVX-512 give the same bits as at AVX2 (native/src/block512.h, docs/DETERMINISM.md "AVX2 and
 * AVX-512"): forward, input gradient and filter gradient, direct and Winograd, the batch-norm epilogue with residual
 * and ReLU, on channel counts that leave partial 16- and 32-channel panels, with NaN, infinities and signed zeros in
 * the inputs. On a CPU without AVX-512F there is only the AVX2 path: the tests there check that it is the one in use
 * and that asking for AVX-512 is refused with a clear error.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type KernelIsa, loadAddon, type NativeAddon } from "../../src/kernels/native/index.js";
import { Rng } from "../../src/rng.js";
import { params, refShape } from "./conv_ref.js";

const loaded = loadAddon();
const hasAvx512 = loaded.addon?.info().cpuAvx512 === true;
const suite = hasAvx512 ? describe : describe.skip;
if (!hasAvx512)
  console.warn(`AVX2/AVX-512 comparison skipped: ${loaded.addon ? "this CPU has no AVX-512F" : loaded.reason}`);

function rand(seed: number, n: number, specials = false): Float32Array {
  const rng = new Rng(seed);
  const a = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  if (specials) {
    const sp = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e-40, 3e38];
    for (let i = 0; i < sp.length; i++) a[Math.floor(rng.uniform(0, n))] = sp[i];
  }
  return a;
}

/** Indices where the two arrays' bit patterns differ (NaN payloads included). */
function bitDiffs(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) d++;
  return d;
}

interface Case {
  name: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: [number, number];
  pads: [number, number, number, number];
  d?: [number, number];
}

// Output channels 40 = 32 + 8 (a pair of panels, then a partial single one), 48 = 32 + 16, 64 = two pairs,
// 33 = a pair with one channel in its second panel; input channels 33, 20 for the input gradient's panels.
const CASES: Case[] = [
  { name: "3x3 s1 33 -> 40", x: [2, 9, 7, 33], f: [3, 3, 33, 40], s: [1, 1], pads: [1, 1, 1, 1] },
  { name: "1x1 s2 17 -> 48 (a shortcut)", x: [2, 10, 10, 17], f: [1, 1, 17, 48], s: [2, 2], pads: [0, 0, 0, 0] },
  { name: "3x3 s2 64 -> 64", x: [1, 8, 8, 64], f: [3, 3, 64, 64], s: [2, 2], pads: [1, 1, 1, 1] },
  { name: "1x1 s1 20 -> 33", x: [3, 7, 7, 20], f: [1, 1, 20, 33], s: [1, 1], pads: [0, 0, 0, 0] },
  { name: "5x3 s1 5 -> 33, wide pads", x: [2, 6, 5, 5], f: [5, 3, 5, 33], s: [1, 1], pads: [2, 1, 2, 1] },
  { name: "7x7 s2 3 -> 64 (a stem)", x: [1, 19, 17, 3], f: [7, 7, 3, 64], s: [2, 2], pads: [3, 3, 3, 3] },
  { name: "3x3 dilation 2, 8 -> 36", x: [2, 9, 9, 8], f: [3, 3, 8, 36], s: [1, 1], pads: [2, 2, 2, 2], d: [2, 2] },
  { name: "3x3 s1 16 -> 16 (ResNet-8 stage 1)", x: [3, 10, 11, 16], f: [3, 3, 16, 16], s: [1, 1], pads: [1, 1, 1, 1] },
  { name: "3x3 s1 24 -> 56", x: [2, 13, 9, 24], f: [3, 3, 24, 56], s: [1, 1], pads: [1, 1, 1, 1] },
];

function runAt(addon: NativeAddon, isa: KernelIsa, c: Case, algo: 1 | 2, specials: boolean) {
  addon.setKernelIsa(isa);
  const s = refShape(c.x, c.f, c.s, c.pads, c.d);
  const p = params(s);
  const x = rand(1, s.N * s.H * s.W * s.C, specials);
  const w = rand(2, s.KH * s.KW * s.C * s.K, specials);
  const dy = rand(3, s.N * s.OH * s.OW * s.K, specials);
  const y = new Float32Array(s.N * s.OH * s.OW * s.K);
  addon.convOwn(0, p, x, w, y, algo);
  const out: Record<string, Float32Array> = { forward: y };
  if (!c.d) {
    const dx = new Float32Array(x.length);
    addon.convOwn(1, p, dy, w, dx, algo);
    out["input gradient"] = dx;
  }
  const dw = new Float32Array(w.length);
  addon.convOwn(2, p, x, dy, dw, algo);
  out["filter gradient"] = dw;
  // The inference tail: batch norm, residual and ReLU in the convolution's stores.
  const K = s.K;
  const mean = rand(4, K);
  const variance = rand(5, K).map((v) => v * v + 0.1);
  const offset = rand(6, K);
  const scale = rand(7, K);
  const bn = new Float32Array(y.length);
  addon.convBnEval(p, x, w, bn, mean, variance, offset, scale, 1e-5, dy, 1);
  out["conv + batch norm + residual + ReLU"] = bn;
  return out;
}

suite("AVX-512 kernels give the AVX2 kernels' bits", () => {
  const addon = loaded.addon as NativeAddon;
  const initial = addon.info().kernelIsa;
  afterAll(() => addon.setKernelIsa(initial));

  it("reports and switches the kernel ISA", () => {
    expect(() => addon.setKernelIsa("sse" as KernelIsa)).toThrow(/'avx2' or 'avx512', got 'sse'/);
    addon.setKernelIsa("avx2");
    expect(addon.info().kernelIsa).toBe("avx2");
    if (hasAvx512) {
      addon.setKernelIsa("avx512");
      expect(addon.info().kernelIsa).toBe("avx512");
    } else {
      expect(() => addon.setKernelIsa("avx512")).toThrow(/needs a CPU with AVX-512F/);
      expect(addon.info().kernelIsa).toBe("avx2");
    }
  });

  it("starts at the widest ISA the CPU has, or at AVX2 with LTR_KERNEL_ISA=avx2", () => {
    const want = process.env.LTR_KERNEL_ISA === "avx2" || !hasAvx512 ? "avx2" : "avx512";
    expect(initial).toBe(want);
  });

  for (const c of hasAvx512 ? CASES : []) {
    const winograd = c.f[0] === 3 && c.f[1] === 3 && c.s[0] === 1 && c.s[1] === 1 && !c.d;
    for (const algo of winograd ? ([1, 2] as const) : ([1] as const)) {
      for (const specials of [false, true]) {
        it(`${c.name}, ${algo === 2 ? "Winograd" : "direct"}${specials ? ", NaN/Inf/-0 inputs" : ""}`, () => {
          const a = runAt(addon, "avx2", c, algo, specials);
          const b = runAt(addon, "avx512", c, algo, specials);
          for (const k of Object.keys(a)) {
            expect(b[k].length, k).toBe(a[k].length);
            expect(bitDiffs(a[k], b[k]), `${k}: elements whose bits differ`).toBe(0);
          }
        });
      }
    }
  }
});
