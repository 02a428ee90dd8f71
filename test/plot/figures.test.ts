import { describe, expect, it } from "vitest";
import {
  classCountFigure,
  normaliseSeries,
  samplerClassifierFigure,
  samplingFigure,
  shotBarsFigure,
  shotBoundaries,
  sortByCountDesc,
  tauSweepFigure,
  weightNormFigure,
} from "../../src/plot/figures.js";
import { tauSliderHtml } from "../../src/plot/tau_slider.js";

type Shape = { x0: number; x1: number; line: { dash: string } };
type Ann = { text: string; x: number };

/** ImageNet-LT's group sizes (385 / 479 / 136), with classes deliberately out of count order. */
function imagenetLikeCounts(): number[] {
  const counts = [...Array<number>(385).fill(150), ...Array<number>(479).fill(50), ...Array<number>(136).fill(10)];
  // Deterministic interleave so sorting matters: reverse, then swap neighbours.
  counts.reverse();
  for (let i = 0; i + 1 < counts.length; i += 2) [counts[i], counts[i + 1]] = [counts[i + 1], counts[i]];
  return counts;
}

describe("shotBoundaries / sorting", () => {
  it("puts the ImageNet-LT boundaries at class 385 and 864", () => {
    const b = shotBoundaries(imagenetLikeCounts());
    expect(b.manyMedium).toBe(385);
    expect(b.mediumFew).toBe(864);
    expect(b.regions).toEqual({ many: [0, 385], medium: [385, 864], few: [864, 1000] });
  });

  it("uses the kang thresholds (n > 100 many, n < 20 few) and handles a missing group", () => {
    // CIFAR-10-LT exp IF 100: 5000 … 50, no Few class.
    const c10 = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50];
    const b = shotBoundaries(c10);
    expect(b.manyMedium).toBe(8);
    expect(b.mediumFew).toBeNull();
    expect(b.regions.few).toEqual([10, 10]);
    expect(shotBoundaries([100, 101, 20, 19]).regions).toEqual({ many: [0, 1], medium: [1, 3], few: [3, 4] });
  });

  it("sorts by descending count with ties in class order", () => {
    expect(sortByCountDesc([3, 5, 3, 9])).toEqual([3, 1, 0, 2]);
    expect(normaliseSeries([4, 2, 1])).toEqual([1, 0.5, 0.25]);
    expect(normaliseSeries([0, 2, 4])).toEqual([0, 0.5, 1]);
  });
});

describe("weightNormFigure", () => {
  const counts = imagenetLikeCounts();
  const joint = counts.map((n, j) => n * (1 + (j % 3)));
  const fig = weightNormFigure({
    trainCounts: counts,
    series: [
      { name: "Joint", values: joint },
      { name: "cRT", values: counts.map(() => 2) },
    ],
  });

  it("draws one line per series plus the dotted data curve, sorted and normalised", () => {
    expect(fig.data.map((t) => t.name)).toEqual(["Joint", "cRT", "data (n_j)"]);
    const order = sortByCountDesc(counts);
    const y = fig.data[0].y as number[];
    expect(y).toHaveLength(1000);
    expect(y[0]).toBe(1);
    expect(y[500]).toBeCloseTo(joint[order[500]] / joint[order[0]], 12);
    expect(fig.data[1].y as number[]).toEqual(Array<number>(1000).fill(1));
    expect((fig.data[2].line as { dash: string }).dash).toBe("dot");
    expect((fig.data[2].y as number[]).at(-1)).toBeCloseTo(10 / 150, 12);
  });

  it("marks the boundaries with dash-dot lines and labels the regions", () => {
    const shapes = fig.layout!.shapes as Shape[];
    expect(shapes.map((s) => s.x0)).toEqual([384.5, 863.5]);
    expect(shapes.every((s) => s.line.dash === "dashdot" && s.x0 === s.x1)).toBe(true);
    const ann = fig.layout!.annotations as Ann[];
    expect(ann.map((a) => a.text)).toEqual(["Many", "Medium", "Few"]);
    expect(ann.map((a) => a.x)).toEqual([192, 624, 931.5]);
    expect((fig.layout!.yaxis as { showticklabels: boolean }).showticklabels).toBe(false);
  });

  it("names the series whose length is wrong", () => {
    expect(() => weightNormFigure({ trainCounts: [5, 3], series: [{ name: "LWS", values: [1] }] })).toThrow(
      /'LWS' has 1 values but trainCounts has 2/,
    );
  });
});

