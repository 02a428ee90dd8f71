/**
 * Fashion-MNIST-LT: the exponential (or step) long-tailed version of Fashion-MNIST built with the
 * LDAM procedure on the IDX train order (defaults: n_max 5000, IF 1000 -> 5000 … 5, 9,324 images),
 * a 100-per-class val split from unused train images, and the official 10,000-image test set.
 */
import { basename, dirname } from "node:path";
import { sha256Hex } from "../hash.js";
import type { DatasetArgs } from "./args.js";
import { downloadFiles } from "./download.js";
import { buildGeneratedLT, checkLabels } from "./generated_lt.js";
import { readIdx } from "./idx.js";
import { filesIn, findDataDir } from "./roots.js";
import type { Dataset } from "./types.js";

export const FMNIST_CLASS_NAMES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
/** Normalisation constants of Fashion-MNIST (pixels in [0, 1]). */
export const FMNIST_MEAN = [0.286] as const;
export const FMNIST_STD = [0.353] as const;
/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FMNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
export const FMNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
/** The four files and their published md5s (torchvision's list). */
export const FMNIST_FILES: Record<string, string> = {
  "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
  "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
  "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
  "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
};
const NAMES = Object.keys(FMNIST_FILES);
/** Each file may also be stored uncompressed. */
const ALTERNATIVES = NAMES.map((n) => [n, n.replace(/\.gz$/, "")]);

function fixHint(dir: string): string {
  return `re-install it with \`apt-get install --reinstall dataset-fashion-mnist\` or put fresh copies of the four files from ${FMNIST_URL} in ${dir}`;
}

/** Locate the four files (downloading into the cache as a last resort); returns their paths. */
export async function locateFashionMnist(args: Pick<DatasetArgs, "root" | "download">): Promise<string[]> {
  const found = findDataDir({
    root: args.root,
    subdirs: ["fashion-mnist", "FashionMNIST/raw"],
    files: ALTERNATIVES,
    systemDirs: [FMNIST_DEBIAN_DIR],
    cacheName: "fashion-mnist",
    hint: `from ${FMNIST_URL}, or \`apt-get install --reinstall dataset-fashion-mnist\` for ${FMNIST_DEBIAN_DIR}`,
  });
  if (found.dir) return found.files;
  const explicit = args.root != null && args.root !== "";
  let downloadError = "";
  if (!explicit && (args.download ?? true)) {
    try {
      await downloadFiles({ dir: found.cacheDir, baseUrl: FMNIST_URL, md5: FMNIST_FILES });
      const files = filesIn(found.cacheDir, ALTERNATIVES);
      if (files) return files;
    } catch (e) {
      downloadError = ` Downloading from ${FMNIST_URL} failed: ${(e as Error).message}.`;
    }
  }
  const partial = (found.partial ?? [])
    .map((p) => ` ${p.dir} holds only some of them: missing ${p.missing.join(", ")}.`)
    .join("");
  throw new Error(
    `Fashion-MNIST files not found (looked in: ${found.tried.join(", ")}).${partial}${downloadError} ` +
      `Install them with \`apt-get install dataset-fashion-mnist\` (files go to ${FMNIST_DEBIAN_DIR}), ` +
      `or put ${NAMES.join(", ")} in ${explicit ? found.tried[0] : found.cacheDir} (or a folder named by --data-root / LTR_DATA_ROOT).`,
  );
}

/** Read one images+labels pair and check that they agree. */
function readPair(imagesFile: string, labelsFile: string, sourceFiles: Record<string, string>) {
  const fix = fixHint(dirname(imagesFile));
  const im = readIdx(imagesFile, 3, fix);
  const lb = readIdx(labelsFile, 1, fix);
  sourceFiles[basename(imagesFile)] = sha256Hex(im.bytes);
  sourceFiles[basename(labelsFile)] = sha256Hex(lb.bytes);
  const [n, h, w] = im.idx.dims;
  if (h !== 28 || w !== 28)
    throw new Error(`${imagesFile}: images are ${h}x${w}, Fashion-MNIST images are 28x28; ${fix}`);
  if (lb.idx.dims[0] !== n)
    throw new Error(`${labelsFile}: ${lb.idx.dims[0]} labels but ${imagesFile} has ${n} images; ${fix}`);
  checkLabels(lb.idx.data, 10, labelsFile, fix);
  return { images: im.idx.data, labels: lb.idx.data };
}

export async function loadFashionMnistLT(args: DatasetArgs): Promise<Dataset> {
  const [trI, trL, teI, teL] = await locateFashionMnist(args);
  const sourceFiles: Record<string, string> = {};
  const train = readPair(trI, trL, sourceFiles);
  const test = readPair(teI, teL, sourceFiles);
  return buildGeneratedLT({
    name: "FashionMNIST_LT",
    classNames: FMNIST_CLASS_NAMES,
    shape: [28, 28, 1],
    mean: FMNIST_MEAN,
    std: FMNIST_STD,
    cropPadding: 4,
    train,
    test,
    sourceFiles,
    defaultNMax: 5000,
    trainSource: trL,
    sourceOrder: `row order of ${basename(trI)}`,
    args,
  });
}
