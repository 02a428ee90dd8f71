/**
 * The paper's tables from finished runs: per (sampler, classifier, seed) test accuracies collected from each
 * run's results.json, aggregated over seeds (mean ± sample std) with arquero, written as Markdown and CSV.
 */
import * as aq from "arquero";
import { join } from "node:path";
import { CLASSIFIERS, type Profile, SAMPLERS } from "./profiles.js";
import { readJson, runStatus, stage1Plan, stage2Plan } from "./runs.js";

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
  /** The run folder the numbers came from. */
  run: string;
}

interface ResultsJson {
  test: { many: number; medium: number; few: number; top1: number };
  val: { top1: number };
  extra?: { tau?: number };
}

/** Collect every finished stage-2 result of a profile (unfinished ones are listed in `missing`). */
export function collectCells(profile: Profile): { cells: Cell[]; missing: string[] } {
  const cells: Cell[] = [];
  const missing: string[] = [];
  for (const s of SAMPLERS) {
    for (const seed of profile.seeds) {
      const s1 = stage1Plan(s.stage, seed, profile).dir;
      for (const c of CLASSIFIERS) {
        const dir = stage2Plan(c.stage, s1, seed, profile).dir;
        if (runStatus(dir) !== "finished") {
          missing.push(`${s.short}/${c.label}/seed${seed}`);
          continue;
        }
        const r = readJson<ResultsJson>(join(dir, "results.json"));
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
          run: dir,
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

/** Mean and sample standard deviation over seeds for each (sampler, classifier). */
export function aggregate(cells: Cell[]): AggRow[] {
  if (!cells.length) return [];
  const spec: Record<string, unknown> = { n: aq.op.count() };
  for (const m of METRICS) {
    spec[m] = aq.op.mean(m);
    spec[`${m}_sd`] = aq.op.stdev(m);
  }
  const withTau = cells.map((c) => ({ ...c, tau: c.tau ?? NaN }));
  spec.tau = aq.op.mean("tau");
  const rows = aq.from(withTau).groupby("sampler", "classifier").rollup(spec as never).objects() as unknown as AggRow[];
  const order = (r: AggRow) => SAMPLERS.findIndex((s) => s.short === r.sampler) * 10 + CLASSIFIERS.findIndex((c) => c.label === r.classifier);
  return rows
    .map((r) => {
      const out = { ...r };
      for (const m of METRICS) if (!Number.isFinite(out[`${m}_sd`] as number)) (out as Record<string, unknown>)[`${m}_sd`] = 0;
      if (!Number.isFinite(out.tau as number)) delete out.tau;
      return out;
    })
    .sort((a, b) => order(a) - order(b));
}

const fmt = (m: number, sd: number, n: number) => (n > 1 ? `${m.toFixed(1)} ± ${sd.toFixed(1)}` : m.toFixed(1));

function markdown(rows: AggRow[], keyCol: "sampler" | "classifier", keyLabel: string, labels: Record<string, string>): string {
  const head = `| ${keyLabel} | Many | Medium | Few | All | seeds |\n|---|---|---|---|---|---|`;
  const body = rows.map((r) => `| ${labels[r[keyCol]] ?? r[keyCol]}${r.tau !== undefined ? ` (τ=${r.tau.toFixed(2)})` : ""} | ${METRICS.map((m) => fmt(r[m], r[`${m}_sd`], r.n)).join(" | ")} | ${r.n} |`);
  return [head, ...body].join("\n");
}

function csv(rows: AggRow[]): string {
  return aq.from(rows.map((r) => ({ tau: null, ...r }))).toCSV();
}

export interface Tables {
  sampler: { rows: AggRow[]; markdown: string; csv: string };
  classifier: { rows: AggRow[]; markdown: string; csv: string };
  grid: { rows: AggRow[]; markdown: string; csv: string };
}

const SAMPLER_LABELS = Object.fromEntries(SAMPLERS.map((s) => [s.short, s.label]));

/** The sampler table (Joint on IB/CB/SR/PB), the classifier table (IB), and the full grid. */
export function buildTables(cells: Cell[]): Tables {
  const all = aggregate(cells);
  const samplerRows = all.filter((r) => r.classifier === "Joint");
  const classifierRows = all.filter((r) => r.sampler === "IB");
  const gridMd = [
    "| Sampler | Classifier | Many | Medium | Few | All | seeds |",
    "|---|---|---|---|---|---|---|",
    ...all.map((r) => `| ${r.sampler} | ${r.classifier}${r.tau !== undefined ? ` (τ=${r.tau.toFixed(2)})` : ""} | ${METRICS.map((m) => fmt(r[m], r[`${m}_sd`], r.n)).join(" | ")} | ${r.n} |`),
  ].join("\n");
  return {
    sampler: { rows: samplerRows, markdown: markdown(samplerRows, "sampler", "Sampling", SAMPLER_LABELS), csv: csv(samplerRows) },
    classifier: { rows: classifierRows, markdown: markdown(classifierRows, "classifier", "Classifier", {}), csv: csv(classifierRows) },
    grid: { rows: all, markdown: gridMd, csv: csv(all) },
  };
}
