/** The dataset registry: name -> async factory. */
import { Registry } from "../registry.js";
import type { DatasetArgs } from "./args.js";
import { loadCifar10LT, loadCifar100LT } from "./cifar.js";
import { loadFashionMnistLT } from "./fashion_mnist.js";
import { loadImageNetLT, loadINaturalist18, loadPlacesLT } from "./list_datasets.js";
import type { Dataset } from "./types.js";

export type { DatasetArgs } from "./args.js";
export { describeDataset } from "./describe.js";

export const datasets = new Registry<(args: DatasetArgs) => Promise<Dataset>>("dataset")
  .register("FashionMNIST_LT", loadFashionMnistLT)
  .register("CIFAR10_LT", loadCifar10LT)
  .register("CIFAR100_LT", loadCifar100LT)
  .register("ImageNet_LT", loadImageNetLT)
  .register("Places_LT", loadPlacesLT)
  .register("iNaturalist18", loadINaturalist18);

/** The long-tailed subset a generated dataset draws from its full train split (src/data/longtail.ts). */
const SUBSET_KEYS = ["imb_factor", "profile", "n_max", "subset_seed", "val_per_class"] as const;
/** The split lists of a list-file dataset and the folder their paths are relative to. */
const LIST_KEYS = ["train_list", "val_list", "test_list", "image_root"] as const;

/**
 * The keys of the `dataset` section each dataset reads beyond `root` and `augment`: the generated ones their subset,
 * the list-file ones their lists (which fix the counts themselves). A key a dataset does not read may only hold its
 * default (src/train/unread_keys.ts).
 */
export const DATASET_READS: Readonly<Record<string, readonly string[]>> = {
  FashionMNIST_LT: SUBSET_KEYS,
  CIFAR10_LT: SUBSET_KEYS,
  CIFAR100_LT: SUBSET_KEYS,
  ImageNet_LT: LIST_KEYS,
  Places_LT: LIST_KEYS,
  iNaturalist18: LIST_KEYS,
};
