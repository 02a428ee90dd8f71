/**
 * Small helpers the reproduction notebooks share, so each notebook's cells stay about the step they teach: the
 * first cell's context (context.ts, re-exported here), saving tables and figures, the paper's ImageNet-LT numbers to
 * compare with, loading exported ImageNet-LT features, and the final "did this notebook produce its files" check.
 *
 * Saved files are rewritten only when their content changes, and a figure is re-rendered only when its spec did,
 * so re-running a notebook on the same runs changes nothing on disk.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { loadFeatureDir } from "../features/dir.js";
import { checkLabels, classCounts } from "../features/types.js";
import { notebookRenderer, type PlotlyFigure, type ShotRow, sendDisplay } from "../plot/index.js";
import { projectRoot } from "../run/manifest.js";
import type { PaperRow } from "./paper.js";
import { writeIfChanged } from "./report.js";
import type { FeatureBenchmark } from "./synthetic_features.js";

export {
  choiceTable,
  NOTEBOOK_MODES,
  type NotebookContext,
  type NotebookMode,
  type NotebookNeeds,
  NotebookStop,
  notebookOutputDir,
  openNotebook,
  type Walkthrough,
  walkthrough,
} from "./context.js";
export { PAPER_IMAGENET_LT, PAPER_TAU_SWEEP, type PaperRow } from "./paper.js";

/** Write `<dir>/<name>.md` and `<dir>/<name>.csv`; returns both paths. */
export function saveTable(dir: string, name: string, table: { markdown: string; csv: string }): string[] {
  const md = join(dir, `${name}.md`);
  const csv = join(dir, `${name}.csv`);
  writeIfChanged(md, table.markdown.endsWith("\n") ? table.markdown : `${table.markdown}\n`);
  writeIfChanged(csv, table.csv.endsWith("\n") ? table.csv : `${table.csv}\n`);
  return [md, csv];
}

/**
 * Save a figure as `<dir>/<name>.svg` and `.png` (and its spec as `.json`) with the notebook's shared renderer;
 * returns the image paths. Unchanged specs with both images present are not re-rendered.
 */
export async function saveNotebookFigure(fig: PlotlyFigure, dir: string, name: string): Promise<string[]> {
  const base = join(dir, name);
  const [svg, png, spec] = [`${base}.svg`, `${base}.png`, `${base}.json`];
  const specText = `${JSON.stringify(fig, null, 1)}\n`;
  const same = existsSync(spec) && readFileSync(spec, "utf8") === specText && existsSync(svg) && existsSync(png);
  if (!same) {
    const r = notebookRenderer();
    writeIfChanged(svg, await r.renderSvg(fig));
    writeIfChanged(png, await r.renderPng(fig, { scale: 2 }));
    writeIfChanged(spec, specText);
  }
  return [svg, png];
}

/**
 * The notebook's last check: every listed file exists and is not empty. Throws naming the missing files, so a
 * replay fails when a notebook produced nothing. Returns a one-line summary.
 */
export function assertOutputs(paths: readonly string[], root = projectRoot()): string {
  if (!paths.length) throw new Error("assertOutputs: no output files were recorded; the notebook saved nothing");
  const bad = paths.filter((p) => !existsSync(p) || statSync(p).size === 0);
  if (bad.length) {
    throw new Error(
      `assertOutputs: ${bad.length} of ${paths.length} outputs are missing or empty: ${bad.map((p) => relative(root, p)).join(", ")}; re-run the cells that write them`,
    );
  }
  return `all ${paths.length} outputs present:\n${paths.map((p) => `  ${relative(root, p)}`).join("\n")}`;
}

/**
 * Our rows beside the paper's, matched by name: one record per method with `<metric>` (ours) and `<metric> paper`
 * columns, ready for `showTable`. Methods missing on either side get empty cells.
 */
export function besidePaper(
  ours: readonly PaperRow[],
  paper: readonly PaperRow[],
  oursLabel = "ours",
): Record<string, unknown>[] {
  const names = [...new Set([...ours.map((r) => r.name), ...paper.map((r) => r.name)])];
  return names.map((name) => {
    const o = ours.find((r) => r.name === name);
    const p = paper.find((r) => r.name === name);
    const row: Record<string, unknown> = { method: name };
    for (const m of ["many", "medium", "few", "all"] as const) {
      const label = m[0].toUpperCase() + m.slice(1);
      row[`${label} ${oursLabel}`] = o ? +o[m].toFixed(1) : null;
      row[`${label} paper`] = p ? p[m] : null;
    }
    return row;
  });
}

