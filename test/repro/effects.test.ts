/** The paper's effects as checks (what the teach profile must show), on hand-made tables. */
import { describe, expect, it } from "vitest";
import { paperEffects, spearman } from "../../src/repro/effects.js";
import type { FigureData } from "../../src/repro/figure_data.js";
import { buildTables, type Cell } from "../../src/repro/tables.js";

const cell = (sampler: string, classifier: string, few: number, many = 80): Cell => ({
  sampler,
  classifier,
  seed: 0,
  many,
  medium: 50,
  few,
  all: 60,
  val_all: 60,
  run: "runs/x",
});
const good = [
  cell("IB", "Joint", 5),
  cell("CB", "Joint", 60),
  cell("SR", "Joint", 40),
  cell("PB", "Joint", 50),
  cell("IB", "NCM", 30),
  cell("IB", "cRT", 40),
  cell("IB", "LWS", 20),
  cell("IB", "τ-norm", 15),
];
const sweep = (many: [number, number], few: [number, number]) =>
  [0, 1, 2].map((tau, i) => ({
    tau,
    top1: 50,
    many: many[0] + ((many[1] - many[0]) * i) / 2,
    medium: 40,
    few: few[0] + ((few[1] - few[0]) * i) / 2,
  }));
const data = (norms: number[], s = sweep([90, 20], [5, 45])): FigureData => ({
  trainCounts: [500, 100, 20, 5],
  weightNorms: [{ name: "Joint", values: norms }],
  tauSweep: { val: s, test: s, chosenTau: 1 },
});

describe("paperEffects", () => {
  it("passes when all four effects are there", () => {
    const e = paperEffects(buildTables(good), data([2, 1.5, 1.1, 0.9]));
    expect(e.map((x) => x.holds)).toEqual([true, true, true, true]);
    expect(e[0].detail).toBe("Few: IB 5.0; CB 60.0, SR 40.0, PB 50.0 (needs ≥ 20 points more than IB)");
    expect(e[3].detail).toBe("test, τ 0 → 2: Many 90.0 → 20.0, Few 5.0 → 45.0");
  });

  it("fails each effect on its own counter-example", () => {
    const closeFew = good.map((c) => (c.sampler === "SR" ? cell("SR", "Joint", 20) : c));
    expect(paperEffects(buildTables(closeFew), data([2, 1, 1, 0.5]))[0].holds).toBe(false);
    const lwsFlat = good.map((c) => (c.classifier === "LWS" ? cell("IB", "LWS", 5) : c));
    expect(paperEffects(buildTables(lwsFlat), data([2, 1, 1, 0.5]))[1].holds).toBe(false);
    expect(paperEffects(buildTables(good), data([0.5, 1, 1.5, 2]))[2].holds).toBe(false);
    expect(paperEffects(buildTables(good), data([2, 1, 1, 0.5], sweep([90, 95], [5, 45])))[3].holds).toBe(false);
    const none = paperEffects(buildTables([]), null);
    expect(none.every((x) => !x.holds && x.detail.startsWith("missing"))).toBe(true);
  });

  it("spearman: ranks, ties, constants", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(0.8660254, 6);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBe(0);
  });
});
