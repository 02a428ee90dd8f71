/** Joint: the stage-1 linear classifier as trained, logits X·Wᵀ + b (docs/ARCHITECTURE.md, "The five classifiers"). */

import type { GemmEngine } from "../gemm.js";
import type { ClassifierMethod } from "../method.js";
import { GEMM_OPTIONS, scoreLinear } from "../method-parts.js";
import { checkOptions } from "../options.js";
import { linearWeightNorms } from "../weight-norms.js";

const joint: ClassifierMethod = {
  name: "joint",
  order: 10,
  label: "Joint",
  stage: "cls_joint",
  summary: "the stage-1 linear classifier as trained (logits X·Wᵀ + b)",
  options: GEMM_OPTIONS,
  needsStage1Weights: true,
  trains: false,
  reproduced: true,
  async runOnFeatures(a) {
    const o = checkOptions<{ engine?: GemmEngine; chunkRows?: number }>("joint", a.options, GEMM_OPTIONS);
    const lin = { weight: a.stage1.weight, bias: a.stage1.bias, numClasses: a.numClasses, dim: a.train.dim, ...o };
    return {
      name: "joint",
      ...scoreLinear(lin, a, a.trainCounts),
      weightNorms: linearWeightNorms(a.stage1.weight, a.numClasses, a.train.dim),
      extra: {},
    };
  },
  configOptions: () => ({}),
  configKeys: [],
  plot: { color: "#1f4e9c", weightNorms: true },
};

export default joint;
