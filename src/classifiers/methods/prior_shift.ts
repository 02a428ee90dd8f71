/**
 * Prior shift (a throwaway example of adding a method): the stage-1 linear classifier with its logits adjusted by the
 * training prior, z_j = w_j·x + b_j − τ·log π_j with π_j = n_j / N, so rarer classes get a larger logit.
 */

import type { GemmEngine } from "../gemm.js";
import type { ClassifierMethod } from "../method.js";
import { GEMM_OPTIONS, scoreLinear } from "../method-parts.js";
import { checkOptions, type OptionSchema } from "../options.js";
import { linearWeightNorms } from "../weight-norms.js";

const OPTIONS: OptionSchema = {
  tau: { kind: "number", default: 1, doc: "strength of the adjustment (0: the stage-1 classifier)" },
  ...GEMM_OPTIONS,
};

const priorShift: ClassifierMethod = {
  name: "prior_shift",
  order: 60,
  label: "Prior shift",
  stage: "cls_prior_shift",
  summary: "stage-1 logits minus τ·log(training prior)",
  options: OPTIONS,
  needsStage1Weights: true,
  trains: false,
  reproduced: false,
  async runOnFeatures(a) {
    const o = checkOptions<{ tau?: number; engine?: GemmEngine; chunkRows?: number }>(
      "prior_shift",
      a.options,
      OPTIONS,
    );
    const tau = o.tau ?? 1;
    let total = 0;
    for (let j = 0; j < a.numClasses; j++) total += a.trainCounts[j];
    const bias = Float32Array.from(a.stage1.bias, (b, j) => b - tau * Math.log(a.trainCounts[j] / total));
    const lin = {
      weight: a.stage1.weight,
      bias,
      numClasses: a.numClasses,
      dim: a.train.dim,
      engine: o.engine,
      chunkRows: o.chunkRows,
    };
    return {
      name: "prior_shift",
      ...scoreLinear(lin, a, a.trainCounts),
      weightNorms: linearWeightNorms(a.stage1.weight, a.numClasses, a.train.dim),
      extra: { tau },
    };
  },
  configOptions: () => ({}),
  plot: { color: "#e377c2", weightNorms: false },
};

export default priorShift;
