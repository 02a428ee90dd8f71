/**
 * Writing the reproduction's outputs from finished runs: tables (Markdown + CSV), figure data, figures (SVG + PNG
 * through headless chromium), the interactive tau slider, every run's manifest, and results/README.md comparing
 * with the paper. Nothing here trains: it reads runs/ only, so `npm run figures` can regenerate it all.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../run/atomic.js";
import { projectRoot } from "../run/manifest.js";
import { type PlotlyFigure, samplerClassifierFigure, tauSweepFigure, tauSliderHtml, weightNormFigure } from "../plot/index.js";
import { FigureRenderer, findChromium } from "../plot/render.js";
import { findings } from "./findings.js";
import { CLASSIFIERS, type Profile, SAMPLERS } from "./profiles.js";
import { readJson, runStatus, stage1Plan, stage2Plan } from "./runs.js";
import { buildTables, collectCells, type Tables } from "./tables.js";

interface SweepRow {
  tau: number;
  top1: number;
  many: number;
  medium: number;
  few: number;
}

export interface FigureData {
  trainCounts: number[];
  /** Per-class norms on the IB representation, first seed: Joint, cRT, tau-norm, LWS. */
  weightNorms: { name: string; values: number[] }[];
  /** tau sweep on IB, mean over seeds, percent. */
  tauSweep: { val: SweepRow[]; test: SweepRow[]; chosenTau: number } | null;
}

/** Figure data from the IB representation's stage-2 runs. */
export function figureData(profile: Profile): FigureData | null {
  const seed0 = profile.seeds[0];
  const s1 = stage1Plan("feat_uniform", seed0, profile).dir;
  const dir = (stage: string, seed = seed0, s1dir = s1) => stage2Plan(stage, s1dir, seed, profile).dir;
  const names: Record<string, string> = { cls_joint: "Joint", cls_crt: "cRT", cls_taunorm: "τ-norm", cls_lws: "LWS" };
  const norms: FigureData["weightNorms"] = [];
  let trainCounts: number[] = [];
  for (const stage of Object.keys(names)) {
    if (runStatus(dir(stage)) !== "finished") continue;
    const r = readJson<{ weight_norms: number[]; train_counts: number[] }>(join(dir(stage), "results.json"));
    norms.push({ name: names[stage], values: r.weight_norms });
    trainCounts = r.train_counts;
  }
  if (!norms.length) return null;
  // Sweep: average each tau's row over the seeds that finished.
  const sweeps = profile.seeds
    .map((seed) => dir("cls_taunorm", seed, stage1Plan("feat_uniform", seed, profile).dir))
    .filter((d) => runStatus(d) === "finished")
    .map((d) => readJson<{ extra: { tau: number; valSweep: SweepRow[]; testSweep: SweepRow[] } }>(join(d, "results.json")).extra);
  const mean = (rows: SweepRow[][]): SweepRow[] =>
    rows[0].map((r, i) => {
      const avg = (k: keyof SweepRow) => rows.reduce((s, t) => s + t[i][k], 0) / rows.length;
      return { tau: r.tau, top1: avg("top1"), many: avg("many"), medium: avg("medium"), few: avg("few") };
    });
  const tauSweep = sweeps.length
    ? { val: mean(sweeps.map((s) => s.valSweep)), test: mean(sweeps.map((s) => s.testSweep)), chosenTau: sweeps.reduce((s, x) => s + x.tau, 0) / sweeps.length }
    : null;
  return { trainCounts, weightNorms: norms, tauSweep };
}

