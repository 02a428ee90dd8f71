/**
 * A folder of saved features, as `ltr test --save-feat ... [--npy]` writes them or as exported from the original
 * PyTorch code: per split either `<split>.ltf` (our format) or `<split>_feats.npy` + `<split>_labels.npy`
 * (+ optional `<split>_idxs.npy`), or the original's `<split>feat_all.pkl`; optionally the stage-1 classifier as
 * `fc_weight.npy` [C×d] and `fc_bias.npy` [C], or the original's `final_model_checkpoint.pth` (or a checkpoint given
 * by path) — the original's log_dir holds both its checkpoint and its feature pickles.
 * Everything read is checked (checksums of .ltf, finite features and weights, shapes) and every error names the
 * file; {@link checkFeatureDirClasses} checks the labels and the classifier against the class count.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { readFeatures } from "./format.js";
import { importNpyFeatures, readNpy } from "./npy.js";
import { featurePickleName, readFeaturePickle } from "./pickle.js";
import { assertFiniteRows, type FeatureSet } from "./types.js";

export type FeatureSplit = "train" | "val" | "test";

/** One split's features and the file its labels came from (for messages). */
export function loadSplitWithSource(dir: string, split: FeatureSplit): { set: FeatureSet; labelsFile: string } {
  const ltf = join(dir, `${split}.ltf`);
  if (existsSync(ltf)) return { set: readFeatures(ltf), labelsFile: ltf };
  const feats = join(dir, `${split}_feats.npy`);
  const labels = join(dir, `${split}_labels.npy`);
  if (existsSync(feats) && existsSync(labels)) {
    const idxs = join(dir, `${split}_idxs.npy`);
    return { set: importNpyFeatures({ feats, labels, idxs: existsSync(idxs) ? idxs : undefined }), labelsFile: labels };
  }
  const pkl = join(dir, featurePickleName(split));
  if (existsSync(pkl)) return { set: readFeaturePickle(pkl), labelsFile: pkl };
  const have = existsSync(feats)
    ? ` (${split}_feats.npy is there but ${split}_labels.npy is not)`
    : existsSync(labels)
      ? ` (${split}_labels.npy is there but ${split}_feats.npy is not)`
      : "";
  throw new Error(
    `${dir}: no ${split} features${have}: expected ${split}.ltf or ${split}_feats.npy + ${split}_labels.npy ` +
      `(write them from a stage-1 run with ltr test --cfg FILE --save-feat ${split} [--npy]), or the original code's ${featurePickleName(split)}`,
  );
}

export function loadSplit(dir: string, split: FeatureSplit): FeatureSet {
  return loadSplitWithSource(dir, split).set;
}

export interface FeatureDir {
  train: FeatureSet;
  val: FeatureSet;
  test: FeatureSet;
  /** The stage-1 linear classifier, when fc_weight.npy / fc_bias.npy are present. */
  stage1: { weight: Float32Array; bias: Float32Array } | null;
  /** The file each split's labels came from, and the classifier file (for messages). */
  files: { train: string; val: string; test: string; fcWeight: string | null };
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
      if (c.featDim !== fd.train.dim)
        throw new Error(`${pth}: the classifier takes ${c.featDim}-d features but ${dir} has d = ${fd.train.dim}`);
      fd.stage1 = { weight: c.weight, bias: c.bias };
      fd.files.fcWeight = pth;
    } finally {
      ck.close();
    }
  }
  return fd;
}

export function loadFeatureDir(dir: string, readClassifier = true): FeatureDir {
  if (!existsSync(dir))
    throw new Error(
      `feature folder ${dir} does not exist; fix the --features path, or export a stage-1 run's features into RUN/features with ltr test --cfg RUN/config.yaml --run-dir RUN --save-feat train --npy (then again with val and test)`,
    );
  if (!statSync(dir).isDirectory())
    throw new Error(`${dir} is a file; --features takes the folder holding the feature files`);
  const train = loadSplitWithSource(dir, "train");
  const val = loadSplitWithSource(dir, "val");
  const test = loadSplitWithSource(dir, "test");
  for (const [name, s] of [
    ["val", val],
    ["test", test],
  ] as const)
    if (s.set.dim !== train.set.dim)
      throw new Error(
        `${s.labelsFile.replace(/_labels\.npy$/, "_feats.npy")}: ${name} features have d = ${s.set.dim} but the train features have d = ${train.set.dim}; all splits must come from the same model`,
      );
  const w = join(dir, "fc_weight.npy");
  const b = join(dir, "fc_bias.npy");
  let stage1: FeatureDir["stage1"] = null;
  if (readClassifier && existsSync(w)) {
    const wa = readNpy(w);
    if (wa.shape.length !== 2 || !(wa.data instanceof Float32Array))
      throw new Error(`${w}: expected a 2-D float array [C, d], got ${wa.descr} ${JSON.stringify(wa.shape)}`);
    const [numClasses, dim] = wa.shape;
    if (dim !== train.set.dim) throw new Error(`${w}: has d = ${dim} but the train features have d = ${train.set.dim}`);
    assertFiniteRows(wa.data, dim, w);
    let bias = new Float32Array(numClasses);
    if (existsSync(b)) {
      const ba = readNpy(b);
      if (ba.shape.length !== 1 || ba.shape[0] !== numClasses || !(ba.data instanceof Float32Array))
        throw new Error(
          `${b}: expected a float array [${numClasses}] (one bias per row of fc_weight.npy), got ${ba.descr} ${JSON.stringify(ba.shape)}`,
        );
      assertFiniteRows(ba.data, 1, b);
      bias = ba.data;
    }
    stage1 = { weight: wa.data, bias };
  }
  return {
    train: train.set,
    val: val.set,
    test: test.set,
    stage1,
    files: { train: train.labelsFile, val: val.labelsFile, test: test.labelsFile, fcWeight: existsSync(w) ? w : null },
  };
}

/**
 * Check a feature folder against its class count C: every label of every split in [0, C) (the error names the file,
 * the split and the row) and the stage-1 classifier with exactly C rows. `source` says where C came from.
 */
export function checkFeatureDirClasses(fd: FeatureDir, numClasses: number, source: string): void {
  for (const split of ["train", "val", "test"] as const) {
    const labels = fd[split].labels;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i];
      if (!(y >= 0 && y < numClasses))
        throw new Error(
          `${fd.files[split]}: ${split} label ${y} at row ${i} is outside [0, ${numClasses}) (C = ${numClasses} ${source}); fix the labels, or give the right class count with --num-classes`,
        );
    }
  }
  if (fd.stage1) {
    const rows = fd.stage1.bias.length;
    if (rows !== numClasses)
      throw new Error(
        `${fd.files.fcWeight}: the classifier has ${rows} rows (classes) but C = ${numClasses} ${source}; ` +
          (rows > numClasses ? `if the labels leave some classes out, pass --num-classes ${rows}; otherwise e` : "e") +
          `xport fc_weight.npy / fc_bias.npy of the model that produced these features`,
      );
  }
}
