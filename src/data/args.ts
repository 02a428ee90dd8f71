/** Arguments shared by every dataset factory in the registry. */
export interface DatasetArgs {
  /** Data directory; null/absent -> $LTR_DATA_ROOT -> the system location (Debian) -> ~/.cache/decoupling-lt/<set>. */
  root?: string | null;
  /** Imbalance factor n_max/n_min (e.g. 1000) of the generated long-tailed train split (list-file sets: ignored, measured from the list). */
  imbFactor: number;
  /** Count profile of the generated train split: "exp" (Cui/LDAM) or "step" (Cao); list-file sets only record it. */
  profile: "exp" | "step";
  /** Head-class count; default per dataset (5000 for FMNIST-LT and CIFAR-10-LT, 500 for CIFAR-100-LT). */
  nMax?: number;
  /** numpy-legacy seed of the LDAM selection (0 reproduces LDAM/BBN/MiSLAS/RIDE subsets). */
  subsetSeed: number;
  /** Balanced val split carved from unused train images, per class (100); list-file sets use their val list instead. */
  valPerClass: number;
  /** List-file datasets: "path label" list of the train split (default <root>/<Name>_train.txt). */
  trainList?: string;
  /** List-file datasets: val list (default <root>/<Name>_val.txt). */
  valList?: string;
  /** List-file datasets: test list (default <root>/<Name>_test.txt; iNaturalist18: the val list). */
  testList?: string;
  /** List-file datasets: folder the list paths are relative to (default: the data directory). */
  imageRoot?: string;
  /** Enable train-time augmentation (default true). */
  augment?: boolean;
  /** List-file datasets: number of classes (default 1000 / 365 / 8142); lets small custom lists be used. */
  numClasses?: number;
  /** Try to download missing files into the cache folder where a public source exists (default true). */
  download?: boolean;
}