export function figures(tables: Tables, data: FigureData | null): Record<string, PlotlyFigure> {
  const out: Record<string, PlotlyFigure> = {};
  if (tables.grid.rows.length) {
    out.sampler_classifier_grid = samplerClassifierFigure({
      results: tables.grid.rows.map((r) => ({ sampler: r.sampler, classifier: r.classifier, many: r.many, medium: r.medium, few: r.few, all: r.all })),
      samplers: SAMPLERS.map((s) => s.short),
      classifiers: CLASSIFIERS.map((c) => c.label),
      unit: "percent",
      title: "Fashion-MNIST-LT: classifiers on each representation (test, mean over seeds)",
    });
  }
  if (data?.weightNorms.length) {
    out.weight_norms = weightNormFigure({ trainCounts: data.trainCounts, series: data.weightNorms, title: "Fashion-MNIST-LT weight norms (IB representation)" });
  }
  if (data?.tauSweep) {
    out.tau_sweep = tauSweepFigure({ val: data.tauSweep.val, test: data.tauSweep.test, chosenTau: data.tauSweep.chosenTau, unit: "percent", title: "Fashion-MNIST-LT τ-normalised classifier accuracy" });
  }
  return out;
}

/** All run manifests behind the tables, in one file beside them. */
function manifests(profile: Profile): unknown[] {
  const out: unknown[] = [];
  for (const s of SAMPLERS)
    for (const seed of profile.seeds) {
      const s1 = stage1Plan(s.stage, seed, profile).dir;
      const dirs = [s1, ...CLASSIFIERS.map((c) => stage2Plan(c.stage, s1, seed, profile).dir)];
      for (const d of dirs) {
        const m = join(d, "manifest.json");
        if (existsSync(m)) out.push({ run: relative(projectRoot(), d), ...JSON.parse(readFileSync(m, "utf8")) });
      }
    }
  return out;
}

export interface WriteReportOpts {
  /** Render figures (needs chromium); default true when chromium is found. */
  render?: boolean;
  log?: (s: string) => void;
}

/** Write every table, figure and manifest of a profile into its output folder; returns what was written. */
export async function writeReport(profile: Profile, o: WriteReportOpts = {}): Promise<{ outDir: string; files: string[]; missing: string[] }> {
  const log = o.log ?? (() => {});
  const outDir = join(projectRoot(), profile.outDir);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    files.push(name);
  };
  const { cells, missing } = collectCells(profile);
  const tables = buildTables(cells);
  put("sampler_table.md", tables.sampler.markdown + "\n");
  put("sampler_table.csv", tables.sampler.csv + "\n");
  put("classifier_table.md", tables.classifier.markdown + "\n");
  put("classifier_table.csv", tables.classifier.csv + "\n");
  put("grid_table.md", tables.grid.markdown + "\n");
  put("grid_table.csv", tables.grid.csv + "\n");
  writeJsonAtomic(join(outDir, "cells.json"), cells.map((c) => ({ ...c, run: relative(projectRoot(), c.run) })));
  files.push("cells.json");
  const data = figureData(profile);
  if (data) {
    writeJsonAtomic(join(outDir, "figure_data.json"), data);
    files.push("figure_data.json");
    if (data.tauSweep) put("tau_slider.html", tauSliderHtml({ val: data.tauSweep.val, test: data.tauSweep.test, chosenTau: data.tauSweep.chosenTau, unit: "percent" }));
  }
  writeJsonAtomic(join(outDir, "manifests.json"), manifests(profile));
  files.push("manifests.json");
  const figs = figures(tables, data);
  const render = o.render ?? findChromium() !== null;
  if (render && Object.keys(figs).length) {
    const r = new FigureRenderer();
    try {
      for (const [name, fig] of Object.entries(figs)) {
        writeFileAtomic(join(outDir, "figures", `${name}.svg`), await r.renderSvg(fig));
        writeFileAtomic(join(outDir, "figures", `${name}.png`), await r.renderPng(fig, { scale: 2 }));
        files.push(`figures/${name}.svg`, `figures/${name}.png`);
        log(`figure ${name}`);
      }
    } finally {
      await r.close();
    }
  }
  for (const [name, fig] of Object.entries(figs)) writeJsonAtomic(join(outDir, "figures", `${name}.json`), fig);
  const text = readme(profile, tables, data, missing);
  put("README.md", text);
  if (profile.name === "full") {
    // results/README.md: the same report at the top of results/, links re-rooted, plus the other result folders.
    const top = text
      .replace(/\]\((figures|tau_slider)/g, "](FashionMNIST_LT/$1")
      .replace("from the runs listed in `manifests.json`", "from the runs listed in `FashionMNIST_LT/manifests.json`");
    const index = [
      top,
      "## Other results",
      "",
      "- `FashionMNIST_LT/`: the tables above as Markdown and CSV, figure data and figures, every run's manifest, and the",
      "  executed notebooks (`executed_notebooks/`).",
      "- `bench/`: `npm run bench` — training and feature-workload speed against PyTorch on the same machine.",
      "",
    ].join("\n");
    writeFileAtomic(join(projectRoot(), "results", "README.md"), index);
  }
  return { outDir, files, missing };
}

