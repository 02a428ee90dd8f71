/**
 * cRT: classifier re-training, a fresh linear layer trained on the frozen representation with class-balanced batches
 * (docs/ARCHITECTURE.md, "The five classifiers"); on images through the frozen backbone as a new linear head.
 */

import { CRT_DEFAULT_EPOCHS, type CrtOptions, trainCrt } from "../crt.js";
import type { ClassifierMethod } from "../method.js";
import {
  BALANCED_HEAD_CONFIG_KEYS,
  balancedHeadConfigOptions,
  balancedHeadOptions,
  scoreLinear,
} from "../method-parts.js";
import { checkOptions } from "../options.js";
import { linearWeightNorms } from "../weight-norms.js";

const OPTIONS = balancedHeadOptions(CRT_DEFAULT_EPOCHS);

const crt: ClassifierMethod = {
  name: "crt",
  order: 30,
  label: "cRT",
  stage: "cls_crt",
  summary: "classifier re-training with class-balanced sampling",
  options: OPTIONS,
  needsStage1Weights: false,
  trains: true,
  reproduced: true,
  imagesHead: "linear",
  async runOnFeatures(a) {
    const o = checkOptions<CrtOptions>("crt", a.options, OPTIONS);
    const r = trainCrt({ ...o, train: a.train, val: a.val, numClasses: a.numClasses, onEpoch: a.onEpoch });
    const lin = { weight: r.weight, bias: r.bias, numClasses: a.numClasses, dim: a.train.dim, engine: o.engine };
    return {
      name: "crt",
      ...scoreLinear(lin, a, a.trainCounts),
      weightNorms: linearWeightNorms(r.weight, a.numClasses, a.train.dim),
      extra: { weight: r.weight, bias: r.bias, bestEpoch: r.bestEpoch, bestValTop1: r.bestValTop1, log: r.log },
    };
  },
  configOptions: balancedHeadConfigOptions,
  configKeys: BALANCED_HEAD_CONFIG_KEYS,
  plot: { color: "#2e8b3d", weightNorms: true },
};

export default crt;
