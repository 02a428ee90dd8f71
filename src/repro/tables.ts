/**
 * The paper's tables from finished runs: per (sampler, classifier, seed) test accuracies collected from each
 * run's results.json, aggregated over seeds (mean ± sample std) with arquero, written as Markdown and CSV.
 */
import * as aq from "arquero";
import { methodLabel } from "../classifiers/registry.js";
import { CLASSIFIERS, SAMPLERS } from "./profiles.js";
import type { ResultSource } from "./source.js";

/** One stage-2 result: a classifier on one representation and seed (test split, percent). */
export interface Cell {
  sampler: string;
  classifier: string;
  seed: number;
  many: number;
  medium: number;
  few: number;
  all: number;
  /** Val top-1 (what selection used), percent. */
  val_all: number;
  /** tau-norm only: the tau chosen on val. */
  tau?: number;
  /** The run folder the numbers came from (relative to the project root). */
  run: string;
}

interface ResultsJson {
  test: { many: number; medium: number; few: number; top1: number };
  val: { top1: number };
  extra?: { tau?: number };
}

/** Collect every finished stage-2 result of a source (unfinished ones are listed in `missing`). */
export function collectCells(source: ResultSource): { cells: Cell[]; missing: string[] } {
  const cells: Cell[] = [];
  const missing: string[] = [];
  for (const s of SAMPLERS) {
    for (const seed of source.profile.seeds) {
      for (const c of CLASSIFIERS) {
        const rec = source.stage2(s.stage, c.stage, seed);
        if (!rec) {
          missing.push(`${s.short}/${c.label}/seed${seed}`);
          continue;
        }
        const r = rec.results as unknown as ResultsJson;
        cells.push({
          sampler: s.short,
          classifier: c.label,
          seed,
          many: r.test.many,
          medium: r.test.medium,
          few: r.test.few,
          all: r.test.top1,
          val_all: r.val.top1,
          ...(r.extra?.tau !== undefined ? { tau: r.extra.tau } : {}),
          run: rec.run,
        });
      }
    }
  }
  return { cells, missing };
}

export interface AggRow {
  sampler: string;
  classifier: string;
  n: number;
  many: number;
  many_sd: number;
  medium: number;
  medium_sd: number;
  few: number;
  few_sd: number;
  all: number;
  all_sd: number;
  tau?: number;
}

const METRICS = ["many", "medium", "few", "all"] as const;

/** Means rounded for humans and for stable files: 4 decimals (a mean of 1.1, 1.1, 1.1 is 1.1, not 1.0999999999999999). */
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Mean and sample standard deviation over seeds for each (sampler, classifier), rounded to 4 decimals. */
export function aggregate(cells: Cell[]): AggRow[] {
  if (!cells.length) return [];
  const spec: Record<string, unknown> = { n: aq.op.count() };
  for (const m of METRICS) {
    spec[m] = aq.op.mean(m);
    spec[`${m}_sd`] = aq.op.stdev(m);
  }
  const withTau = cells.map((c) => ({ ...c, tau: c.tau ?? NaN }));
  spec.tau = aq.op.mean("tau");
  const rows = aq
    .from(withTau)
    .groupby("sampler", "classifier")
    .rollup(spec as never)
    .objects() as unknown as AggRow[];
  const order = (r: AggRow) =>
    SAMPLERS.findIndex((s) => s.short === r.sampler) * 10 + CLASSIFIERS.findIndex((c) => c.label === r.classifier);
  return rows
    .map((r) => {
      const out = { ...r };
      for (const m of METRICS) {
        out[m] = r4(out[m]);
        out[`${m}_sd`] = Number.isFinite(out[`${m}_sd`]) ? r4(out[`${m}_sd`]) : 0;
      }
      if (Number.isFinite(out.tau as number)) out.tau = r4(out.tau as number);
      else delete out.tau;
      return out;
    })
    .sort((a, b) => order(a) - order(b));
}

const fmt = (m: number, sd: number, n: number) => (n > 1 ? `${m.toFixed(1)} ± ${sd.toFixed(1)}` : m.toFixed(1));

function markdown(
  rows: AggRow[],
  keyCol: "sampler" | "classifier",
  keyLabel: string,
  labels: Record<string, string>,
): string {
  const head = `| ${keyLabel} | Many | Medium | Few | All | seeds |\n|---|---|---|---|---|---|`;
  const body = rows.map(
    (r) =>
      `| ${labels[r[keyCol]] ?? r[keyCol]}${r.tau !== undefined ? ` (τ=${r.tau.toFixed(2)})` : ""} | ${METRICS.map((m) => fmt(r[m], r[`${m}_sd`], r.n)).join(" | ")} | ${r.n} |`,
  );
  return [head, ...body].join("\n");
}

function csv(rows: AggRow[]): string {
  return aq.from(rows.map((r) => ({ tau: null, ...r }))).toCSV();
}

export interface Tables {
  /** The per-seed results the tables aggregate (what the findings' intervals are computed from). */
  cells: Cell[];
  sampler: { rows: AggRow[]; markdown: string; csv: string };
  classifier: { rows: AggRow[]; markdown: string; csv: string };
  grid: { rows: AggRow[]; markdown: string; csv: string };
}

const SAMPLER_LABELS = Object.fromEntries(SAMPLERS.map((s) => [s.short, s.label]));

/** The sampler table (Joint on IB/CB/SR/PB), the classifier table (IB), and the full grid. */
export function buildTables(cells: Cell[]): Tables {
  const all = aggregate(cells);
  const samplerRows = all.filter((r) => r.classifier === methodLabel("joint"));
  const classifierRows = all.filter((r) => r.sampler === "IB");
  const gridMd = [
    "| Sampler | Classifier | Many | Medium | Few | All | seeds |",
    "|---|---|---|---|---|---|---|",
    ...all.map(
      (r) =>
        `| ${r.sampler} | ${r.classifier}${r.tau !== undefined ? ` (τ=${r.tau.toFixed(2)})` : ""} | ${METRICS.map((m) => fmt(r[m], r[`${m}_sd`], r.n)).join(" | ")} | ${r.n} |`,
    ),
  ].join("\n");
  return {
    cells: [...cells],
    sampler: {
      rows: samplerRows,
      markdown: markdown(samplerRows, "sampler", "Sampling", SAMPLER_LABELS),
      csv: csv(samplerRows),
    },
    classifier: {
      rows: classifierRows,
      markdown: markdown(classifierRows, "classifier", "Classifier", {}),
      csv: csv(classifierRows),
    },
    grid: { rows: all, markdown: gridMd, csv: csv(all) },
  };
}
