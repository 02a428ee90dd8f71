/** The findings decided from intervals over seeds (src/repro/findings.ts), on hand-made cells. */
import { describe, expect, it } from "vitest";
import { evaluateFindings, findings, type SeedNorms } from "../../src/repro/findings.js";
import { buildTables, type Cell } from "../../src/repro/tables.js";

const SEEDS = [0, 1, 2, 3, 4];
/** A cell whose metrics are base + a per-seed wobble (the same wobble for every classifier of a seed: paired runs). */
function cell(
  sampler: string,
  classifier: string,
  seed: number,
  m: { many: number; medium?: number; few: number; all: number; tau?: number },
  wobble = [0, 0.4, -0.3, 0.2, -0.1],
): Cell {
  const w = wobble[seed % wobble.length];
  return {
    sampler,
    classifier,
    seed,
    many: m.many + w,
    medium: (m.medium ?? 50) + w,
    few: m.few + w,
    all: m.all + w,
    val_all: m.all,
    ...(m.tau !== undefined ? { tau: m.tau } : {}),
    run: `runs/t/${sampler}_${classifier}_${seed}`,
  };
}

const clear: Cell[] = SEEDS.flatMap((s) => [
  cell("IB", "Joint", s, { many: 90, few: 5, all: 60 }),
  cell("IB", "cRT", s, { many: 86, few: 40, all: 75 }, [0.3, -0.2, 0.1, 0, -0.2]),
  cell("IB", "τ-norm", s, { many: 85, few: 45, all: 76, tau: 0.6 + 0.05 * s }, [0.1, 0.2, -0.3, 0, 0.1]),
  cell("IB", "LWS", s, { many: 84, few: 42, all: 74 }, [-0.1, 0.2, 0, 0.3, -0.2]),
  cell("IB", "NCM", s, { many: 83, few: 50, all: 72 }, [0.2, -0.1, 0.1, -0.3, 0]),
  cell("CB", "Joint", s, { many: 88, few: 60, all: 80 }, [1, -1, 0.5, -0.5, 0]),
  cell("SR", "Joint", s, { many: 89, few: 55, all: 79 }, [0.8, -0.6, 0.2, -0.4, 0.1]),
  cell("PB", "Joint", s, { many: 87, few: 65, all: 81 }, [0.3, -0.9, 0.6, -0.2, 0.2]),
  cell("CB", "cRT", s, { many: 85, few: 38, all: 70 }, [1, -1, 0.5, -0.5, 0]),
  cell("SR", "cRT", s, { many: 85, few: 39, all: 71 }, [0.6, -0.2, 0.5, -0.5, 0.3]),
  cell("PB", "cRT", s, { many: 85, few: 37, all: 69 }, [0.3, -0.8, 0.5, -0.1, 0]),
]);

const norms = (gap: number[]): SeedNorms[] =>
  gap.map((g, seed) => ({ seed, trainCounts: [500, 100, 20, 5], values: [1 + g, 0.9, 0.8, 1] }));

