/** Public surface of the data package. */

export * from "./args.js";
export { ArraySplit } from "./array_split.js";
export { parseCifarBinary } from "./cifar.js";
export { FMNIST_DEBIAN_DIR, FMNIST_FILES } from "./fashion_mnist.js";
export { parseIdx } from "./idx.js";
export { evalResizeCrop, JpegSplit, randomResizedCropBox } from "./jpeg_split.js";
export { parseListText, readListFile } from "./list_file.js";
export { type ImbalanceProfile, indicesSha256, longTailCounts, selectLongTail } from "./longtail.js";
export { NumpyRandomState } from "./numpy_random.js";
export { datasets, describeDataset } from "./registry.js";
export * from "./types.js";
