/**
 * Pure builders of plotly figure specs (JSON) for the paper's figures (Figures 1 and 2) and the teaching
 * plots of the notebooks. No I/O and no browser: render them with `FigureRenderer` / `saveFigure`,
 * or show them in a notebook with `showFigure`.
 *
 * Conventions shared by every builder:
 *  - Classes on an x axis are sorted by descending training count n_j (ties keep class order),
 *    as in the paper's Figure 2, so "head" is on the left.
 *  - Accuracies come in as fractions in [0, 1] (what `evaluate` returns) unless `unit: "percent"`,
 *    and are plotted in percent.
 */
import { CLASSIFIER_METHODS } from "../classifiers/registry.js";
import { type ShotConvention, shotGroups } from "../metrics.js";
import type { PlotlyFigure, PlotlyTrace } from "./types.js";

/** Unit of accuracy inputs. */
export type AccuracyUnit = "fraction" | "percent";

/** Many / Medium / Few / All of one method (fractions unless the builder's `unit` says percent). */
export interface ShotAccuracies {
  many: number;
  medium: number;
  few: number;
  /** Overall accuracy (the paper's "All"). */
  all: number;
}

/**
 * Colours of named series: each classifier method's plot colour by its label (its entry in src/classifiers/methods/,
 * the paper's Figure 2 colours for its four), the shot groups, the samplers; other names take a fallback cycle.
 */
export const SERIES_COLOURS: Record<string, string> = {
  ...Object.fromEntries(CLASSIFIER_METHODS.map((m) => [m.label, m.plot.color])),
  Many: "#1f4e9c",
  Medium: "#2e8b3d",
  Few: "#d4a017",
  All: "#000000",
  IB: "#1f77b4",
  CB: "#d62728",
  SR: "#2ca02c",
  PB: "#9467bd",
};
const CYCLE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** Colour for a named series: the paper's colour when the name is known, else the i-th of a cycle. */
export function seriesColour(name: string, i: number): string {
  return SERIES_COLOURS[name] ?? CYCLE[i % CYCLE.length];
}

const FONT = { family: "DejaVu Sans, Arial, sans-serif", size: 13 };

function baseLayout(title: string | undefined, width: number, height: number): Record<string, unknown> {
  return {
    title: title ? { text: title, x: 0.5, xanchor: "center" } : undefined,
    width,
    height,
    font: FONT,
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    margin: { l: 70, r: 30, t: title ? 70 : 40, b: 60 },
    legend: { bgcolor: "rgba(255,255,255,0.8)" },
  };
}

function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { text: title },
    automargin: true,
    showline: true,
    linecolor: "#444",
    ticks: "outside",
    gridcolor: "#e5e5e5",
    zeroline: false,
    ...extra,
  };
}

/**
 * A log-scale y axis that labels only whole decades when the data span at least one and a half of
 * them (plotly otherwise labels every minor tick 2…9, which is unreadable), else 1-2-5 labels.
 */
function logAxis(values: number[]): Record<string, unknown> {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  const span = pos.length ? Math.log10(Math.max(...pos)) - Math.log10(Math.min(...pos)) : 0;
  return { type: "log", dtick: span >= 1.5 ? 1 : "D2", exponentformat: "power" };
}

function toPercent(v: number, unit: AccuracyUnit): number {
  return unit === "percent" ? v : 100 * v;
}

function checkCounts(counts: ArrayLike<number>, where: string): void {
  if (counts.length === 0) throw new Error(`${where}: trainCounts is empty; pass one n_j per class`);
  for (let j = 0; j < counts.length; j++) {
    if (!(counts[j] >= 0)) throw new Error(`${where}: trainCounts[${j}] = ${counts[j]} is not a count >= 0`);
  }
}

/** Class indices sorted by descending count; ties keep ascending class index (a stable order). */
export function sortByCountDesc(counts: ArrayLike<number>): number[] {
  return Array.from({ length: counts.length }, (_, j) => j).sort((a, b) => counts[b] - counts[a] || a - b);
}

/** Where the shot groups start on the count-sorted class axis. */
export interface ShotBoundaries {
  /** Sorted position of the first non-Many class (the Many/Medium line); null if there is no Many or no later class. */
  manyMedium: number | null;
  /** Sorted position of the first Few class (the Medium/Few line); null if there is no Few class or nothing before it. */
  mediumFew: number | null;
  /** [start, end) of each group on the sorted axis (empty groups have start === end). */
  regions: { many: [number, number]; medium: [number, number]; few: [number, number] };
}

