import { describe, expect, it } from "vitest";
import { evaluate, shotGroups } from "../src/metrics.js";

describe("shotGroups", () => {
  it("kang: many > 100, few < 20; oltr: many >= 100, few <= 20", () => {
    const counts = [101, 100, 21, 20, 19];
    expect(shotGroups(counts)).toEqual(["many", "medium", "medium", "medium", "few"]);
    expect(shotGroups(counts, "oltr")).toEqual(["many", "many", "medium", "few", "few"]);
    expect(() => shotGroups(counts, "lvis" as "kang")).toThrow(
      /unknown convention 'lvis'; valid conventions: kang, oltr/,
    );
  });
});

describe("evaluate", () => {
  it("top-1, per-class, Many/Medium/Few from training counts, macro accuracy and sklearn macro F1", () => {
    const labels = [0, 0, 0, 1, 1, 2, 2, 3];
    const preds = [0, 0, 1, 1, 2, 2, 0, 0];
    const r = evaluate(preds, labels, [200, 50, 10, 5]);
    expect(r.n).toBe(8);
    expect(r.top1).toBe(0.5);
    expect(r.perClass).toEqual([2 / 3, 0.5, 0.5, 0]);
    expect(r.perClassCount).toEqual([3, 2, 2, 1]);
    expect(r.many).toBeCloseTo(2 / 3, 12);
    expect(r.medium).toBe(0.5);
    expect(r.few).toBe(0.25);
    expect(r.macroAcc).toBeCloseTo((2 / 3 + 1) / 4, 12);
    // sklearn.metrics.f1_score(labels, preds, average="macro") = (4/7 + 1/2 + 1/2 + 0) / 4
    expect(r.macroF1).toBeCloseTo((4 / 7 + 1) / 4, 12);
  });

  it("a group without eval classes scores 0; F1 averages over labels seen in labels or predictions", () => {
    const r = evaluate([0, 1], [0, 0], [150, 50, 5]);
    expect(r.perClass).toEqual([0.5, 0, 0]);
    expect(r.many).toBe(0.5);
    expect(r.medium).toBe(0); // class 1 is absent from the eval labels
    expect(r.few).toBe(0);
    expect(r.macroAcc).toBe(0.5);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 0) / 2, 12);
    const oltr = evaluate([0, 1, 1], [0, 1, 1], [100, 20, 30], "oltr");
    expect([oltr.many, oltr.medium, oltr.few]).toEqual([1, 0, 1]);
  });

  it("empty input scores 0; mismatched or out-of-range inputs are explained", () => {
    const r = evaluate([], [], [10, 10]);
    expect([r.top1, r.many, r.medium, r.few, r.macroAcc, r.macroF1, r.n]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(() => evaluate([0], [0, 1], [5, 5])).toThrow(/1 predictions for 2 labels/);
    expect(() => evaluate([2], [0], [5, 5])).toThrow(/prediction 2 at position 0 is outside \[0, 2\)/);
    expect(() => evaluate([0], [-1], [5, 5])).toThrow(/label -1 at position 0 is outside/);
    expect(evaluate(Int32Array.from([1, 1]), Int32Array.from([1, 0]), [5, 5]).top1).toBe(0.5);
  });
});