/** Markdown + CSV of a {@link besidePaper} table (or any list of flat records). */
export function recordsTable(rows: readonly Record<string, unknown>[]): { markdown: string; csv: string } {
  if (!rows.length) throw new Error("recordsTable: no rows");
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "number" ? String(v) : String(v));
  const markdown = [
    `| ${cols.join(" | ")} |`,
    `|${cols.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c]).replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const csv = [cols.map(quote).join(","), ...rows.map((r) => cols.map((c) => quote(cell(r[c]))).join(","))].join("\n");
  return { markdown, csv };
}

/** {@link ShotRow}s (percent) for `shotBarsFigure`, from Many/Medium/Few/All records. */
export function shotRows(rows: readonly PaperRow[], suffix = ""): ShotRow[] {
  return rows.map((r) => ({ name: `${r.name}${suffix}`, many: r.many, medium: r.medium, few: r.few, all: r.all }));
}

/** Features exported from the original PyTorch code (or any tool) for the ImageNet-LT classifier table. */
export type ImportedFeatures = FeatureBenchmark;

/** The files {@link loadFeatureFolder} reads from a folder. */
export const FEATURE_FOLDER_FILES = [
  "train_feats.npy",
  "train_labels.npy",
  "val_feats.npy",
  "val_labels.npy",
  "test_feats.npy",
  "test_labels.npy",
  "fc_weight.npy",
  "fc_bias.npy",
] as const;

/** Which of the expected files a feature folder lacks (empty when it is complete). */
export function missingFeatureFiles(dir: string): string[] {
  return FEATURE_FOLDER_FILES.filter((f) => !existsSync(join(dir, f)));
}

/**
 * Load a feature folder: `{train,val,test}_feats.npy` [N × d] float, `{train,val,test}_labels.npy` [N] int, and the
 * stage-1 classifier `fc_weight.npy` [C × d] and `fc_bias.npy` [C] (e.g. `np.save` of the original checkpoint's
 * `module.fc.weight` / `module.fc.bias`). Errors name the file and what is wrong.
 */
export function loadFeatureFolder(dir: string): ImportedFeatures {
  const missing = missingFeatureFiles(dir);
  if (missing.length)
    throw new Error(`${dir}: missing ${missing.join(", ")}; the folder needs ${FEATURE_FOLDER_FILES.join(", ")}`);
  // The shared loader reads the splits and checks the classifier's shapes; this adds the label-range check.
  const { train, val, test, stage1 } = loadFeatureDir(dir);
  const [numClasses, dim] = [stage1!.bias.length, train.dim];
  for (const [name, fs] of [
    ["train", train],
    ["val", val],
    ["test", test],
  ] as const) {
    checkLabels(fs.labels, numClasses, `${dir}/${name}_labels.npy (C = ${numClasses} from fc_weight.npy)`);
  }
  const trainCounts = Array.from(classCounts(train.labels, numClasses));
  const description = `features from ${dir}: ${numClasses} classes, d = ${dim}, train ${train.n}, val ${val.n}, test ${test.n} rows`;
  return { train, val, test, trainCounts, numClasses, stage1: stage1!, description };
}

/** "12.3" — one decimal, for prose interpolated from results. */
export function f1(x: number): string {
  return x.toFixed(1);
}

/** Display Markdown in a notebook (prose computed from results); prints it outside tslab. */
export function showMarkdown(markdown: string): void {
  if (!sendDisplay({ data: { "text/markdown": markdown, "text/plain": markdown }, metadata: {} }))
    console.log(markdown);
}

/** Display HTML in a notebook (with a text fallback); prints only the fallback outside tslab. */
export function showHtml(html: string, text: string): void {
  if (!sendDisplay({ data: { "text/html": html, "text/plain": text }, metadata: {} })) console.log(text);
}

/** Copies of the rows with every finite number rounded to `digits` decimals (for saved tables). */
export function roundRows(rows: readonly Record<string, unknown>[], digits = 2): Record<string, unknown>[] {
  const k = 10 ** digits;
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([key, v]) => [
        key,
        typeof v === "number" && Number.isFinite(v) ? Math.round(v * k) / k : v,
      ]),
    ),
  );
}

/** One τ of a sweep in percent (the rows notebooks read from `figureData(profile).tauSweep`). */
export interface SweepPoint {
  tau: number;
  top1: number;
  many: number;
  medium: number;
  few: number;
}

/** A τ sweep on val and test with the τ chosen on val (mean over seeds). */
export interface SweepData {
  val: SweepPoint[];
  test: SweepPoint[];
  chosenTau: number;
}
