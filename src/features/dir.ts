/**
 * A folder of saved features, as `ltr test --save-feat ... [--npy]` writes them or as exported from the original
 * PyTorch code: per split either `<split>.ltf` (our format) or `<split>_feats.npy` + `<split>_labels.npy`
 * (+ optional `<split>_idxs.npy`), or the original's `<split>feat_all.pkl`; optionally the stage-1 classifier as
 * `fc_weight.npy` [C×d] and `fc_bias.npy` [C], or the original's `final_model_checkpoint.pth` (or a checkpoint given
 * by path) — the original's log_dir holds both its checkpoint and its feature pickles.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readFeatures } from "./format.js";
import { importNpyFeatures, readNpy } from "./npy.js";
import { featurePickleName, readFeaturePickle } from "./pickle.js";
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
  const pkl = join(dir, featurePickleName(split));
  if (existsSync(pkl)) return readFeaturePickle(pkl);
  throw new Error(
    `${dir}: no ${split} features: expected ${split}.ltf or ${split}_feats.npy + ${split}_labels.npy (write them with ltr test --save-feat ${split} [--npy]), or the original code's ${featurePickleName(split)}`,
  );
}

export interface FeatureDir {
  train: FeatureSet;
  val: FeatureSet;
  test: FeatureSet;
  /** The stage-1 linear classifier, when fc_weight.npy / fc_bias.npy are present. */
  stage1: { weight: Float32Array; bias: Float32Array } | null;
}

/**
 * @param checkpoint an original-code checkpoint (.pth) to take the stage-1 classifier from; by default fc_weight.npy,
 *   else the folder's final_model_checkpoint.pth.
 */
export async function loadFeatureDirWith(dir: string, checkpoint?: string): Promise<FeatureDir> {
  const fd = loadFeatureDir(dir, checkpoint === undefined);
  const pth = checkpoint ?? (fd.stage1 ? undefined : join(dir, "final_model_checkpoint.pth"));
  if (pth !== undefined && (checkpoint !== undefined || existsSync(pth))) {
    const { readOriginalCheckpoint, classifierTensors } = await import("../torch/original_checkpoint.js");
    const ck = readOriginalCheckpoint(pth);
    try {
      const c = classifierTensors(ck);
      if (c.featDim !== fd.train.dim) throw new Error(`${pth}: the classifier takes ${c.featDim}-d features but ${dir} has d = ${fd.train.dim}`);
      fd.stage1 = { weight: c.weight, bias: c.bias };
    } finally {
      ck.close();
    }
  }
  return fd;
}

export function loadFeatureDir(dir: string, readClassifier = true): FeatureDir {
  if (!existsSync(dir)) throw new Error(`feature folder ${dir} does not exist`);
  const train = loadSplit(dir, "train");
  const val = loadSplit(dir, "val");
  const test = loadSplit(dir, "test");
  const w = join(dir, "fc_weight.npy");
  const b = join(dir, "fc_bias.npy");
  let stage1: FeatureDir["stage1"] = null;
  if (readClassifier && existsSync(w)) {
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