describe("tauSweepFigure and tauSliderHtml", () => {
  const rows = (shift: number) =>
    [0, 0.5, 1].map((tau, i) => ({
      tau,
      many: 0.6 - 0.1 * i + shift,
      medium: 0.4,
      few: 0.1 + 0.2 * i,
      top1: 0.45 + shift,
      macroAcc: 0.44,
    }));
  const sweep = { val: rows(0.01), test: { rows: rows(0) }, chosenTau: 0.5 };

  it("draws val solid and test dashed for Many/Medium/Few/All in percent, chosen tau marked", () => {
    const fig = tauSweepFigure(sweep);
    expect(fig.data.map((t) => t.name)).toEqual([
      "Many (val)",
      "Medium (val)",
      "Few (val)",
      "All (val)",
      "Many (test)",
      "Medium (test)",
      "Few (test)",
      "All (test)",
    ]);
    expect(fig.data.map((t) => (t.line as { dash: string }).dash)).toEqual([
      ...Array(4).fill("solid"),
      ...Array(4).fill("dash"),
    ]);
    expect(fig.data[0].x).toEqual([0, 0.5, 1]);
    expect(fig.data[2].y as number[]).toEqual([10, 30.000000000000004, 50]);
    expect((fig.data[7].y as number[])[0]).toBeCloseTo(45, 12);
    expect((fig.layout!.shapes as Shape[])[0].x0).toBe(0.5);
    const macro = tauSweepFigure({ test: rows(0), allMetric: "macroAcc" });
    expect(macro.data.map((t) => t.name)).toEqual(["Many", "Medium", "Few", "All"]);
    expect((macro.data[3].y as number[])[0]).toBeCloseTo(44, 12);
  });

  it("builds a small self-contained slider page", () => {
    const html = tauSliderHtml({ ...sweep, title: "sweep </script><b>x</b>" });
    expect(html.length).toBeLessThan(20_000);
    expect(html).toContain('<input id="tau" type="range" min="0" max="2" step="1" value="1">');
    expect(html).not.toMatch(/<script[^>]+src=|https?:\/\/(?!www\.w3\.org)/);
    expect(html).not.toContain("</script><b>");
    const json = html.match(/<script id="sweep-data" type="application\/json">(.*?)<\/script>/s)![1];
    const data = JSON.parse(json);
    expect(data.taus).toEqual([0, 0.5, 1]);
    expect(data.splits.map((s: { split: string }) => s.split)).toEqual(["val", "test"]);
    expect(data.start).toBe(1);
  });

  it("rejects sweeps on different grids", () => {
    expect(() => tauSliderHtml({ val: rows(0), test: rows(0).slice(0, 2) })).toThrow(/grid differs/);
    expect(() => tauSweepFigure({})).toThrow(/val and\/or test/);
  });
});

describe("other builders", () => {
  it("samplerClassifierFigure: 4 panels, one marker series per sampler, legend once", () => {
    const results = ["IB", "CB"].flatMap((sampler, s) =>
      ["Joint", "NCM", "cRT"].map((classifier, c) => ({
        sampler,
        classifier,
        many: 0.6 + s / 100,
        medium: 0.4,
        few: 0.1 * c,
        all: 0.45,
      })),
    );
    const fig = samplerClassifierFigure({
      results: results.filter((r) => !(r.sampler === "CB" && r.classifier === "NCM")),
    });
    expect(fig.data).toHaveLength(8);
    expect(fig.data.map((t) => `${t.name}:${t.xaxis}:${t.showlegend}`)).toEqual([
      "IB:x:true",
      "IB:x2:false",
      "IB:x3:false",
      "IB:x4:false",
      "CB:x:true",
      "CB:x2:false",
      "CB:x3:false",
      "CB:x4:false",
    ]);
    expect(fig.data[4].x).toEqual(["Joint", "NCM", "cRT"]);
    expect(fig.data[4].y).toEqual([61, null, 61]);
    expect(fig.data[2].y).toEqual([0, 10, 20]);
    expect((fig.layout!.annotations as Ann[]).map((a) => a.text)).toEqual([
      "<b>Many</b>",
      "<b>Medium</b>",
      "<b>Few</b>",
      "<b>All</b>",
    ]);
    expect(fig.layout!.grid).toMatchObject({ rows: 1, columns: 4 });
  });

  it("shotBarsFigure: grouped bars over Many/Medium/Few/All in percent", () => {
    const fig = shotBarsFigure({ rows: [{ name: "Joint", many: 0.5, medium: 0.25, few: 0.125, all: 0.375 }] });
    expect(fig.data[0]).toMatchObject({
      type: "bar",
      x: ["Many", "Medium", "Few", "All"],
      y: [50, 25, 12.5, 37.5],
      text: ["50.0", "25.0", "12.5", "37.5"],
    });
    expect(
      shotBarsFigure({ unit: "percent", rows: [{ name: "cRT", many: 50, medium: 40, few: 30, all: 45 }] }).data[0].y,
    ).toEqual([50, 40, 30, 45]);
    expect(fig.layout!.barmode).toBe("group");
  });

  it("classCountFigure: bars for few classes, step lines for many, log y", () => {
    const bars = classCountFigure({ series: [{ name: "a", counts: [50, 20, 5] }] });
    expect(bars.data[0]).toMatchObject({ type: "bar", x: [0, 1, 2], y: [50, 20, 5] });
    expect((bars.layout!.yaxis as { type: string }).type).toBe("log");
    const lines = classCountFigure({
      series: [{ name: "b", counts: Array.from({ length: 40 }, (_, j) => 40 - j) }],
      sortDescending: true,
    });
    expect(lines.data[0]).toMatchObject({ type: "scatter", mode: "lines" });
    expect(() => classCountFigure({ series: [{ name: "c", counts: [3, -1] }] })).toThrow(/'c'.*trainCounts\[1\] = -1/);
  });

  it("samplingFigure: classes sorted by count, regions marked", () => {
    const fig = samplingFigure({
      trainCounts: [10, 200, 50],
      series: [{ name: "IB", probabilities: [10 / 260, 200 / 260, 50 / 260] }],
    });
    expect(fig.data[0].y).toEqual([200 / 260, 50 / 260, 10 / 260]);
    expect((fig.layout!.annotations as Ann[]).map((a) => a.text)).toEqual(["Many", "Medium", "Few"]);
    expect(() => samplingFigure({ trainCounts: [1, 2], series: [{ name: "CB", probabilities: [1] }] })).toThrow(
      /'CB' has 1 probabilities/,
    );
  });
});