/**
 * Shot-group boundaries on the class axis sorted by descending n_j. With ImageNet-LT's counts
 * (385 Many, 479 Medium, 136 Few) they are 385 and 864, the positions of the paper's dash-dot lines.
 */
export function shotBoundaries(trainCounts: number[], convention: ShotConvention = "kang"): ShotBoundaries {
  checkCounts(trainCounts, "shotBoundaries");
  const sorted = sortByCountDesc(trainCounts).map((j) => trainCounts[j]);
  const groups = shotGroups(sorted, convention);
  const C = sorted.length;
  // Sorted descending, so the groups are contiguous: many…, medium…, few….
  const firstNotMany = groups.findIndex((g) => g !== "many");
  const firstFew = groups.indexOf("few");
  const mEnd = firstNotMany < 0 ? C : firstNotMany;
  const fStart = firstFew < 0 ? C : firstFew;
  return {
    manyMedium: mEnd > 0 && mEnd < C ? mEnd : null,
    mediumFew: fStart > 0 && fStart < C && fStart > mEnd ? fStart : null,
    regions: { many: [0, mEnd], medium: [mEnd, fStart], few: [fStart, C] },
  };
}

/** Dash-dot vertical lines at the boundaries and "Many" / "Medium" / "Few" labels above each region. */
function shotRegionDecorations(b: ShotBoundaries, xref = "x"): { shapes: unknown[]; annotations: unknown[] } {
  const shapes: unknown[] = [];
  for (const x of [b.manyMedium, b.mediumFew]) {
    if (x === null) continue;
    shapes.push({
      type: "line",
      xref,
      yref: "paper",
      x0: x - 0.5,
      x1: x - 0.5,
      y0: 0,
      y1: 1,
      line: { color: "#333", width: 1.5, dash: "dashdot" },
    });
  }
  const annotations: unknown[] = [];
  const labels = [
    ["Many", b.regions.many],
    ["Medium", b.regions.medium],
    ["Few", b.regions.few],
  ] as const;
  for (const [text, [s, e]] of labels) {
    if (e <= s) continue;
    annotations.push({
      text,
      xref,
      yref: "paper",
      x: (s + e - 1) / 2,
      y: 1.0,
      yanchor: "bottom",
      showarrow: false,
      font: { size: 13, color: "#333" },
    });
  }
  return { shapes, annotations };
}

// ---------------------------------------------------------------------------------------------
// Class-count profiles

/** One class-count profile. */
export interface CountSeries {
  /** Legend entry ("CIFAR-10-LT, IF 100, exp"). */
  name: string;
  /** n_j per class. */
  counts: number[];
}

/** Arguments of {@link classCountFigure}. */
export interface ClassCountFigureArgs {
  /** Profiles to draw as grouped bars (class index on x). */
  series: CountSeries[];
  title?: string;
  /** Sort each profile by descending count (default false: generated LT sets are already sorted). */
  sortDescending?: boolean;
  /** Log-scale y axis (default true: the tail is invisible on a linear axis). */
  logY?: boolean;
  /** Names of the classes (in class-index order) shown as x tick labels instead of indices; ignored with sortDescending. */
  classNames?: string[];
  /** "bar", "line" (a step line per profile) or "auto" (default): bars up to 30 classes, lines above, where grouped bars become unreadable. */
  style?: "bar" | "line" | "auto";
  /** Draw dotted horizontal lines at the shot thresholds n = 100 and n = 20 (default true). */
  showShotThresholds?: boolean;
  width?: number;
  height?: number;
}

