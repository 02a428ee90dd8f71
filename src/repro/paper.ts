/**
 * The paper's numbers, written once: its ImageNet-LT tables (samplers with the Joint classifier, classifiers on the
 * instance-balanced representation) and its τ sweep. The notebooks compare with them (src/repro/notebook.ts
 * re-exports them) and the report renders them as Markdown ({@link paperMarkdown}).
 */
import { methodLabel } from "../classifiers/registry.js";
import { SAMPLERS } from "./profiles.js";

/** One row of a Many/Medium/Few/All table in percent. */
export interface PaperRow {
  name: string;
  many: number;
  medium: number;
  few: number;
  all: number;
}

/**
 * The paper's ImageNet-LT numbers, ResNeXt-50, 90 epochs, top-1 % on test (as the README of the paper's code,
 * facebookresearch/classifier-balancing, reports them): the sampler table (Joint classifier; rows by sampler short
 * name) and the classifier table (instance-balanced representation; rows by method label).
 */
export const PAPER_IMAGENET_LT: { sampler: PaperRow[]; classifier: PaperRow[] } = {
  sampler: [
    { name: "IB", many: 65.9, medium: 37.5, few: 7.7, all: 44.4 },
    { name: "CB", many: 61.8, medium: 40.1, few: 15.5, all: 45.1 },
    { name: "SR", many: 64.3, medium: 41.2, few: 17.0, all: 46.8 },
    { name: "PB", many: 61.9, medium: 43.2, few: 19.4, all: 47.2 },
  ],
  // By registry name; the row's name is the method's label ("tau_norm" → "τ-norm").
  classifier: [
    { method: "joint", many: 65.9, medium: 37.5, few: 7.7, all: 44.4 },
    { method: "ncm", many: 56.6, medium: 45.3, few: 28.1, all: 47.3 },
    { method: "crt", many: 61.8, medium: 46.2, few: 27.4, all: 49.6 },
    { method: "tau_norm", many: 59.1, medium: 46.9, few: 30.7, all: 49.4 },
    { method: "lws", many: 60.2, medium: 47.2, few: 30.3, all: 49.9 },
  ].map(({ method, ...r }) => ({ name: methodLabel(method), ...r })),
};

/**
 * The paper's τ sweep (Figure 2 right, ImageNet-LT ResNeXt-50, digitised from the figure to ±0.3), percent; τ = 0 equals
 * the Joint test numbers, so it is a test-split curve. Medium at τ = 1.9 is read as 21 (the figure is unclear there).
 */
export const PAPER_TAU_SWEEP: { tau: number; many: number; medium: number; few: number; top1: number }[] = [
  [0.0, 65.9, 37.6, 7.8, 44.5],
  [0.1, 65.8, 39.3, 10.0, 45.5],
  [0.2, 65.3, 41.2, 12.2, 46.5],
  [0.3, 64.8, 42.9, 15.3, 47.5],
  [0.4, 63.8, 44.3, 18.7, 48.3],
  [0.5, 62.5, 45.5, 22.3, 48.9],
  [0.6, 60.9, 46.3, 26.2, 49.2],
  [0.7, 59.1, 46.9, 30.8, 49.5],
  [0.8, 56.7, 47.0, 35.3, 49.1],
  [0.9, 53.8, 46.5, 39.7, 48.4],
  [1.0, 50.1, 45.5, 42.9, 47.0],
  [1.1, 46.5, 43.9, 45.9, 45.2],
  [1.2, 42.3, 41.9, 48.0, 42.8],
  [1.3, 37.5, 39.5, 49.6, 40.1],
  [1.4, 32.6, 36.4, 50.4, 36.9],
  [1.5, 27.5, 33.2, 50.9, 33.5],
  [1.6, 22.7, 30.7, 50.9, 30.2],
  [1.7, 18.3, 27.5, 50.5, 27.0],
  [1.8, 14.2, 24.4, 49.9, 23.9],
  [1.9, 11.2, 21.0, 48.8, 21.0],
  [2.0, 8.6, 18.0, 47.7, 18.5],
].map(([tau, many, medium, few, top1]) => ({ tau, many, medium, few, top1 }));

/** One of the paper's tables as Markdown, one decimal per number: "sampler" rows by sampler label, "classifier" rows. */
export function paperMarkdown(table: "sampler" | "classifier"): string {
  const key = table === "sampler" ? "Sampling" : "Classifier";
  const name = (r: PaperRow) =>
    table === "sampler" ? (SAMPLERS.find((s) => s.short === r.name)?.label ?? r.name) : r.name;
  const rows = PAPER_IMAGENET_LT[table].map(
    (r) => `| ${name(r)} | ${[r.many, r.medium, r.few, r.all].map((x) => x.toFixed(1)).join(" | ")} |`,
  );
  return [`| ${key} | Many | Medium | Few | All |`, "|---|---|---|---|---|", ...rows].join("\n");
}
