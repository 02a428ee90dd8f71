import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { linearLogits } from "../../src/classifiers/linear.js";
import { classifiers } from "../../src/classifiers/registry.js";
import {
  DEFAULT_TAU_GRID,
  selectTau,
  type TauSweep,
  tauNormPredict,
  tauNormWeight,
  tauSweep,
  tauSweepPredictions,
} from "../../src/classifiers/tau-norm.js";
import { tauNormWeightNorms } from "../../src/classifiers/weight-norms.js";
import { randomMatrix, randomSet } from "./helpers.js";

beforeAll(async () => {
  await initBackend("wasm");
});

// w0 = (3,4) with norm 5, w1 = (1,0) with norm 1, w2 = (0,2) with norm 2.
const W = Float32Array.from([3, 4, 1, 0, 0, 2]);

describe("tau-norm", () => {
  it("uses the original grid 0, 0.1, ..., 2.0", () => {
    expect(DEFAULT_TAU_GRID.length).toBe(21);
    expect(DEFAULT_TAU_GRID[7]).toBe(0.7);
    expect(DEFAULT_TAU_GRID[20]).toBe(2);
  });

  it("normalises rows by ‖w_j‖^τ and drops the bias (golden logits at τ = 0.5 and τ = 1)", () => {
    const w5 = tauNormWeight(W, 3, 2, 0.5);
    const s5 = Math.sqrt(5);
    [3 / s5, 4 / s5, 1, 0, 0, 2 / Math.SQRT2].forEach((v, i) => expect(w5[i]).toBeCloseTo(v, 6));
    const x = Float32Array.from([1, 1, 2, 0]);
    const l = linearLogits({ weight: w5, numClasses: 3, dim: 2 }, x, 2);
    [7 / s5, 1, Math.SQRT2, 6 / s5, 2, 0].forEach((v, i) => expect(l[i]).toBeCloseTo(v, 5));
    const w1 = tauNormWeight(W, 3, 2, 1);
    [0.6, 0.8, 1, 0, 0, 1].forEach((v, i) => expect(w1[i]).toBeCloseTo(v, 6));
    // x = (1,1): τ=0 logits (7, 1, 2) → class 0; τ=1 logits (1.4, 1, 1) → class 0; x = (0,1) flips from 0 to 2.
    expect(Array.from(tauNormPredict({ weight: W, numClasses: 3, dim: 2 }, 0, Float32Array.from([0, 1]), 1))).toEqual([
      0,
    ]);
    expect(Array.from(tauNormPredict({ weight: W, numClasses: 3, dim: 2 }, 2, Float32Array.from([0, 1]), 1))).toEqual([
      2,
    ]);
    const norms = tauNormWeightNorms(W, 3, 2, 0.5);
    [Math.sqrt(5), 1, Math.SQRT2].forEach((v, i) => expect(norms[i]).toBeCloseTo(v, 6));
  });

  for (const engine of ["js", "tf"] as const) {
    it(`the one-GEMM sweep equals one GEMM per τ for all 21 τ (${engine})`, () => {
      const before = tf.memory().numTensors;
      const c = 7;
      const d = 16;
      const data = randomSet(300, d, c, 11);
      // Rows with very different norms, so τ changes the predictions.
      const w = randomMatrix(c, d, 12);
      for (let j = 0; j < c; j++) for (let p = 0; p < d; p++) w[j * d + p] *= 0.2 + j * 0.6;
      const args = { weight: w, numClasses: c, dim: d, engine, chunkRows: 64 };
      const fast = tauSweepPredictions(args, DEFAULT_TAU_GRID, data.feats, data.n);
      const distinct = new Set<string>();
      DEFAULT_TAU_GRID.forEach((tau, t) => {
        const naive = tauNormPredict(args, tau, data.feats, data.n);
        expect(Array.from(fast[t])).toEqual(Array.from(naive));
        distinct.add(Array.from(naive).join(","));
      });
      expect(distinct.size).toBeGreaterThan(3); // the check is not vacuous
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("selects τ by val top-1 with ties going to the smaller τ", () => {
    const row = (tau: number, top1: number) => ({ tau, many: 0, medium: 0, few: 0, top1, macroAcc: 1 - top1 });
    const sweep: TauSweep<"val"> = {
      split: "val",
      rows: [row(0, 0.4), row(0.3, 0.6), row(0.1, 0.6), row(0.5, 0.5)],
      results: [],
    };
    expect(selectTau(sweep)).toEqual({ tau: 0.1, index: 2, metric: "top1", value: 0.6, split: "val" });
    expect(selectTau(sweep, "macroAcc").tau).toBe(0);
    // A test table cannot be passed (type error, checked by tsc) and is refused at run time too.
    const testTable: TauSweep<"test"> = { split: "test", rows: sweep.rows, results: [] };
    // @ts-expect-error selectTau only accepts a val sweep
    expect(() => selectTau(testTable)).toThrow(/selectTau: expected a val sweep, got split 'test'/);
  });

  it("chooses τ on val only: permuting or corrupting test labels leaves the choice unchanged", async () => {
    const before = tf.memory().numTensors;
    const c = 6;
    const d = 12;
    const train = randomSet(400, d, c, 1);
    const val = randomSet(120, d, c, 2);
    const test = randomSet(150, d, c, 3);
    const w = randomMatrix(c, d, 4);
    for (let j = 0; j < c; j++) for (let p = 0; p < d; p++) w[j * d + p] *= 1 + j;
    const trainCounts = [300, 150, 60, 40, 10, 5];
    const run = (t: typeof test) =>
      classifiers.get("tau_norm")({
        train,
        val,
        test: t,
        trainCounts,
        numClasses: c,
        stage1: { weight: w, bias: new Float32Array(c) },
      });
    const base = await run(test);
    const perm = Int32Array.from(test.labels).reverse();
    const shifted = test.labels.map((y) => (y + 1) % c);
    for (const labels of [perm, shifted]) {
      const r = await run({ ...test, labels });
      expect(r.extra.tau).toBe(base.extra.tau);
      expect(r.val).toEqual(base.val);
    }
    const ex = base.extra as { tau: number; valSweep: TauSweep<"val">; testSweep: TauSweep<"test"> };
    expect(ex.valSweep.rows.length).toBe(21);
    expect(ex.testSweep.split).toBe("test");
    const best = Math.max(...ex.valSweep.rows.map((r) => r.top1));
    expect(ex.valSweep.rows.find((r) => r.tau === ex.tau)!.top1).toBe(best);
    expect(base.test.top1).toBe(ex.testSweep.rows.find((r) => r.tau === ex.tau)!.top1);
    // the val sweep reproduces a direct evaluation at the chosen τ
    const direct = tauSweep("val", { weight: w, numClasses: c, dim: d }, [ex.tau], val, trainCounts);
    expect(direct.rows[0].top1).toBe(base.val.top1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