/** Per-class training counts (bars or step lines, log y), with the Many/Few thresholds marked. */
export function classCountFigure(a: ClassCountFigureArgs): PlotlyFigure {
  if (a.series.length === 0) throw new Error("classCountFigure: series is empty; pass at least one { name, counts }");
  const maxC = Math.max(...a.series.map((s) => s.counts.length));
  const style = a.style === "bar" || a.style === "line" ? a.style : maxC <= 30 ? "bar" : "line";
  const data: PlotlyTrace[] = a.series.map((s, i) => {
    checkCounts(s.counts, `classCountFigure (series '${s.name}')`);
    const y = a.sortDescending ? sortByCountDesc(s.counts).map((j) => s.counts[j]) : [...s.counts];
    const x = y.map((_, j) => j);
    const colour = seriesColour(s.name, i);
    return style === "bar"
      ? { type: "bar", name: s.name, x, y, marker: { color: colour } }
      : { type: "scatter", mode: "lines", name: s.name, x, y, line: { color: colour, width: 2, shape: "hvh" } };
  });
  const layout = baseLayout(a.title, a.width ?? 800, a.height ?? 450);
  const logY = a.logY ?? true;
  layout.xaxis = axis(a.sortDescending ? "class index (sorted by n_j)" : "class index");
  if (a.classNames && !a.sortDescending) {
    layout.xaxis = axis("class", {
      tickvals: a.classNames.map((_, j) => j),
      ticktext: a.classNames.map((n, j) => `${j} ${n}`),
      tickangle: -30,
    });
  }
  layout.yaxis = axis(
    "training images n_j",
    logY ? { ...logAxis(data.flatMap((t) => t.y as number[])), exponentformat: "none" } : {},
  );
  layout.barmode = "group";
  layout.bargap = 0.1;
  layout.showlegend = a.series.length > 1;
  if (a.showShotThresholds ?? true) {
    layout.shapes = [100, 20].map((y) => ({
      type: "line",
      xref: "paper",
      x0: 0,
      x1: 1,
      yref: "y",
      y0: y,
      y1: y,
      line: { color: "#555", width: 1, dash: "dot" },
    }));
    layout.annotations = [
      {
        text: "Many: n > 100",
        xref: "paper",
        x: 1,
        xanchor: "right",
        yref: "y",
        y: logY ? Math.log10(100) : 100,
        yanchor: "bottom",
        showarrow: false,
        bgcolor: "rgba(255,255,255,0.7)",
        font: { size: 11, color: "#555" },
      },
      {
        text: "Few: n < 20",
        xref: "paper",
        x: 1,
        xanchor: "right",
        yref: "y",
        y: logY ? Math.log10(20) : 20,
        yanchor: "top",
        showarrow: false,
        bgcolor: "rgba(255,255,255,0.7)",
        font: { size: 11, color: "#555" },
      },
    ];
  }
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Sampling distributions

/** One sampling distribution over classes. */
export interface ProbabilitySeries {
  /** Legend entry ("IB (q = 1)", "PB epoch 45"). */
  name: string;
  /** p_j per class, in class-index order (sums to 1). */
  probabilities: ArrayLike<number>;
  /** Line dash ("solid", "dash", "dot", ...); default solid. */
  dash?: string;
  /** Line colour; default from the name / a cycle. */
  color?: string;
}

/** Arguments of {@link samplingFigure}. */
export interface SamplingFigureArgs {
  /** n_j of the training set, used to sort the class axis and to place the shot regions. */
  trainCounts: number[];
  /** Distributions to compare (IB, CB, SR, PB at several epochs, ...). */
  series: ProbabilitySeries[];
  title?: string;
  /** Log-scale y axis (default true). */
  logY?: boolean;
  /** Mark the Many/Medium/Few regions (default true). */
  showRegions?: boolean;
  convention?: ShotConvention;
  width?: number;
  height?: number;
}

/** Class-sampling probability p_j vs class index sorted by n_j, one line per sampler. */
export function samplingFigure(a: SamplingFigureArgs): PlotlyFigure {
  checkCounts(a.trainCounts, "samplingFigure");
  const C = a.trainCounts.length;
  const order = sortByCountDesc(a.trainCounts);
  const data: PlotlyTrace[] = a.series.map((s, i) => {
    if (s.probabilities.length !== C) {
      throw new Error(
        `samplingFigure: series '${s.name}' has ${s.probabilities.length} probabilities but trainCounts has ${C} classes`,
      );
    }
    return {
      type: "scatter",
      mode: C <= 30 ? "lines+markers" : "lines",
      name: s.name,
      x: order.map((_, k) => k),
      y: order.map((j) => s.probabilities[j]),
      line: { color: s.color ?? seriesColour(s.name, i), dash: s.dash ?? "solid", width: 2 },
    };
  });
  const layout = baseLayout(a.title, a.width ?? 800, a.height ?? 450);
  layout.xaxis = axis("class index (sorted by n_j, head → tail)");
  layout.yaxis = axis(
    "sampling probability p_j",
    (a.logY ?? true) ? logAxis(data.flatMap((t) => t.y as number[])) : {},
  );
  if (a.showRegions ?? true) Object.assign(layout, shotRegionDecorations(shotBoundaries(a.trainCounts, a.convention)));
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Many / Medium / Few / All table as grouped bars

/** One row of a Many/Medium/Few/All table. */
export interface ShotRow extends ShotAccuracies {
  /** Method name ("Joint", "cRT", ...): one bar colour per row. */
  name: string;
}

/** Arguments of {@link shotBarsFigure}. */
export interface ShotBarsFigureArgs {
  rows: ShotRow[];
  title?: string;
  /** Unit of the inputs (default "fraction"); plotted in percent. */
  unit?: AccuracyUnit;
  /** Print the value on each bar (default true). */
  showValues?: boolean;
  width?: number;
  height?: number;
}

export const SHOT_COLUMNS = ["Many", "Medium", "Few", "All"] as const;

/** Grouped bars: x = Many/Medium/Few/All, one bar per method. */
export function shotBarsFigure(a: ShotBarsFigureArgs): PlotlyFigure {
  if (a.rows.length === 0)
    throw new Error("shotBarsFigure: rows is empty; pass at least one { name, many, medium, few, all }");
  const unit = a.unit ?? "fraction";
  const data: PlotlyTrace[] = a.rows.map((r, i) => {
    const y = [r.many, r.medium, r.few, r.all].map((v) => toPercent(v, unit));
    return {
      type: "bar",
      name: r.name,
      x: [...SHOT_COLUMNS],
      y,
      marker: { color: seriesColour(r.name, i) },
      text: (a.showValues ?? true) ? y.map((v) => v.toFixed(1)) : undefined,
      textposition: "outside",
      cliponaxis: false,
    };
  });
  const layout = baseLayout(a.title, a.width ?? 800, a.height ?? 450);
  layout.barmode = "group";
  layout.xaxis = axis("");
  layout.yaxis = axis("top-1 accuracy (%)", { rangemode: "tozero" });
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Figure 2 left: weight norms

/** Per-class norms of one classifier. */
export interface NormSeries {
  /** "Joint", "cRT", "τ-norm", "LWS" (known names get the paper's colours). */
  name: string;
  /** Value per class in class-index order (‖w_j‖, ‖w_j‖^{1−τ}, f_j‖w_j‖, ...). */
  values: ArrayLike<number>;
}

/** Arguments of {@link weightNormFigure}. */
export interface WeightNormFigureArgs {
  /** n_j per class (sorts the x axis, places the boundaries, draws the dotted data curve). */
  trainCounts: number[];
  series: NormSeries[];
  title?: string;
  /** Draw the dotted class-size curve n_j (default true). */
  showCounts?: boolean;
  convention?: ShotConvention;
  width?: number;
  height?: number;
}

/**
 * Divide a series by its value at the head class, so every curve starts at 1 (the paper's figure
 * has no y ticks and all curves start at the same point). Falls back to the max when the head value is 0.
 */
export function normaliseSeries(sortedValues: number[]): number[] {
  const ref =
    sortedValues[0] !== 0 && Number.isFinite(sortedValues[0])
      ? sortedValues[0]
      : Math.max(...sortedValues.map(Math.abs));
  return sortedValues.map((v) => (ref ? v / ref : v));
}

/** Paper Figure 2 left: normalised per-class weight norms vs class index sorted by train count. */
export function weightNormFigure(a: WeightNormFigureArgs): PlotlyFigure {
  checkCounts(a.trainCounts, "weightNormFigure");
  const C = a.trainCounts.length;
  const order = sortByCountDesc(a.trainCounts);
  const x = order.map((_, k) => k);
  const data: PlotlyTrace[] = a.series.map((s, i) => {
    if (s.values.length !== C)
      throw new Error(
        `weightNormFigure: series '${s.name}' has ${s.values.length} values but trainCounts has ${C} classes`,
      );
    return {
      type: "scatter",
      mode: "lines",
      name: s.name,
      x,
      y: normaliseSeries(order.map((j) => s.values[j])),
      line: { color: seriesColour(s.name, i), width: 2 },
    };
  });
  if (a.showCounts ?? true) {
    data.push({
      type: "scatter",
      mode: "lines",
      name: "data (n_j)",
      x,
      y: normaliseSeries(order.map((j) => a.trainCounts[j])),
      line: { color: "black", width: 2, dash: "dot" },
    });
  }
  const layout = baseLayout(a.title ?? "Weight norm visualization", a.width ?? 820, a.height ?? 450);
  layout.xaxis = axis("class index (sorted by training count)", { range: [-0.5, C - 0.5] });
  layout.yaxis = axis("weight norm (normalised per series)", { showticklabels: false, rangemode: "tozero" });
  Object.assign(layout, shotRegionDecorations(shotBoundaries(a.trainCounts, a.convention)));
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Figure 2 right: τ sweep

/** One τ of a sweep (fields as `TauSweepRow` of the classifiers package). */
export interface TauSweepPoint {
  tau: number;
  many: number;
  medium: number;
  few: number;
  /** Micro top-1. */
  top1: number;
  /** Mean per-class accuracy (tau_norm.py's "All"); used when `allMetric` is "macroAcc". */
  macroAcc?: number;
}

/** A sweep table: rows directly or a `TauSweep` object with `rows`. */
export type TauSweepTable = TauSweepPoint[] | { rows: TauSweepPoint[] };

/** Arguments of {@link tauSweepFigure} and `tauSliderHtml`. */
export interface TauSweepFigureArgs {
  /** Sweep on the val split (solid lines). */
  val?: TauSweepTable;
  /** Sweep on the test split (dashed lines). */
  test?: TauSweepTable;
  /** τ selected on val; marked with a vertical line. */
  chosenTau?: number;
  /** Which metric is "All" (default "top1"). */
  allMetric?: "top1" | "macroAcc";
  /** Unit of the inputs (default "fraction"). */
  unit?: AccuracyUnit;
  title?: string;
  width?: number;
  height?: number;
}

/** Rows of a sweep table, checked. */
export function sweepRows(t: TauSweepTable, where: string): TauSweepPoint[] {
  const rows = Array.isArray(t) ? t : t?.rows;
  if (!Array.isArray(rows) || rows.length === 0)
    throw new Error(`${where}: the sweep has no rows; pass TauSweepPoint[] or { rows: [...] }`);
  return rows;
}

/** Per-metric series of a sweep in percent: Many, Medium, Few, All. */
export function sweepSeries(
  t: TauSweepTable,
  allMetric: "top1" | "macroAcc",
  unit: AccuracyUnit,
  where: string,
): { tau: number[]; series: Record<(typeof SHOT_COLUMNS)[number], number[]> } {
  const rows = sweepRows(t, where);
  const pick = (r: TauSweepPoint): number => {
    const v = allMetric === "macroAcc" ? r.macroAcc : r.top1;
    if (v === undefined)
      throw new Error(`${where}: row tau=${r.tau} has no '${allMetric}'; pass allMetric "top1" or add the field`);
    return v;
  };
  return {
    tau: rows.map((r) => r.tau),
    series: {
      Many: rows.map((r) => toPercent(r.many, unit)),
      Medium: rows.map((r) => toPercent(r.medium, unit)),
      Few: rows.map((r) => toPercent(r.few, unit)),
      All: rows.map((r) => toPercent(pick(r), unit)),
    },
  };
}

/** Paper Figure 2 right: Many/Medium/Few/All accuracy vs τ; val solid, test dashed, chosen τ marked. */
export function tauSweepFigure(a: TauSweepFigureArgs): PlotlyFigure {
  if (!a.val && !a.test) throw new Error("tauSweepFigure: pass a val and/or test sweep");
  const unit = a.unit ?? "fraction";
  const allMetric = a.allMetric ?? "top1";
  const data: PlotlyTrace[] = [];
  const splits = [
    ["val", a.val, "solid"],
    ["test", a.test, "dash"],
  ] as const;
  const both = !!a.val && !!a.test;
  for (const [split, table, dash] of splits) {
    if (!table) continue;
    const { tau, series } = sweepSeries(table, allMetric, unit, `tauSweepFigure (${split})`);
    SHOT_COLUMNS.forEach((m, i) => {
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: both ? `${m} (${split})` : m,
        legendgroup: m,
        x: tau,
        y: series[m],
        line: { color: seriesColour(m, i), dash, width: 2 },
        marker: { size: 5 },
      });
    });
  }
  const layout = baseLayout(a.title ?? "τ-normalized classifier accuracy", a.width ?? 700, a.height ?? 450);
  layout.xaxis = axis("τ", { dtick: 0.2 });
  layout.yaxis = axis("accuracy (%)");
  if (a.chosenTau !== undefined) {
    layout.shapes = [
      {
        type: "line",
        xref: "x",
        yref: "paper",
        x0: a.chosenTau,
        x1: a.chosenTau,
        y0: 0,
        y1: 1,
        line: { color: "#666", width: 1.5, dash: "dot" },
      },
    ];
    layout.annotations = [
      {
        text: `chosen τ = ${+a.chosenTau.toFixed(3)}`,
        xref: "x",
        yref: "paper",
        x: a.chosenTau,
        y: 1,
        yanchor: "bottom",
        showarrow: false,
        font: { size: 12, color: "#444" },
      },
    ];
  }
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Figure 1: samplers × classifiers grid

/** One (sampler, classifier) result. */
export interface SamplerClassifierResult extends ShotAccuracies {
  /** Sampler used to learn the representation ("IB", "CB", "SR", "PB"). */
  sampler: string;
  /** Classifier ("Joint", "NCM", "cRT", "τ-norm"). */
  classifier: string;
}

/** Arguments of {@link samplerClassifierFigure}. */
export interface SamplerClassifierFigureArgs {
  results: SamplerClassifierResult[];
  /** Order of the marker series (default: order of first appearance). */
  samplers?: string[];
  /** Order of the x categories (default: order of first appearance). */
  classifiers?: string[];
  unit?: AccuracyUnit;
  title?: string;
  width?: number;
  height?: number;
}

const SAMPLER_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "pentagon"];

/** Paper Figure 1: four panels (Many, Medium, Few, All); x = classifier; one marker series per sampler. */
export function samplerClassifierFigure(a: SamplerClassifierFigureArgs): PlotlyFigure {
  if (a.results.length === 0) throw new Error("samplerClassifierFigure: results is empty");
  const unit = a.unit ?? "fraction";
  const uniq = (xs: string[]) => [...new Set(xs)];
  const samplers = a.samplers ?? uniq(a.results.map((r) => r.sampler));
  const classifiers = a.classifiers ?? uniq(a.results.map((r) => r.classifier));
  const key = (s: string, c: string) => `${s}\u0000${c}`;
  const byKey = new Map(a.results.map((r) => [key(r.sampler, r.classifier), r]));
  const metrics = ["many", "medium", "few", "all"] as const;
  const data: PlotlyTrace[] = [];
  samplers.forEach((s, si) => {
    metrics.forEach((m, pi) => {
      const y = classifiers.map((c) => {
        const r = byKey.get(key(s, c));
        return r ? toPercent(r[m], unit) : null;
      });
      data.push({
        type: "scatter",
        mode: "markers",
        name: s,
        legendgroup: s,
        showlegend: pi === 0,
        x: classifiers,
        y,
        xaxis: pi === 0 ? "x" : `x${pi + 1}`,
        yaxis: pi === 0 ? "y" : `y${pi + 1}`,
        marker: {
          size: 11,
          color: seriesColour(s, si),
          symbol: SAMPLER_SYMBOLS[si % SAMPLER_SYMBOLS.length],
          line: { width: 1, color: "#222" },
        },
      });
    });
  });
  const layout = baseLayout(a.title, a.width ?? 1100, a.height ?? 380);
  layout.grid = { rows: 1, columns: 4, pattern: "independent", xgap: 0.12 };
  layout.margin = { l: 60, r: 20, t: a.title ? 90 : 60, b: 60 };
  layout.legend = { orientation: "h", x: 0.5, xanchor: "center", y: -0.2, title: { text: "sampler: " } };
  const annotations: unknown[] = [];
  SHOT_COLUMNS.forEach((label, pi) => {
    const sfx = pi === 0 ? "" : String(pi + 1);
    layout[`xaxis${sfx}`] = axis("", { type: "category", categoryorder: "array", categoryarray: classifiers });
    layout[`yaxis${sfx}`] = axis(pi === 0 ? "top-1 accuracy (%)" : "");
    annotations.push({
      text: `<b>${label}</b>`,
      xref: `x${sfx} domain`,
      yref: `y${sfx} domain`,
      x: 0.5,
      y: 1.02,
      yanchor: "bottom",
      showarrow: false,
    });
  });
  layout.annotations = annotations;
  return { data, layout };
}
