/**
 * τ-norm: the stage-1 weights τ-normalised, w_j / ‖w_j‖^τ, with τ swept on a grid and chosen on val before test is
 * touched (docs/ARCHITECTURE.md, "The five classifiers").
 */

import type { GemmEngine } from "../gemm.js";
import type { ClassifierMethod } from "../method.js";
import { GEMM_OPTIONS } from "../method-parts.js";
import { checkOptions, type OptionSchema } from "../options.js";
import {
  DEFAULT_TAU_GRID,
  selectTau,
  type TauChoice,
  type TauSelectMetric,
  type TauSweep,
  tauGrid,
  tauSweep,
} from "../tau-norm.js";
import { tauNormWeightNorms } from "../weight-norms.js";

const DEFAULT_SELECT_BY: TauSelectMetric = "top1";

const OPTIONS: OptionSchema = {
  taus: { kind: "number[]", default: DEFAULT_TAU_GRID, doc: "the τ grid swept (0, 0.1, …, 2)" },
  selectBy: {
    kind: ["top1", "macroAcc"],
    default: DEFAULT_SELECT_BY,
    doc: "val metric that chooses τ (ties: smaller τ)",
  },
  ...GEMM_OPTIONS,
};

const tauNorm: ClassifierMethod = {
  name: "tau_norm",
  order: 40,
  label: "τ-norm",
  stage: "cls_taunorm",
  summary: "τ-normalised stage-1 weights, τ swept on a grid and chosen on val",
  options: OPTIONS,
  needsStage1Weights: true,
  trains: false,
  reproduced: true,
  async runOnFeatures(a) {
    const o = checkOptions<{ taus?: number[]; selectBy?: TauSelectMetric; engine?: GemmEngine; chunkRows?: number }>(
      "tau_norm",
      a.options,
      OPTIONS,
    );
    const taus = o.taus ?? DEFAULT_TAU_GRID;
    const t = {
      weight: a.stage1.weight,
      numClasses: a.numClasses,
      dim: a.train.dim,
      engine: o.engine,
      chunkRows: o.chunkRows,
    };
    // Choose τ before the test split is touched: the choice sees only the val table.
    const valSweep: TauSweep<"val"> = tauSweep("val", t, taus, a.val, a.trainCounts);
    const choice: TauChoice = selectTau(valSweep, o.selectBy ?? DEFAULT_SELECT_BY);
    const testSweep: TauSweep<"test"> = tauSweep("test", t, taus, a.test, a.trainCounts);
    return {
      name: "tau_norm",
      val: valSweep.results[choice.index],
      test: testSweep.results[choice.index],
      weightNorms: tauNormWeightNorms(a.stage1.weight, a.numClasses, a.train.dim, choice.tau),
      extra: { tau: choice.tau, choice, valSweep, testSweep },
    };
  },
  configOptions: (cfg) => {
    const g = cfg.stage2!.tau_grid;
    return { taus: tauGrid(g.start, g.stop, g.step) };
  },
  configKeys: ["stage2.tau_grid"],
  plot: { color: "#d4a017", weightNorms: true },
};

export default tauNorm;
