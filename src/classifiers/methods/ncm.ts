/**
 * NCM: nearest class mean, the original `KNNClassifier` (docs/ARCHITECTURE.md, "The five classifiers"): class
 * centroids of transformed training features (un | l2n | cl2n), scored by l2 | cos | dot.
 */

import type { FeatureSet } from "../../features/types.js";
import { evaluate } from "../../metrics.js";
import type { GemmEngine } from "../gemm.js";
import type { ClassifierMethod } from "../method.js";
import { GEMM_OPTIONS } from "../method-parts.js";
import { fitNcm, NCM_DEFAULTS, NCM_DISTS, NCM_FEAT_TYPES, type NcmArgs, ncmPredict } from "../ncm.js";
import { checkOptions, type OptionSchema } from "../options.js";
import { linearWeightNorms } from "../weight-norms.js";

const OPTIONS: OptionSchema = {
  featType: { kind: NCM_FEAT_TYPES, default: NCM_DEFAULTS.featType, doc: "feature transform: raw, L2n, centred L2n" },
  dist: { kind: NCM_DISTS, default: NCM_DEFAULTS.dist, doc: "score: −squared L2 distance, cosine, or dot / d" },
  ...GEMM_OPTIONS,
};

const ncm: ClassifierMethod = {
  name: "ncm",
  order: 20,
  label: "NCM",
  stage: "cls_ncm",
  summary: "nearest class mean (featType un | l2n | cl2n, dist l2 | cos | dot)",
  options: OPTIONS,
  needsStage1Weights: false,
  trains: false,
  reproduced: true,
  async runOnFeatures(a) {
    const o = checkOptions<NcmArgs & { engine?: GemmEngine; chunkRows?: number }>("ncm", a.options, OPTIONS);
    const model = fitNcm(a.train, a.numClasses, o);
    const run = (fs: FeatureSet) => evaluate(ncmPredict(model, fs.feats, o), fs.labels, Array.from(a.trainCounts));
    return {
      name: "ncm",
      val: run(a.val),
      test: run(a.test),
      weightNorms: linearWeightNorms(model.centroids, a.numClasses, a.train.dim),
      extra: { featType: model.featType, dist: model.dist },
    };
  },
  configOptions: (cfg) => ({ featType: cfg.stage2!.ncm.feat_type, dist: cfg.stage2!.ncm.dist }),
  configKeys: ["stage2.ncm"],
  plot: { color: "#7b3fa0", weightNorms: false },
};

export default ncm;
