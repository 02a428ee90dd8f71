/**
 * CIFAR-10-LT and CIFAR-100-LT from the official *binary* releases (cifar-10-binary.tar.gz,
 * cifar-100-binary.tar.gz), extracted. Train order = torchvision's (data_batch_1 … 5 concatenated;
 * CIFAR-100 `train`), so the LDAM seed-0 selection gives the same subsets as LDAM/BBN/MiSLAS/RIDE.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { sha256Hex } from "../hash.js";
import type { DatasetArgs } from "./args.js";
import { buildGeneratedLT, checkLabels } from "./generated_lt.js";
import { findDataDir } from "./roots.js";
import type { Dataset } from "./types.js";

export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR_STD = [0.247, 0.2435, 0.2616] as const;
const PIXELS = 32 * 32 * 3;

export const CIFAR10_CLASS_NAMES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];
export const CIFAR100_CLASS_NAMES = (
  "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle " +
  "caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish " +
  "forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle " +
  "mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine " +
  "possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar " +
  "sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale " +
  "willow_tree wolf woman worm"
).split(" ");

/** One CIFAR variant's file layout. */
interface CifarLayout {
  name: "CIFAR10_LT" | "CIFAR100_LT";
  label: string;
  numClasses: number;
  /** Label bytes before the pixels (1 for CIFAR-10; 2 = coarse, fine for CIFAR-100). */
  labelBytes: number;
  /** Offset of the fine label inside the label bytes. */
  labelOffset: number;
  subdir: string;
  train: string[];
  test: string;
  /** Optional text file with one class name per line. */
  namesFile: string;
  defaultNames: string[];
  defaultNMax: number;
  tarball: string;
}

const CIFAR10: CifarLayout = {
  name: "CIFAR10_LT",
  label: "CIFAR-10",
  numClasses: 10,
  labelBytes: 1,
  labelOffset: 0,
  subdir: "cifar-10-batches-bin",
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  test: "test_batch.bin",
  namesFile: "batches.meta.txt",
  defaultNames: CIFAR10_CLASS_NAMES,
  defaultNMax: 5000,
  tarball: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
};

const CIFAR100: CifarLayout = {
  name: "CIFAR100_LT",
  label: "CIFAR-100",
  numClasses: 100,
  labelBytes: 2,
  labelOffset: 1,
  subdir: "cifar-100-binary",
  train: ["train.bin"],
  test: "test.bin",
  namesFile: "fine_label_names.txt",
  defaultNames: CIFAR100_CLASS_NAMES,
  defaultNMax: 500,
  tarball: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
};

/** Arguments of {@link parseCifarBinary}. */
export interface ParseCifarArgs {
  bytes: Uint8Array;
  /** Path, for messages. */
  file: string;
  /** 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
  labelBytes: number;
  /** Which label byte is the class (0 for CIFAR-10, 1 = fine for CIFAR-100). */
  labelOffset: number;
  numClasses: number;
  /** Appended to every error. */
  fix: string;
}

/** Parse a CIFAR binary batch: records of label byte(s) + 1024 R, 1024 G, 1024 B; returns HWC images. */
export function parseCifarBinary(a: ParseCifarArgs): { images: Uint8Array; labels: Uint8Array } {
  const rec = a.labelBytes + PIXELS;
  if (a.bytes.length === 0 || a.bytes.length % rec !== 0) {
    throw new Error(
      `${a.file}: size ${a.bytes.length} bytes is not a positive multiple of the ${rec}-byte record ` +
        `(${a.labelBytes} label byte${a.labelBytes > 1 ? "s" : ""} + 3072 pixels): the file is truncated or not a CIFAR binary batch; ${a.fix}`,
    );
  }
  const n = a.bytes.length / rec;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * rec;
    labels[i] = a.bytes[r + a.labelOffset];
    const src = r + a.labelBytes;
    const dst = i * PIXELS;
    // planar CHW -> interleaved HWC, once at load time
    for (let p = 0; p < 1024; p++) {
      images[dst + 3 * p] = a.bytes[src + p];
      images[dst + 3 * p + 1] = a.bytes[src + 1024 + p];
      images[dst + 3 * p + 2] = a.bytes[src + 2048 + p];
    }
  }
  checkLabels(labels, a.numClasses, a.file, a.fix);
  return { images, labels };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function loadCifarLT(layout: CifarLayout, args: DatasetArgs): Promise<Dataset> {
  const all = [...layout.train, layout.test];
  const found = findDataDir({
    root: args.root,
    subdirs: [layout.subdir],
    files: all.map((f) => [f]),
    systemDirs: [],
    cacheName: layout.subdir,
    hint: `re-extract ${layout.tarball}`,
  });
  if (!found.dir) {
    const explicit = args.root != null && args.root !== "";
    const partial = (found.partial ?? [])
      .map((p) => ` ${p.dir} holds only some of them: missing ${p.missing.join(", ")}.`)
      .join("");
    throw new Error(
      `${layout.label} binary files not found (looked in: ${found.tried.join(", ")}).${partial} Download ${layout.tarball}, ` +
        `and extract it so that ${all.join(", ")} are in ${explicit ? found.tried[1] : join(found.cacheDir)} ` +
        `(or in <dir>/${layout.subdir} of the folder given by --data-root / LTR_DATA_ROOT).`,
    );
  }
  const dir = found.dir;
  const fix = `re-extract ${basename(layout.tarball)} (${layout.tarball}) into ${dir}`;
  const sourceFiles: Record<string, string> = {};
  const read = (f: string) => {
    const file = join(dir, f);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`${file}: cannot read (${(e as Error).message}); ${fix}`);
    }
    sourceFiles[f] = sha256Hex(bytes);
    return parseCifarBinary({
      bytes,
      file,
      labelBytes: layout.labelBytes,
      labelOffset: layout.labelOffset,
      numClasses: layout.numClasses,
      fix,
    });
  };
  const parts = layout.train.map(read);
  const train = { images: concat(parts.map((p) => p.images)), labels: concat(parts.map((p) => p.labels)) };
  const test = read(layout.test);
  return buildGeneratedLT({
    name: layout.name,
    classNames: readClassNames(join(dir, layout.namesFile), layout),
    shape: [32, 32, 3],
    mean: CIFAR_MEAN,
    std: CIFAR_STD,
    cropPadding: 4,
    train,
    test,
    sourceFiles,
    defaultNMax: layout.defaultNMax,
    trainSource: `${dirname(join(dir, layout.train[0]))}/${layout.train.join("+")}`,
    sourceOrder:
      layout.train.length > 1
        ? `${layout.train.join(", ")} concatenated (torchvision order)`
        : `record order of ${layout.train[0]}`,
    args,
  });
}

/** Class names from the release's text file when it is there and well-formed, else the built-in list. */
function readClassNames(file: string, layout: CifarLayout): string[] {
  if (!existsSync(file)) return layout.defaultNames;
  const names = readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return names.length === layout.numClasses ? names : layout.defaultNames;
}

export function loadCifar10LT(args: DatasetArgs): Promise<Dataset> {
  return loadCifarLT(CIFAR10, args);
}

export function loadCifar100LT(args: DatasetArgs): Promise<Dataset> {
  return loadCifarLT(CIFAR100, args);
}
