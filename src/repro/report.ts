/**
 * Writing the reproduction's outputs from finished runs: tables (Markdown + CSV), figure data, figures (SVG + PNG
 * through headless chromium), the interactive tau slider, every run's manifest, and results/README.md comparing
 * with the paper. Nothing here trains: it reads a {@link ResultSource} (the run cache, the committed results bundle,
 * or both), so `npm run figures` can regenerate it all on a fresh clone.
 *
 * Files whose content is unchanged are not rewritten, and a figure is re-rendered only when its spec
 * (`figures/<name>.json`) changed or an image is missing, so regenerating from the same runs leaves `git status`
 * clean. An incomplete source never overwrites the committed results (see {@link WriteReportOpts.allowPartial}).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type PlotlyFigure,
  samplerClassifierFigure,
  tauSliderHtml,
  tauSweepFigure,
  weightNormFigure,
} from "../plot/index.js";
import { FigureRenderer, findChromium } from "../plot/render.js";
import { writeFileAtomic } from "../run/atomic.js";
import { projectRoot } from "../run/manifest.js";
import { exportedRecord } from "../run/portable.js";
import { type FigureData, figureData } from "./figure_data.js";
import { findings, jointNorms, type SeedNorms } from "./findings.js";
import { paperMarkdown } from "./paper.js";
import { CLASSIFIERS, type Profile, SAMPLERS } from "./profiles.js";
import type { ResultSource } from "./source.js";
import { buildTables, collectCells, type Tables } from "./tables.js";

export { type FigureData, figureData, type SweepRow } from "./figure_data.js";

export function figures(tables: Tables, data: FigureData | null): Record<string, PlotlyFigure> {
  const out: Record<string, PlotlyFigure> = {};
  if (tables.grid.rows.length) {
    out.sampler_classifier_grid = samplerClassifierFigure({
      results: tables.grid.rows.map((r) => ({
        sampler: r.sampler,
        classifier: r.classifier,
        many: r.many,
        medium: r.medium,
        few: r.few,
        all: r.all,
      })),
      samplers: SAMPLERS.map((s) => s.short),
      classifiers: CLASSIFIERS.map((c) => c.label),
      unit: "percent",
      title: "Fashion-MNIST-LT: classifiers on each representation (test, mean over seeds)",
    });
  }
  if (data?.weightNorms.length) {
    out.weight_norms = weightNormFigure({
      trainCounts: data.trainCounts,
      series: data.weightNorms,
      title: "Fashion-MNIST-LT weight norms (IB representation)",
    });
  }
  if (data?.tauSweep) {
    out.tau_sweep = tauSweepFigure({
      val: data.tauSweep.val,
      test: data.tauSweep.test,
      chosenTau: data.tauSweep.chosenTau,
      unit: "percent",
      title: "Fashion-MNIST-LT τ-normalised classifier accuracy",
    });
  }
  return out;
}

/**
 * All run manifests behind the tables (stage 1 and its five classifiers, per sampler and seed), in one file, with
 * machine paths removed (portable.ts), also from manifests written before runs recorded portable paths.
 */
export function manifests(source: ResultSource): unknown[] {
  const out: unknown[] = [];
  for (const s of SAMPLERS)
    for (const seed of source.profile.seeds) {
      const recs = [source.stage1(s.stage, seed), ...CLASSIFIERS.map((c) => source.stage2(s.stage, c.stage, seed))];
      for (const r of recs)
        if (r && Object.keys(r.manifest).length) out.push({ run: r.run, ...exportedRecord(r.manifest, projectRoot()) });
    }
  return out;
}

/** Write `path` only when its content differs from what is there; returns whether it wrote. */
export function writeIfChanged(path: string, content: string | Uint8Array): boolean {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
  if (existsSync(path) && readFileSync(path).equals(bytes)) return false;
  writeFileAtomic(path, bytes);
  return true;
}

export interface WriteReportOpts {
  /** The runs to report (default: the profile's run cache, see source.ts). */
  source: ResultSource;
  /** Render figures (needs chromium); default true when chromium is found. */
  render?: boolean;
  /**
   * Write even when results are missing (the README then says "Incomplete"). Default: true for the profiles whose
   * output goes under build/, false for the committed results/ folder, which is never replaced by a partial report.
   */
  allowPartial?: boolean;
  /**
   * The folder standing for the project root in output paths (default: the project root): the report goes to
   * `<outRoot>/<profile.outDir>` (and, for the full profile, `<outRoot>/results/README.md`). `--verify` points it
   * at a temporary folder so the committed results are never written.
   */
  outRoot?: string;
  log?: (s: string) => void;
}

/** What {@link writeReport} did. */
export interface ReportResult {
  outDir: string;
  /** Files written because they were new or changed (relative to outDir). */
  changed: string[];
  /** Files left as they were because their content was already right. */
  unchanged: string[];
  /** Stage-2 results the source lacks ("IB/cRT/seed1"). */
  missing: string[];
  /** False when nothing was written because the source was incomplete and partial output was not allowed. */
  written: boolean;
}

