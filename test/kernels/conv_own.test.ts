/**
 * Our own convolutions (native/src/conv_direct.cc, winograd.cc) against a float64 reference on odd shapes: channel
 * counts that are not multiples of the 8/16-wide vectors, asymmetric pads, unequal strides, dilation, 1x1 and 5x3
 * filters, tiles that overhang the image; NaN propagation; results independent of the thread count.
 */
import { describe, expect, it } from "vitest";
import { loadAddon, type NativeAddon } from "../../src/kernels/native/index.js";
import { Rng } from "../../src/rng.js";
import { params, type RefShape, refBackwardData, refBackwardFilter, refForward, refShape } from "./conv_ref.js";

const loaded = loadAddon();
const suite = loaded.addon ? describe : describe.skip;
if (!loaded.addon) console.warn(`own convolution tests skipped: ${loaded.reason}`);

function rand(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** max |a - b| / max |b|. */
function relErr(a: Float32Array, b: Float64Array): number {
  let d = 0;
  let m = 1e-12;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

type Algo = 1 | 2;
function run(addon: NativeAddon, s: RefShape, algo: Algo, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const p = params(s);
  const y = new Float32Array(s.N * s.OH * s.OW * s.K);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  addon.convOwn(0, p, x, w, y, algo);
  addon.convOwn(1, p, dy, w, dx, algo);
  addon.convOwn(2, p, x, dy, dw, algo);
  return { y, dx, dw };
}

const CASES: Array<{
  name: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: [number, number];
  pads: [number, number, number, number];
  d?: [number, number];
}> = [
  { name: "3x3 s1 'same', 3 -> 5 channels", x: [2, 7, 9, 3], f: [3, 3, 3, 5], s: [1, 1], pads: [1, 1, 1, 1] },
  { name: "3x3 s2, TF 'same' pads (0,1)", x: [3, 8, 8, 4], f: [3, 3, 4, 6], s: [2, 2], pads: [0, 0, 1, 1] },
  { name: "3x2 strides (2,1) valid", x: [2, 9, 7, 5], f: [3, 2, 5, 4], s: [2, 1], pads: [0, 0, 0, 0] },
  { name: "1x1 s2 (a projection shortcut)", x: [2, 10, 10, 4], f: [1, 1, 4, 8], s: [2, 2], pads: [0, 0, 0, 0] },
  { name: "5x3 s3 asymmetric pads", x: [1, 11, 6, 2], f: [5, 3, 2, 3], s: [3, 3], pads: [2, 1, 2, 1] },
  { name: "3x3 s2 ResNet stage entry 16 -> 32", x: [4, 14, 14, 16], f: [3, 3, 16, 32], s: [2, 2], pads: [1, 1, 1, 1] },
  {
    name: "3x3 s1 16 -> 24, width 11 (tiles overhang)",
    x: [4, 9, 11, 16],
    f: [3, 3, 16, 24],
    s: [1, 1],
    pads: [1, 1, 1, 1],
  },
  { name: "3x3 s1 32 -> 20 on 7x7", x: [3, 7, 7, 32], f: [3, 3, 32, 20], s: [1, 1], pads: [1, 1, 1, 1] },
  { name: "3x3 s1 9 -> 17 valid", x: [2, 13, 10, 9], f: [3, 3, 9, 17], s: [1, 1], pads: [0, 0, 0, 0] },
  { name: "3x3 s1 12 -> 10 pads (2,0,1,2)", x: [2, 6, 5, 12], f: [3, 3, 12, 10], s: [1, 1], pads: [2, 0, 1, 2] },
  { name: "3x3 s1 the stem, 1 -> 16", x: [3, 10, 12, 1], f: [3, 3, 1, 16], s: [1, 1], pads: [1, 1, 1, 1] },
];

suite("own convolutions vs a float64 reference", () => {
  const addon = loaded.addon!;
  for (const [i, c] of CASES.entries()) {
    const s = refShape(c.x, c.f, c.s, c.pads, c.d);
    const wino = s.KH === 3 && s.KW === 3 && s.SH === 1 && s.SW === 1 && s.C >= 8 && s.K >= 8;
    for (const algo of (wino ? [1, 2] : [1]) as Algo[]) {
      it(`${c.name} (${algo === 1 ? "direct" : "Winograd F(4x4,3x3)"})`, () => {
        const x = rand(10 + i, s.N * s.H * s.W * s.C);
        const w = rand(20 + i, s.KH * s.KW * s.C * s.K);
        const dy = rand(30 + i, s.N * s.OH * s.OW * s.K);
        const got = run(addon, s, algo, x, w, dy);
        // Winograd F(4x4, 3x3) rounds more than a direct sum (its transforms have entries up to 8).
        const tol = algo === 1 ? 2e-6 : 3e-5;
        expect(relErr(got.y, refForward(s, x, w))).toBeLessThan(tol);
        expect(relErr(got.dx, refBackwardData(s, dy, w))).toBeLessThan(tol);
        expect(relErr(got.dw, refBackwardFilter(s, x, dy))).toBeLessThan(tol);
      });
    }
  }

  it("dilated forward (direct)", () => {
    const s = refShape([2, 9, 10, 3], [3, 3, 3, 4], [1, 1], [2, 2, 2, 2], [2, 2]);
    const x = rand(40, s.N * s.H * s.W * s.C);
    const w = rand(41, s.KH * s.KW * s.C * s.K);
    const y = new Float32Array(s.N * s.OH * s.OW * s.K);
    addon.convOwn(0, params(s), x, w, y, 1);
    expect(relErr(y, refForward(s, x, w))).toBeLessThan(2e-6);
  });

  it("a NaN input pixel reaches every output the reference has as NaN", () => {
    for (const algo of [1, 2] as Algo[]) {
      const s = refShape([2, 9, 9, 16], [3, 3, 16, 16], [1, 1], [1, 1, 1, 1]);
      const x = rand(50, s.N * s.H * s.W * s.C);
      x[((1 * s.H + 4) * s.W + 6) * s.C + 3] = NaN;
      const w = rand(51, s.KH * s.KW * s.C * s.K);
      const dy = rand(52, s.N * s.OH * s.OW * s.K);
      dy[((0 * s.OH + 2) * s.OW + 2) * s.K + 5] = NaN;
      const got = run(addon, s, algo, x, w, dy);
      const wantY = refForward(s, x, w);
      const wantDx = refBackwardData(s, dy, w);
      let nanY = 0;
      for (let k = 0; k < wantY.length; k++) {
        if (Number.isNaN(wantY[k])) {
          nanY++;
          expect(Number.isNaN(got.y[k])).toBe(true);
        } else if (algo === 1) expect(Number.isNaN(got.y[k])).toBe(false); // direct: exactly the reference's NaNs
      }
      expect(nanY).toBeGreaterThan(0);
      for (let k = 0; k < wantDx.length; k++) if (Number.isNaN(wantDx[k])) expect(Number.isNaN(got.dx[k])).toBe(true);
      expect(got.dw.some((v) => Number.isNaN(v))).toBe(true);
    }
  });

  it("the automatic choice: Winograd up to 128 x 128 channel pairs, the direct kernel above (shape only)", () => {
    const pick = (c: number, k: number, hw: number) => {
      const s = refShape([1, hw, hw, c], [3, 3, c, k], [1, 1], [1, 1, 1, 1]);
      const x = rand(11, hw * hw * c);
      const w = rand(12, 9 * c * k);
      const out = (algo: 0 | 1 | 2) => {
        const y = new Float32Array(hw * hw * k);
        addon.convOwn(0, params(s), x, w, y, algo);
        return Buffer.from(y.buffer);
      };
      const auto = out(0);
      return auto.equals(out(2)) ? "winograd" : auto.equals(out(1)) ? "direct" : "neither";
    };
    expect(pick(64, 64, 9)).toBe("winograd");
    expect(pick(128, 128, 7)).toBe("winograd");
    expect(pick(256, 256, 5)).toBe("direct");
    expect(pick(512, 64, 5)).toBe("direct");
  });

  it("rejects views smaller than the shape and Winograd on shapes it does not cover", () => {
    const s = refShape([1, 5, 5, 2], [3, 3, 2, 2], [1, 1], [1, 1, 1, 1]);
    expect(() => addon.convOwn(0, params(s), new Float32Array(10), new Float32Array(36), new Float32Array(50))).toThrow(
      /smaller than the shape/,
    );
    expect(() =>
      addon.convOwn(0, params(s), new Float32Array(50), new Float32Array(36), new Float32Array(50), 2),
    ).toThrow(/Winograd needs/);
  });
});
