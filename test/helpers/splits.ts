/**
 * Split wrappers for selection tests: they change what one split shows, so a test can prove which split a choice
 * was made on, and which epoch was chosen.
 */
import type { Dataset, Split } from "../../src/data/types.js";
import type { FeatureSet } from "../../src/features/types.js";

/**
 * A split whose real images are shown only on evaluation pass `k` (0-based; a pass starts with a batch holding row 0).
 * Every other pass sees constant images, on which any model predicts one class for all rows: on a class-balanced
 * val split of C classes that scores exactly 1/C. So as long as the model beats chance at epoch k, the best val
 * epoch is k, whatever the training curve.
 */
export function realOnlyOnPass(split: Split, k: number): Split {
  let pass = -1;
  return {
    name: split.name,
    size: split.size,
    labels: split.labels,
    loadBatch: async (idx, opts) => {
      if (idx[0] === 0) pass++;
      const b = await split.loadBatch(idx, opts);
      if (pass !== k) b.x.fill(0);
      return b;
    },
  };
}

/** Labels y → (y + 1) mod C: every prediction that was right becomes wrong. */
export function shiftedLabels(labels: Int32Array, numClasses: number): Int32Array {
  return labels.map((y) => (y + 1) % numClasses);
}

/** A split with shifted labels (the images unchanged): test numbers change, nothing chosen on val may. */
export function corruptLabels(split: Split, numClasses: number): Split {
  const labels = shiftedLabels(split.labels, numClasses);
  return {
    name: split.name,
    size: split.size,
    labels,
    loadBatch: async (idx, opts) => {
      const b = await split.loadBatch(idx, opts);
      return { ...b, labels: Int32Array.from(b.indices, (i) => labels[i]) };
    },
  };
}

/** The same dataset with its test split's labels corrupted. */
export function withCorruptTest(ds: Dataset): Dataset {
  return { ...ds, test: corruptLabels(ds.test, ds.numClasses) };
}

/** A feature set with shifted labels. */
export function corruptFeatureLabels(fs: FeatureSet, numClasses: number): FeatureSet {
  return { ...fs, labels: shiftedLabels(fs.labels, numClasses) };
}
