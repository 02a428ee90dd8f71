/**
 * The native twins of the stage-2 loops (native/src/stage2.cc: softmaxXentGrad, sgdMomentum, scaledArgMax,
 * classSums64, normalizeRows, and the direct SGEMM engine) against their JS originals, run under `withoutAddon`.
 * The element-wise twins repeat the JS arithmetic step by step, so they must agree bit for bit; the GEMMs only to
 * float tolerance (OpenBLAS blocks its sums differently). Skipped with a message when the addon is not built.
 */

import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { trainCrt } from "../../src/classifiers/crt.js";
import { argmaxRow, gemm, gemmTN, jsGemm, resolveEngine, transpose } from "../../src/classifiers/gemm.js";
import { trainLws } from "../../src/classifiers/lws.js";
import { fitNcm, NCM_DISTS, NCM_FEAT_TYPES, ncmLogits } from "../../src/classifiers/ncm.js";
import { addClassSums64, argmaxRows, normaliseRows } from "../../src/classifiers/ops.js";
import { tauSweepPredictions } from "../../src/classifiers/tau-norm.js";
import { SgdMomentum, softmaxCrossEntropyGrad } from "../../src/classifiers/train-utils.js";
import { withoutAddon } from "../../src/kernels/native/addon.js";
import { Rng } from "../../src/rng.js";
import { nativeSuite } from "../helpers/native.js";
import { clusters, randomSet } from "./helpers.js";

const suite = nativeSuite("native stage-2 tests");

beforeAll(async () => {
  await initBackend("wasm");
});

function rand(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

function labels(seed: number, n: number, c: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng.uniform(0, c)));
}