describe("findings with intervals", () => {
  it("decides clear effects: holds / does not hold, with the estimate and interval on every line", () => {
    const f = evaluateFindings({ cells: clear, jointNorms: norms([0.5, 0.6, 0.4, 0.55, 0.45]) });
    const by = Object.fromEntries(f.map((x) => [x.id, x]));
    expect(Object.keys(by)).toEqual([
      "few-lift",
      "all-beat",
      "many-trade",
      "rep-best-cRT",
      "sampler-all",
      "sampler-few",
      "tau-range",
      "norm-decay",
    ]);
    expect(by["few-lift"].verdict).toBe("holds");
    expect(by["few-lift"].parts.map((p) => p.label)).toEqual(["cRT", "τ-norm", "LWS", "NCM"]);
    expect(by["few-lift"].parts[0].interval.method).toBe("paired t, 5 seeds");
    expect(by["few-lift"].parts[0].interval.estimate).toBeCloseTo(34.96, 9); // 35 + the mean of the seeds' wobble differences
    expect(by["all-beat"].verdict).toBe("holds");
    expect(by["many-trade"].verdict).toBe("holds");
    expect(by["rep-best-cRT"].verdict).toBe("holds");
    expect(by["rep-best-cRT"].parts[0].interval.method).toBe("Welch t, 5 + 5 seeds");
    expect(by["sampler-all"].verdict).toBe("holds");
    expect(by["tau-range"].verdict).toBe("holds");
    expect(by["norm-decay"].verdict).toBe("holds");
    for (const x of f) {
      expect(x.text.startsWith(x.claim)).toBe(true);
      expect(x.text).toMatch(/\[[^\]]+\]/);
      expect(x.text).toContain(`**${x.verdict}**`);
    }
    expect(by["few-lift"].text).toMatch(/cRT \+35\.0 \[\+3\d\.\d, \+3\d\.\d\] \(holds\)/);
    expect(by["few-lift"].text).toContain("(all 4 must hold)");
  });

  it("a claim against the data does not hold; noise gives inconclusive", () => {
    const reversed = clear.map((c) =>
      c.sampler === "IB" && c.classifier === "Joint" ? { ...c, many: c.many - 20 } : c,
    );
    expect(evaluateFindings({ cells: reversed }).find((x) => x.id === "many-trade")!.verdict).toBe("does not hold");
    // The case: τ over three seeds 1.1, 1.2 and 0.3 — the point estimate (0.87) says "holds", the interval cannot.
    const noisy = [1.1, 1.2, 0.3].map((tau, seed) => cell("IB", "τ-norm", seed, { many: 85, few: 45, all: 76, tau }));
    const t = evaluateFindings({ cells: noisy }).find((x) => x.id === "tau-range")!;
    expect(t.parts[0].interval.estimate).toBeCloseTo(0.8667, 4);
    expect(t.verdict).toBe("inconclusive");
    // τ wholly above 1 does not hold.
    const high = [1.1, 1.2, 1.15].map((tau, seed) => cell("IB", "τ-norm", seed, { many: 85, few: 45, all: 76, tau }));
    expect(evaluateFindings({ cells: high }).find((x) => x.id === "tau-range")!.verdict).toBe("does not hold");
  });

  it("one seed: no interval, every verdict inconclusive", () => {
    const f = evaluateFindings({ cells: clear.filter((c) => c.seed === 0), jointNorms: norms([0.5]) });
    expect(f.length).toBeGreaterThan(5);
    for (const x of f) expect(x.verdict).toBe("inconclusive");
    expect(f[0].text).toContain("[no interval: 1 seed]");
  });

  it("any seed count works: 2, 3 and 7 seeds", () => {
    for (const n of [2, 3, 7]) {
      const seeds = Array.from({ length: n }, (_, i) => i);
      const cells = seeds.flatMap((s) => [
        cell("IB", "Joint", s, { many: 90, few: 5, all: 60 }),
        cell("IB", "cRT", s, { many: 86, few: 40, all: 75 }, [0.3, -0.2, 0.1, 0, -0.2]),
      ]);
      const f = evaluateFindings({ cells }).find((x) => x.id === "few-lift")!;
      expect(f.parts[0].interval.n).toBe(n);
      expect(f.verdict).toBe("holds");
    }
  });

  it("the Markdown lines keep the openings the notebooks select by, and fall back without runs", () => {
    const lines = findings(buildTables(clear), null, norms([0.5, 0.6, 0.4, 0.55, 0.45]));
    expect(lines.filter((l) => l.startsWith("With the Joint classifier"))).toHaveLength(2);
    expect(lines.filter((l) => /^(Re-balancing|A re-balanced)/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => /^For /.test(l))).toHaveLength(1);
    expect(findings(buildTables([]), null)).toEqual(["No finished runs yet."]);
  });
});
