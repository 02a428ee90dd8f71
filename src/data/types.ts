/**
 * The data contract every training / evaluation module codes against. A dataset is three splits of
 * rows; a split turns a list of row indices into one normalised NHWC float batch.
 */
import type { Rng } from "../rng.js";

/** One mini-batch, ready to be wrapped in a tensor (`tf.tensor4d(b.x, b.shape)`). */
export interface Batch {
  /** Pixels, NHWC, float32, already normalised with the dataset's per-channel mean / std. */
  x: Float32Array;
  /** [N, H, W, C] of `x`. */
  shape: [number, number, number, number];
  /** Class label of every row of the batch. */
  labels: Int32Array;
  /** Row indices into the split, in batch order (what was asked for). */
  indices: Int32Array;
}

/** Options for {@link Split.loadBatch}. */
export interface LoadBatchOpts {
  /** Apply the dataset's train-time augmentation (ignored when the dataset was built with augment=false). */
  augment: boolean;
  /** Source of the augmentation randomness; consumed only when augmenting. */
  rng: Rng;
}

export interface Split {
  readonly name: "train" | "val" | "test";
  /** Number of rows. */
  readonly size: number;
  /** One label per row. */
  readonly labels: Int32Array;
  /** Rows -> a batch. augment=true applies the dataset's train-time augmentation using rng. */
  loadBatch(indices: ArrayLike<number>, opts: LoadBatchOpts): Promise<Batch>;
}

/** What a run manifest records about the data; JSON-serialisable. */
export interface DataManifest {
  /** Registry name of the dataset ("FashionMNIST_LT", ...). */
  dataset: string;
  /** Imbalance profile of the generated long-tailed train split (list-file datasets: the value passed in). */
  profile: "exp" | "step";
  /** n_max / n_min (generated sets: the requested factor; list-file sets: measured from the train list). */
  imbFactor: number;
  /** Head-class count (list-file sets: the largest class). */
  nMax: number;
  /** numpy legacy seed of the LDAM subset selection. */
  subsetSeed: number;
  /** n_j of the train split. */
  trainCounts: number[];
  /** Images per class in the val split (list-file sets: the per-class count when balanced, else 0). */
  valPerClass: number;
  /** Source file (path relative to the dataset folder) -> sha256 of its bytes. */
  sourceFiles: Record<string, string>;
  /** sha256 over the canonical JSON of the per-class chosen train indices (list-file sets: of the train rows per class). */
  indicesSha256: string;
  /** Per-class chosen source indices of the train split (generated sets only). */
  chosen?: number[][];
  /** Order the source indices refer to (generated sets), e.g. "data_batch_1..5 concatenated". */
  sourceOrder?: string;
}

export interface Dataset {
  /** Registry name. */
  readonly name: string;
  readonly numClasses: number;
  readonly classNames: string[];
  /** H, W, C fed to the backbone. */
  readonly inputShape: [number, number, number];
  /** n_j per class (train split). */
  readonly trainCounts: number[];
  readonly train: Split;
  readonly val: Split;
  readonly test: Split;
  readonly manifest: DataManifest;
}
