/**
 * ImageNet-LT, Places-LT and iNaturalist 2018: fixed "path label" lists (classifier-balancing
 * `data/<Set>/`) over JPEG folders. Train counts come from the train list. iNaturalist has no
 * separate test split: its test defaults to the val list, as in the paper (docs/ARCHITECTURE.md, "Long-tailed subsets").
 */
import { basename, isAbsolute, join, resolve } from "node:path";
import { sha256Hex } from "../hash.js";
import type { DatasetArgs } from "./args.js";
import { JpegSplit } from "./jpeg_split.js";
import { type ListFile, readListFile } from "./list_file.js";
import { indicesSha256 } from "./longtail.js";
import { cacheDirFor, explicitRoot } from "./roots.js";
import type { DataManifest, Dataset } from "./types.js";

/** ImageNet normalisation (ImageNet-LT, Places-LT). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** iNaturalist 2018 normalisation. */
export const INAT_MEAN = [0.466, 0.471, 0.38] as const;
export const INAT_STD = [0.195, 0.194, 0.192] as const;

interface ListLayout {
  name: "ImageNet_LT" | "Places_LT" | "iNaturalist18";
  numClasses: number;
  /** List file prefix: <prefix>_train.txt etc. */
  prefix: string;
  mean: readonly number[];
  std: readonly number[];
  colourJitter: boolean;
  /** Split whose list is the default for `test`. */
  testList: "test" | "val";
}

const LAYOUTS: Record<ListLayout["name"], ListLayout> = {
  ImageNet_LT: {
    name: "ImageNet_LT",
    numClasses: 1000,
    prefix: "ImageNet_LT",
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    colourJitter: true,
    testList: "test",
  },
  Places_LT: {
    name: "Places_LT",
    numClasses: 365,
    prefix: "Places_LT",
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    colourJitter: true,
    testList: "test",
  },
  iNaturalist18: {
    name: "iNaturalist18",
    numClasses: 8142,
    prefix: "iNaturalist18",
    mean: INAT_MEAN,
    std: INAT_STD,
    colourJitter: false,
    testList: "val",
  },
};

/**
 * The data directory: args.root, else $LTR_DATA_ROOT/<name>, else ~/.cache/decoupling-lt/<name>. A root that is
 * given but does not exist is an error (roots.ts explicitRoot), never a silent fall-back.
 */
function dataDir(layout: ListLayout, args: DatasetArgs): string {
  const given = explicitRoot(args.root);
  if (given && given.which !== "LTR_DATA_ROOT") return given.dir;
  if (given) return join(given.dir, layout.name);
  return cacheDirFor(layout.name);
}

function perClassRows(list: ListFile, numClasses: number): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < list.labels.length; i++) out[list.labels[i]].push(i);
  return out;
}

async function loadListDataset(layout: ListLayout, args: DatasetArgs): Promise<Dataset> {
  const dir = dataDir(layout, args);
  const numClasses = args.numClasses ?? layout.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`${layout.name}: numClasses must be a positive integer, got ${numClasses}`);
  const imageRoot = resolve(args.imageRoot ?? dir);
  const listPath = (given: string | undefined, split: string) =>
    given ? resolve(given) : join(dir, `${layout.prefix}_${split}.txt`);
  const files = {
    train: [listPath(args.trainList, "train"), "dataset.train_list (in the config, or --set dataset.train_list=FILE)"],
    val: [listPath(args.valList, "val"), "dataset.val_list (in the config, or --set dataset.val_list=FILE)"],
    test: [
      listPath(args.testList, layout.testList),
      "dataset.test_list (in the config, or --set dataset.test_list=FILE)",
    ],
  } as const;
  const sourceFiles: Record<string, string> = {};
  const augmentEnabled = args.augment ?? true;
  const build = (split: "train" | "val" | "test") => {
    const [file, flag] = files[split];
    const { list, bytes } = readListFile(file, numClasses, flag);
    sourceFiles[basename(file)] = sha256Hex(bytes);
    const paths = list.paths.map((p) => (isAbsolute(p) ? p : join(imageRoot, p)));
    const s = new JpegSplit({
      name: split,
      paths,
      labels: list.labels,
      listFile: file,
      lines: list.lines,
      size: 224,
      resize: 256,
      mean: layout.mean,
      std: layout.std,
      colourJitter: layout.colourJitter,
      augmentEnabled,
    });
    return { s, list };
  };
  const train = build("train");
  const val = build("val");
  const test = build("test");
  const trainCounts = new Array<number>(numClasses).fill(0);
  for (const y of train.list.labels) trainCounts[y]++;
  const valCounts = new Array<number>(numClasses).fill(0);
  for (const y of val.list.labels) valCounts[y]++;
  const nonzero = trainCounts.filter((n) => n > 0);
  const nMax = Math.max(...nonzero);
  const manifest: DataManifest = {
    dataset: layout.name,
    profile: args.profile,
    imbFactor: nMax / Math.min(...nonzero),
    nMax,
    subsetSeed: args.subsetSeed,
    trainCounts,
    valPerClass: valCounts.every((c) => c === valCounts[0]) ? valCounts[0] : 0,
    sourceFiles,
    indicesSha256: indicesSha256(perClassRows(train.list, numClasses)),
  };
  return {
    name: layout.name,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, j) => `class_${j}`),
    inputShape: [224, 224, 3],
    trainCounts,
    train: train.s,
    val: val.s,
    test: test.s,
    manifest,
  };
}

export function loadImageNetLT(args: DatasetArgs): Promise<Dataset> {
  return loadListDataset(LAYOUTS.ImageNet_LT, args);
}
export function loadPlacesLT(args: DatasetArgs): Promise<Dataset> {
  return loadListDataset(LAYOUTS.Places_LT, args);
}
export function loadINaturalist18(args: DatasetArgs): Promise<Dataset> {
  return loadListDataset(LAYOUTS.iNaturalist18, args);
}
