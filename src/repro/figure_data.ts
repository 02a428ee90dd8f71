/**
 * The data behind the paper's Figure 2 panels, read from the IB representation's stage-2 runs: per-class weight
 * norms (first seed) and the τ sweep averaged over seeds. Its own module because the report, the findings and the
 * teach-profile effects all read it.
 */
import { CLASSIFIER_METHODS, methodStage } from "../classifiers/registry.js";
import type { ResultSource } from "./source.js";

export interface SweepRow {
  tau: number;
  top1: number;
  many: number;
  medium: number;
  few: number;
}

export interface FigureData {
  trainCounts: number[];
  /** Per-class norms on the IB representation, first seed: the methods whose plot style says `weightNorms`. */
  weightNorms: { name: string; values: number[] }[];
  /** tau sweep on IB, mean over seeds, percent (4 decimals). */
  tauSweep: { val: SweepRow[]; test: SweepRow[]; chosenTau: number } | null;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Figure data from the IB representation's stage-2 runs. */
export function figureData(source: ResultSource): FigureData | null {
  const seeds = source.profile.seeds;
  // The paper's Figure 2 panel: Joint, cRT, τ-norm, LWS (NCM has centroids, not classifier weights).
  const shown = CLASSIFIER_METHODS.filter((m) => m.reproduced && m.plot.weightNorms);
  const norms: FigureData["weightNorms"] = [];
  let trainCounts: number[] = [];
  for (const m of shown) {
    const rec = source.stage2("feat_uniform", m.stage, seeds[0]);
    if (!rec) continue;
    const r = rec.results as { weight_norms: number[]; train_counts: number[] };
    norms.push({ name: m.label, values: r.weight_norms });
    trainCounts = r.train_counts;
  }
  if (!norms.length) return null;
  // Sweep: average each tau's row over the seeds that finished.
  const sweeps = seeds
    .map((seed) => source.stage2("feat_uniform", methodStage("tau_norm"), seed))
    .filter((r): r is NonNullable<typeof r> => r !== null)
    .map((r) => (r.results as { extra: { tau: number; valSweep: SweepRow[]; testSweep: SweepRow[] } }).extra);
  const mean = (rows: SweepRow[][]): SweepRow[] =>
    rows[0].map((r, i) => {
      const avg = (k: keyof SweepRow) => r4(rows.reduce((s, t) => s + t[i][k], 0) / rows.length);
      return { tau: r.tau, top1: avg("top1"), many: avg("many"), medium: avg("medium"), few: avg("few") };
    });
  const tauSweep = sweeps.length
    ? {
        val: mean(sweeps.map((s) => s.valSweep)),
        test: mean(sweeps.map((s) => s.testSweep)),
        chosenTau: r4(sweeps.reduce((s, x) => s + x.tau, 0) / sweeps.length),
      }
    : null;
  return { trainCounts, weightNorms: norms, tauSweep };
}