/** Write every table, figure and manifest of a profile into its output folder. */
export async function writeReport(profile: Profile, o: WriteReportOpts): Promise<ReportResult> {
  const log = o.log ?? (() => {});
  const outRoot = o.outRoot ?? projectRoot();
  const outDir = join(outRoot, profile.outDir);
  const { cells, missing } = collectCells(o.source);
  const result: ReportResult = { outDir, changed: [], unchanged: [], missing, written: false };
  const allowPartial = o.allowPartial ?? !profile.outDir.startsWith("results");
  if (missing.length && !allowPartial) return result;
  mkdirSync(outDir, { recursive: true });
  const put = (name: string, content: string | Uint8Array) =>
    (writeIfChanged(join(outDir, name), content) ? result.changed : result.unchanged).push(name);
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  const tables = buildTables(cells);
  put("sampler_table.md", `${tables.sampler.markdown}\n`);
  put("sampler_table.csv", `${tables.sampler.csv}\n`);
  put("classifier_table.md", `${tables.classifier.markdown}\n`);
  put("classifier_table.csv", `${tables.classifier.csv}\n`);
  put("grid_table.md", `${tables.grid.markdown}\n`);
  put("grid_table.csv", `${tables.grid.csv}\n`);
  put("cells.json", json(cells));
  const data = figureData(o.source);
  if (data) {
    put("figure_data.json", json(data));
    if (data.tauSweep)
      put(
        "tau_slider.html",
        tauSliderHtml({
          val: data.tauSweep.val,
          test: data.tauSweep.test,
          chosenTau: data.tauSweep.chosenTau,
          unit: "percent",
        }),
      );
  }
  put("manifests.json", json(manifests(o.source)));
  const figs = figures(tables, data);
  // A figure is rendered again only when its spec changed or one of its images is missing.
  const stale = Object.entries(figs).filter(([name, fig]) => {
    const specChanged = writeIfChanged(join(outDir, "figures", `${name}.json`), json(fig));
    (specChanged ? result.changed : result.unchanged).push(`figures/${name}.json`);
    const missingImage =
      !existsSync(join(outDir, "figures", `${name}.svg`)) || !existsSync(join(outDir, "figures", `${name}.png`));
    if (!specChanged && !missingImage) result.unchanged.push(`figures/${name}.svg`, `figures/${name}.png`);
    return specChanged || missingImage;
  });
  const render = o.render ?? findChromium() !== null;
  if (stale.length && !render)
    log(`figures not rendered (no chromium, or --no-render): ${stale.map(([n]) => n).join(", ")}`);
  if (stale.length && render) {
    const r = new FigureRenderer();
    try {
      for (const [name, fig] of stale) {
        put(`figures/${name}.svg`, await r.renderSvg(fig));
        put(`figures/${name}.png`, await r.renderPng(fig, { scale: 2 }));
        log(`figure ${name}`);
      }
    } finally {
      await r.close();
    }
  }
  const text = readme(profile, tables, data, missing, jointNorms(o.source));
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
      "- `FashionMNIST_LT/`: the tables above as Markdown and CSV, figure data and figures, every run's manifest, the",
      "  results bundle the notebooks read (`bundle/`), and the executed notebooks (`executed_notebooks/`).",
      "- `bench/`: `npm run bench` — training and feature-workload speed against PyTorch on the same machine.",
      "",
    ].join("\n");
    (writeIfChanged(join(outRoot, "results", "README.md"), index) ? result.changed : result.unchanged).push(
      "../README.md",
    );
  }
  result.written = true;
  return result;
}

function readme(profile: Profile, t: Tables, data: FigureData | null, missing: string[], norms: SeedNorms[]): string {
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
    missing.length
      ? `**Incomplete**: ${missing.length} stage-2 results are missing (${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", …" : ""}); the tables show what has finished.\n`
      : "",
    "## Representation learning with different samplers (Joint classifier)",
    "",
    "This reproduction:",
    "",
    t.sampler.markdown,
    "",
    "Paper (ImageNet-LT, ResNeXt-50):",
    "",
    paperMarkdown("sampler"),
    "",
    "## Classifier learning on the instance-balanced representation",
    "",
    "This reproduction:",
    "",
    t.classifier.markdown,
    "",
    "Paper (ImageNet-LT, ResNeXt-50):",
    "",
    paperMarkdown("classifier"),
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
    data?.tauSweep
      ? `![tau sweep](figures/tau_sweep.png)\n\nτ chosen on val (mean over seeds): ${data.tauSweep.chosenTau.toFixed(2)}. Interactive: [tau_slider.html](tau_slider.html).`
      : "",
    "",
    "## Which of the paper's findings hold here (computed from the tables above)",
    "",
    `Each finding gives the estimate and its 95 % interval over the ${profile.seeds.length} seed${profile.seeds.length === 1 ? "" : "s"} (in brackets), and says`,
    "**holds** when the interval lies wholly on the claimed side, **does not hold** when wholly on the other side,",
    "**inconclusive** otherwise (docs/STATISTICS.md: the method, and how many seeds decide what).",
    "",
    ...findings(t, data, norms).map((f) => `- ${f}`),
    "",
  ];
  return lines.join("\n");
}
