/**
 * A folder of saved features, as `ltr test --save-feat ... [--npy]` writes them or as exported from the original
 * PyTorch code: per split either `<split>.ltf` (our format) or `<split>_feats.npy` + `<split>_labels.npy`
 * (+ optional `<split>_idxs.npy`); optionally the stage-1 classifier as `fc_weight.npy` [C×d] and `fc_bias.npy` [C].
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readFeatures } from "./format.js";
import { importNpyFeatures, readNpy } from "./npy.js";
import type { FeatureSet } from "./types.js";

export type FeatureSplit = "train" | "val" | "test";

export function loadSplit(dir: string, split: FeatureSplit): FeatureSet {
  const ltf = join(dir, `${split}.ltf`);
  if (existsSync(ltf)) return readFeatures(ltf);
  const feats = join(dir, `${split}_feats.npy`);
  const labels = join(dir, `${split}_labels.npy`);
  if (existsSync(feats) && existsSync(labels)) {
    const idxs = join(dir, `${split}_idxs.npy`);
    return importNpyFeatures({ feats, labels, idxs: existsSync(idxs) ? idxs : undefined });
  }
  throw new Error(`${dir}: no ${split} features: expected ${split}.ltf or ${split}_feats.npy + ${split}_labels.npy (write them with ltr test --save-feat ${split} [--npy])`);
}

export interface FeatureDir {
  train: FeatureSet;
  val: FeatureSet;
  test: FeatureSet;
  /** The stage-1 linear classifier, when fc_weight.npy / fc_bias.npy are present. */
  stage1: { weight: Float32Array; bias: Float32Array } | null;
}

export function loadFeatureDir(dir: string): FeatureDir {
  if (!existsSync(dir)) throw new Error(`feature folder ${dir} does not exist`);
  const train = loadSplit(dir, "train");
  const val = loadSplit(dir, "val");
  const test = loadSplit(dir, "test");
  const w = join(dir, "fc_weight.npy");
  const b = join(dir, "fc_bias.npy");
  let stage1: FeatureDir["stage1"] = null;
  if (existsSync(w)) {
    const wa = readNpy(w);
    if (wa.shape.length !== 2 || !(wa.data instanceof Float32Array)) throw new Error(`${w}: expected a 2-D float array [C, d], got ${wa.descr} ${JSON.stringify(wa.shape)}`);
    const [numClasses, dim] = wa.shape;
    if (dim !== train.dim) throw new Error(`${w}: has d = ${dim} but the train features have d = ${train.dim}`);
    let bias = new Float32Array(numClasses);
    if (existsSync(b)) {
      const ba = readNpy(b);
      if (ba.shape.length !== 1 || ba.shape[0] !== numClasses || !(ba.data instanceof Float32Array))
        throw new Error(`${b}: expected a float array [${numClasses}], got ${ba.descr} ${JSON.stringify(ba.shape)}`);
      bias = ba.data;
    }
    stage1 = { weight: wa.data, bias };
  }
  return { train, val, test, stage1 };
}
