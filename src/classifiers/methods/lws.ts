/**
 * LWS: learnable weight scaling, per-class scales s_j on the frozen stage-1 logits trained with class-balanced
 * batches (docs/ARCHITECTURE.md, "The five classifiers"); on images through the frozen backbone as the "lws" head.
 */

import { LWS_DEFAULT_EPOCHS, LWS_DEFAULT_MAX_CACHE_BYTES, type LwsOptions, trainLws } from "../lws.js";
import type { ClassifierMethod } from "../method.js";
import {
  BALANCED_HEAD_CONFIG_KEYS,
  balancedHeadConfigOptions,
  balancedHeadOptions,
  scoreLinear,
} from "../method-parts.js";
import { checkOptions, type OptionSchema } from "../options.js";
import { lwsWeightNorms } from "../weight-norms.js";

const OPTIONS: OptionSchema = {
  ...balancedHeadOptions(LWS_DEFAULT_EPOCHS),
  maxCacheBytes: {
    kind: "number",
    default: LWS_DEFAULT_MAX_CACHE_BYTES,
    doc: "largest cache of base logits per split, bytes (0: none)",
  },
};

const lws: ClassifierMethod = {
  name: "lws",
  order: 50,
  label: "LWS",
  stage: "cls_lws",
  summary: "learnable per-class weight scaling of the stage-1 logits",
  options: OPTIONS,
  needsStage1Weights: true,
  trains: true,
  reproduced: true,
  imagesHead: "lws",
  async runOnFeatures(a) {
    const o = checkOptions<LwsOptions>("lws", a.options, OPTIONS);
    const r = trainLws({
      ...o,
      train: a.train,
      val: a.val,
      numClasses: a.numClasses,
      stage1: a.stage1,
      onEpoch: a.onEpoch,
    });
    const lin = {
      weight: a.stage1.weight,
      bias: a.stage1.bias,
      scale: r.scales,
      numClasses: a.numClasses,
      dim: a.train.dim,
      engine: o.engine,
    };
    return {
      name: "lws",
      ...scoreLinear(lin, a, a.trainCounts),
      weightNorms: lwsWeightNorms(a.stage1.weight, a.numClasses, a.train.dim, r.scales),
      extra: { scales: r.scales, bestEpoch: r.bestEpoch, bestValTop1: r.bestValTop1, log: r.log },
    };
  },
  configOptions: balancedHeadConfigOptions,
  configKeys: BALANCED_HEAD_CONFIG_KEYS,
  plot: { color: "#8b1a1a", weightNorms: true },
};

export default lws;
