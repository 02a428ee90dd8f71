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