const PAPER_SAMPLER = `| Sampling | Many | Medium | Few | All |
|---|---|---|---|---|
| Instance-balanced | 65.9 | 37.5 | 7.7 | 44.4 |
| Class-balanced | 61.8 | 40.1 | 15.5 | 45.1 |
| Square-root | 64.3 | 41.2 | 17.0 | 46.8 |
| Progressively-balanced | 61.9 | 43.2 | 19.4 | 47.2 |`;

const PAPER_CLASSIFIER = `| Classifier | Many | Medium | Few | All |
|---|---|---|---|---|
| Joint | 65.9 | 37.5 | 7.7 | 44.4 |
| NCM | 56.6 | 45.3 | 28.1 | 47.3 |
| cRT | 61.8 | 46.2 | 27.4 | 49.6 |
| τ-norm | 59.1 | 46.9 | 30.7 | 49.4 |
| LWS | 60.2 | 47.2 | 30.3 | 49.9 |`;

function readme(profile: Profile, t: Tables, data: FigureData | null, missing: string[]): string {
  const seeds = profile.seeds.join(", ");
  const lines = [
    `# Fashion-MNIST-LT reproduction (${profile.name} profile)`,
    "",
    "Generated by `npm run reproduce:table` (figures: `npm run figures`) from the runs listed in `manifests.json`",
    "(config, seed, data hash, backend and kernels, versions, git commit, wall time of each run). Every number is",
    `top-1 accuracy (%) on the 10,000-image balanced Fashion-MNIST test set, mean ± sample std over seeds ${seeds}.`,
    "Selection (best epoch, τ) used the 1,000-image balanced val split only.",
    "",
    "Dataset: Fashion-MNIST-LT, exponential profile, n_max 5000, imbalance factor 1000 (5000 … 5 images, 9,324 in",
    "all); Many (>100 images) / Medium (20..100) / Few (<20) = 6 / 2 / 2 classes. Backbone ResNet-8.",
    "The paper's numbers are ImageNet-LT with ResNeXt-50 (1,000 classes): the comparison is of trends, not values.",
    "",
    missing.length ? `**Incomplete**: ${missing.length} stage-2 results are missing (${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", …" : ""}); the tables show what has finished.\n` : "",
    "## Representation learning with different samplers (Joint classifier)",
    "",
    "This reproduction:",
    "",
    t.sampler.markdown,
    "",
    "Paper (ImageNet-LT, ResNeXt-50):",
    "",
    PAPER_SAMPLER,
    "",
    "## Classifier learning on the instance-balanced representation",
    "",
    "This reproduction:",
    "",
    t.classifier.markdown,
    "",
    "Paper (ImageNet-LT, ResNeXt-50):",
    "",
    PAPER_CLASSIFIER,
    "",
    "## Every classifier on every representation (the paper's Figure 1)",
    "",
    t.grid.markdown,
    "",
    "![grid](figures/sampler_classifier_grid.png)",
    "",
    "## Weight norms and the τ sweep (the paper's Figure 2)",
    "",
    "![weight norms](figures/weight_norms.png)",
    "",
    data?.tauSweep ? `![tau sweep](figures/tau_sweep.png)\n\nτ chosen on val (mean over seeds): ${data.tauSweep.chosenTau.toFixed(2)}. Interactive: [tau_slider.html](tau_slider.html).` : "",
    "",
    "## Which of the paper's findings hold here (computed from the tables above)",
    "",
    ...findings(t, data).map((f) => `- ${f}`),
    "",
  ];
  return lines.join("\n");
}
