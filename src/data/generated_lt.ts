/**
 * Turn a balanced in-memory image set (train + test) into a long-tailed Dataset: LDAM counts and
 * selection for train, a balanced val carved from the unused train images, the official test set.
 * Shared by Fashion-MNIST-LT, CIFAR-10-LT and CIFAR-100-LT.
 */

import type { DatasetArgs } from "./args.js";
import { ArraySplit } from "./array_split.js";
import { flattenPerClass, indicesSha256, longTailCounts, selectLongTail } from "./longtail.js";
import type { DataManifest, Dataset } from "./types.js";

/** A balanced image set as read from its files (uint8, HWC per image). */
export interface BalancedSource {
  /** N·H·W·C bytes. */
  images: Uint8Array;
  /** N labels in [0, numClasses). */
  labels: Uint8Array | Int32Array;
}

/** Arguments of {@link buildGeneratedLT}. */
export interface BuildGeneratedArgs {
  /** Registry name, recorded in the manifest. */
  name: string;
  classNames: string[];
  /** Image height, width, channels. */
  shape: [number, number, number];
  /** Per-channel normalisation constants (pixels in [0, 1]). */
  mean: readonly number[];
  std: readonly number[];
  /** Zero padding of the train-time random crop (4 for the CIFAR recipe). */
  cropPadding: number;
  train: BalancedSource;
  test: BalancedSource;
  /** Source file -> sha256, for the manifest. */
  sourceFiles: Record<string, string>;
  /** n_max when args.nMax is absent. */
  defaultNMax: number;
  /** Names the train label file in selection errors. */
  trainSource: string;
  /** What the source indices in the manifest refer to (recorded as `sourceOrder`). */
  sourceOrder: string;
  args: DatasetArgs;
}

/** Copy the images of `rows` (source indices) into one new buffer. */
function gather(images: Uint8Array, rows: Int32Array, pixels: number): Uint8Array {
  const out = new Uint8Array(rows.length * pixels);
  for (let k = 0; k < rows.length; k++) out.set(images.subarray(rows[k] * pixels, (rows[k] + 1) * pixels), k * pixels);
  return out;
}

export function buildGeneratedLT(b: BuildGeneratedArgs): Dataset {
  const { args } = b;
  const [H, W, C] = b.shape;
  const numClasses = b.classNames.length;
  const nMax = args.nMax ?? b.defaultNMax;
  const counts = longTailCounts({ nMax, numClasses, imbFactor: args.imbFactor, profile: args.profile });
  const sel = selectLongTail({
    labels: b.train.labels,
    numClasses,
    counts,
    seed: args.subsetSeed,
    valPerClass: args.valPerClass,
    source: b.trainSource,
  });
  const pixels = H * W * C;
  const augmentEnabled = args.augment ?? true;
  const common = {
    height: H,
    width: W,
    channels: C,
    mean: b.mean,
    std: b.std,
    cropPadding: b.cropPadding,
    flip: true,
    augmentEnabled,
  };
  const tr = flattenPerClass(sel.train);
  const va = flattenPerClass(sel.val);
  const train = new ArraySplit({
    ...common,
    name: "train",
    images: gather(b.train.images, tr.indices, pixels),
    labels: tr.labels,
  });
  const val = new ArraySplit({
    ...common,
    name: "val",
    images: gather(b.train.images, va.indices, pixels),
    labels: va.labels,
  });
  const test = new ArraySplit({
    ...common,
    name: "test",
    images: b.test.images,
    labels: Int32Array.from(b.test.labels),
  });
  const manifest: DataManifest = {
    dataset: b.name,
    profile: args.profile,
    imbFactor: args.imbFactor,
    nMax,
    subsetSeed: args.subsetSeed,
    trainCounts: counts,
    valPerClass: args.valPerClass,
    sourceFiles: b.sourceFiles,
    indicesSha256: indicesSha256(sel.train),
    chosen: sel.train,
    sourceOrder: b.sourceOrder,
  };
  return {
    name: b.name,
    numClasses,
    classNames: b.classNames,
    inputShape: [H, W, C],
    trainCounts: counts,
    train,
    val,
    test,
    manifest,
  };
}

/** Check that every label is a class id; names the file and what would fix it. */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, file: string, fix: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses || labels[i] < 0) {
      throw new Error(`${file}: label ${labels[i]} of record ${i} is outside [0, ${numClasses}); ${fix}`);
    }
  }
}
