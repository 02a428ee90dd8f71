/** Cosine learning-rate schedule, stepped once per epoch (docs/ARCHITECTURE.md, "Training mechanics"). */
import { describe, expect, it } from "vitest";
import { cosineLr, cosineLrShifted } from "../../src/schedule.js";

describe("cosineLr", () => {
  // The intended schedule lr0·½(1+cos(π·e/E)) for 0-based e: the first epoch runs at lr0. This is NOT the
  // reference code on PyTorch >= 1.1, which steps the scheduler before the first epoch and so runs epoch e
  // at the value for e+1 (last epoch at lr 0); that variant is cosineLrShifted, tested below.
  it("gives the intended per-epoch values", () => {
    expect(cosineLr(0.2, 0, 90)).toBe(0.2);
    expect(cosineLr(0.2, 1, 90)).toBeCloseTo(0.2 * 0.5 * (1 + Math.cos(Math.PI / 90)), 15);
    expect(cosineLr(0.2, 1, 90)).toBeCloseTo(0.19993908, 8);
    expect(cosineLr(0.2, 45, 90)).toBeCloseTo(0.1, 15);
    expect(cosineLr(0.2, 89, 90)).toBeCloseTo(0.2 * 0.5 * (1 - Math.cos(Math.PI / 90)), 15);
    expect(cosineLr(0.2, 89, 90)).toBeGreaterThan(0);
    expect(cosineLr(0.2, 90, 90)).toBeCloseTo(0, 15);
    // A 10-epoch stage-2 run: 0.2, 0.19511, 0.18090, ...
    expect([0, 1, 2, 5, 9].map((e) => cosineLr(0.2, e, 10))).toEqual(
      [0, 1, 2, 5, 9].map((e) => 0.1 * (1 + Math.cos((Math.PI * e) / 10))),
    );
  });

  it("anneals towards endLr (eta_min)", () => {
    expect(cosineLr(0.2, 0, 10, 0.01)).toBeCloseTo(0.2, 15);
    expect(cosineLr(0.2, 5, 10, 0.01)).toBeCloseTo(0.105, 15);
    expect(cosineLr(0.2, 10, 10, 0.01)).toBeCloseTo(0.01, 15);
  });

  it("is monotone non-increasing over the run", () => {
    let prev = Infinity;
    for (let e = 0; e < 30; e++) {
      const lr = cosineLr(0.1, e, 30);
      expect(lr).toBeLessThanOrEqual(prev);
      prev = lr;
    }
  });

  it("rejects bad arguments", () => {
    expect(() => cosineLr(0.2, -1, 90)).toThrow(/epoch must be an integer in \[0, 90\], got -1/);
    expect(() => cosineLr(0.2, 1.5, 90)).toThrow(/epoch/);
    expect(() => cosineLr(0.2, 0, 0)).toThrow(/numEpochs/);
  });
});

describe("cosineLrShifted (reference code on PyTorch >= 1.1)", () => {
  it("skips lr0 and runs the last epoch at endLr", () => {
    expect(cosineLrShifted(0.2, 0, 90)).toBeCloseTo(cosineLr(0.2, 1, 90), 15);
    expect(cosineLrShifted(0.2, 89, 90)).toBeCloseTo(0, 15);
    expect(() => cosineLrShifted(0.2, 90, 90)).toThrow(/\[0, 89\]/);
  });
});
