/** Public surface of the data package. */
export * from "./types.js";
export * from "./args.js";
export { datasets, describeDataset } from "./registry.js";
export { NumpyRandomState } from "./numpy_random.js";
export { longTailCounts, selectLongTail, indicesSha256, type ImbalanceProfile } from "./longtail.js";
export { ArraySplit } from "./array_split.js";
export { JpegSplit, randomResizedCropBox, evalResizeCrop } from "./jpeg_split.js";
export { parseListText, readListFile } from "./list_file.js";
export { parseIdx } from "./idx.js";
export { parseCifarBinary } from "./cifar.js";
export { FMNIST_DEBIAN_DIR, FMNIST_FILES } from "./fashion_mnist.js";