suite("native stage-2 twins", () => {
  it("softmax cross-entropy gradient, with bias and bias gradient: bit-identical to JS", () => {
    for (const [rows, c] of [
      [3, 5],
      [17, 129],
      [64, 1000],
    ]) {
      const z0 = rand(rows * c, rows * c, -8, 8);
      const y = labels(c, rows, c);
      const bias = rand(7, c);
      const zn = z0.slice();
      const dbn = new Float32Array(c);
      const rn = softmaxCrossEntropyGrad(zn, rows, c, y, { bias, dBias: dbn });
      const zj = z0.slice();
      const dbj = new Float32Array(c);
      const rj = withoutAddon(() => softmaxCrossEntropyGrad(zj, rows, c, y, { bias, dBias: dbj }));
      expect(rn.correct).toBe(rj.correct);
      expect(rn.lossSum).toBe(rj.lossSum);
      expect(Array.from(zn)).toEqual(Array.from(zj));
      expect(Array.from(dbn)).toEqual(Array.from(dbj));
    }
  });

  it("softmax cross-entropy rejects a label outside [0, C)", () => {
    expect(() => softmaxCrossEntropyGrad(new Float32Array(6), 2, 3, Int32Array.from([0, 3]))).toThrow(
      /label 3 at row 1/,
    );
  });

  it("SGD with momentum: bit-identical to JS over several steps", () => {
    const n = 70_001; // above the parallel threshold, odd
    const pn = rand(1, n);
    const pj = pn.slice();
    const on = new SgdMomentum(n, 0.9, 5e-4);
    const oj = withoutAddon(() => new SgdMomentum(n, 0.9, 5e-4));
    for (let s = 0; s < 4; s++) {
      const g = rand(10 + s, n);
      on.step(pn, g, 0.2 / (s + 1));
      oj.step(pj, g, 0.2 / (s + 1));
    }
    expect(Array.from(pn)).toEqual(Array.from(pj));
    expect(() => on.step(pn.subarray(1), pn.subarray(1), 0.1)).toThrow(/size mismatch/);
  });

  it("the native GEMM engine and the transposed product match the JS loop", () => {
    const [m, k, n] = [37, 300, 41];
    const a = rand(1, m * k);
    const b = rand(2, k * n);
    const g = rand(3, m * n);
    const want = jsGemm(a, m, k, b, n);
    const got = gemm(a, m, k, b, n, "native");
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 3));
    const wantT = jsGemm(transpose(a, m, k), k, m, g, n);
    for (const engine of ["native", "tf", "js"] as const) {
      const gotT = gemmTN(a, m, k, g, n, engine);
      gotT.forEach((v, i) => expect(v).toBeCloseTo(wantT[i], 3));
    }
    expect(resolveEngine("auto", 1 << 20)).toBe("native");
    expect(withoutAddon(() => resolveEngine("auto", 1 << 20))).toBe("tf");
    expect(() => withoutAddon(() => gemm(a, m, k, b, n, "native"))).toThrow(/engine "native" is unavailable/);
    expect(() => gemm(a, m, k, b, n, "native", new Float32Array(3))).toThrow(/output buffer has 3 values/);
  });

  it("τ sweep arg-max over 21 τ: identical predictions with and without the addon", () => {
    const [c, d, n] = [13, 24, 301];
    const weight = rand(4, c * d);
    const feats = rand(5, n * d, 0, 1);
    const taus = Array.from({ length: 21 }, (_, t) => t / 10);
    const args = { weight, numClasses: c, dim: d, engine: "tf" as const, chunkRows: 64 };
    const before = tf.memory().numTensors;
    const native = tauSweepPredictions(args, taus, feats, n);
    const js = withoutAddon(() => tauSweepPredictions(args, taus, feats, n));
    expect(tf.memory().numTensors).toBe(before);
    expect(native.map((p) => Array.from(p))).toEqual(js.map((p) => Array.from(p)));
  });

  it("NCM fit and logits for every feature type and distance: bit-identical to JS", () => {
    const train = randomSet(257, 96, 7, 1);
    const q = rand(9, 40 * 96, 0, 2);
    for (const featType of NCM_FEAT_TYPES) {
      for (const dist of NCM_DISTS) {
        const mn = fitNcm(train, 7, { featType, dist });
        const mj = withoutAddon(() => fitNcm(train, 7, { featType, dist }));
        expect(Array.from(mn.centroids)).toEqual(Array.from(mj.centroids));
        expect(Array.from(mn.mean)).toEqual(Array.from(mj.mean));
        const ln = ncmLogits(mn, q, { engine: "tf" });
        const lj = withoutAddon(() => ncmLogits(mj, q, { engine: "tf" }));
        expect(Array.from(ln)).toEqual(Array.from(lj));
      }
    }
  });

  it("class sums with the total in the same pass: the total equals a separate one-class pass, native and JS", () => {
    const [n, d, k] = [517, 70, 9];
    const x = rand(11, n * d);
    const ids = labels(12, n, k);
    const run = () => {
      const sums = new Float64Array(k * d);
      const total = new Float64Array(d);
      addClassSums64(x, n, d, ids, k, sums, total);
      const alone = new Float64Array(d);
      addClassSums64(x, n, d, new Int32Array(n), 1, alone);
      const plain = new Float64Array(k * d);
      addClassSums64(x, n, d, ids, k, plain);
      return { sums, total, alone, plain };
    };
    const nat = run();
    const js = withoutAddon(run);
    expect(Array.from(nat.total)).toEqual(Array.from(nat.alone));
    expect(Array.from(nat.sums)).toEqual(Array.from(nat.plain));
    expect(Array.from(nat.total)).toEqual(Array.from(js.total));
    expect(Array.from(nat.sums)).toEqual(Array.from(js.sums));
  });

  it("row normalisation read from a source array: bit-identical to the in-place JS loop (4-row groups, zero rows)", () => {
    for (const rows of [1, 3, 4, 7, 65]) {
      const d = 131;
      const src = rand(14 + rows, rows * d, -2, 2);
      src.fill(0, 0, d); // a zero row stays zero
      const mean = rand(15, d);
      for (const m of [null, mean]) {
        const nat = new Float32Array(rows * d);
        normaliseRows(nat, rows, d, m, src);
        const inPlace = src.slice();
        normaliseRows(inPlace, rows, d, m);
        const js = src.slice();
        withoutAddon(() => normaliseRows(js, rows, d, m));
        expect(Array.from(nat)).toEqual(Array.from(js));
        expect(Array.from(inPlace)).toEqual(Array.from(js));
      }
    }
  });

  it("row arg-max: the native path picks what argmaxRow picks (ties, -Infinity, NaN)", () => {
    const [rows, c] = [64, 37];
    const l = rand(13, rows * c);
    for (let j = 0; j < c; j++) l[j] = 0.5; // row 0: all tied, first index wins
    l[c] = Number.NaN; // row 1 starts with NaN
    l[2 * c + 5] = Number.NaN; // row 2: a NaN inside never wins
    for (let j = 0; j < c; j++) l[3 * c + j] = -Infinity; // row 3: an empty-class row
    l[4 * c + 7] = 2;
    l[4 * c + 20] = 2; // row 4: a tie at the maximum
    const want = Int32Array.from({ length: rows }, (_, i) => argmaxRow(l, i, c));
    const nat = new Int32Array(rows);
    argmaxRows(l, rows, c, nat);
    const js = new Int32Array(rows);
    withoutAddon(() => argmaxRows(l, rows, c, js));
    expect(Array.from(nat)).toEqual(Array.from(want));
    expect(Array.from(js)).toEqual(Array.from(want));
  });

  it("cRT and LWS train to the same classifier with and without the addon (engine tf: same GEMMs)", () => {
    const train = clusters([60, 30, 10], 12, 3);
    const val = clusters([10, 10, 10], 12, 4);
    const opts = { train, val, numClasses: 3, epochs: 3, batchSize: 16, engine: "tf" as const };
    const a = trainCrt(opts);
    const b = withoutAddon(() => trainCrt(opts));
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(Array.from(a.bias)).toEqual(Array.from(b.bias));
    expect(a.log).toEqual(b.log);
    const stage1 = { weight: a.weight, bias: a.bias };
    const la = trainLws({ ...opts, stage1 });
    const lb = withoutAddon(() => trainLws({ ...opts, stage1 }));
    expect(Array.from(la.scales)).toEqual(Array.from(lb.scales));
    expect(la.log).toEqual(lb.log);
  });
});
