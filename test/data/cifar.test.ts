import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CIFAR100_CLASS_NAMES, parseCifarBinary } from "../../src/data/cifar.js";
import { datasets } from "../../src/data/registry.js";
import { Rng } from "../../src/rng.js";
import { cifarBytes, removeTempDirs, tempDir } from "./helpers/synthetic.js";

afterAll(removeTempDirs);

const chw = (i: number, p: number) => (i * 17 + p) % 251;
const MEAN = [0.4914, 0.4822, 0.4465];
const STD = [0.247, 0.2435, 0.2616];

/** CIFAR-10 layout with 5 × 60 train records (30 per class) and 20 test records. */
function writeCifar10(root: string): string {
  const dir = join(root, "cifar-10-batches-bin");
  mkdirSync(dir, { recursive: true });
  for (let b = 0; b < 5; b++) {
    const labels = Array.from({ length: 60 }, (_, k) => [(b * 60 + k) % 10]);
    writeFileSync(
      join(dir, `data_batch_${b + 1}.bin`),
      cifarBytes(labels, (i, p) => chw(b * 60 + i, p)),
    );
  }
  writeFileSync(
    join(dir, "test_batch.bin"),
    cifarBytes(
      Array.from({ length: 20 }, (_, i) => [i % 10]),
      chw,
    ),
  );
  return dir;
}

const base = { imbFactor: 10, profile: "exp" as const, subsetSeed: 0, valPerClass: 3, nMax: 20 };

describe("CIFAR binary parsing", () => {
  it("turns planar CHW records into HWC images and reads the fine label of CIFAR-100", () => {
    const bytes = cifarBytes(
      [
        [3, 42],
        [1, 7],
      ],
      chw,
    );
    const { images, labels } = parseCifarBinary({
      bytes,
      file: "train.bin",
      labelBytes: 2,
      labelOffset: 1,
      numClasses: 100,
      fix: "",
    });
    expect(Array.from(labels)).toEqual([42, 7]);
    // pixel (y=2, x=5) of image 1, channel G = plane 1
    const p = 2 * 32 + 5;
    expect(images[3072 + p * 3 + 1]).toBe(chw(1, 1024 + p));
    expect(images[p * 3 + 2]).toBe(chw(0, 2048 + p));
    expect(CIFAR100_CLASS_NAMES.length).toBe(100);
  });
});

describe("CIFAR10_LT on synthetic binary batches", () => {
  const root = tempDir("cifar10");
  writeCifar10(root);

  it("concatenates data_batch_1…5 in order, selects LDAM rows, normalises per channel", async () => {
    const ds = await datasets.get("CIFAR10_LT")({ ...base, root });
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.classNames[9]).toBe("truck");
    expect(ds.trainCounts).toEqual([20, 15, 11, 9, 7, 5, 4, 3, 2, 2]);
    expect(ds.test.size).toBe(20);
    expect(Object.keys(ds.manifest.sourceFiles)).toHaveLength(6);
    const flat = ds.manifest.chosen!.flat();
    const b = await ds.train.loadBatch([0, 40], { augment: false, rng: new Rng(0) });
    for (const [k, r] of [
      [0, 0],
      [1, 40],
    ]) {
      const src = flat[r];
      expect(src % 10).toBe(b.labels[k]);
      const p = 7 * 32 + 9;
      for (let c = 0; c < 3; c++)
        expect(b.x[k * 3072 + p * 3 + c]).toBeCloseTo((chw(src, c * 1024 + p) / 255 - MEAN[c]) / STD[c], 5);
    }
  });

  it("truncated batch file and out-of-range label name the file", async () => {
    const r2 = tempDir("cifar10-bad");
    const dir = writeCifar10(r2);
    writeFileSync(join(dir, "data_batch_3.bin"), cifarBytes([[1], [2]], chw).subarray(0, 5000));
    await expect(datasets.get("CIFAR10_LT")({ ...base, root: r2 })).rejects.toThrow(
      /data_batch_3\.bin: size 5000 bytes is not a positive multiple of the 3073-byte record .*truncated.*re-extract cifar-10-binary\.tar\.gz/,
    );
    writeFileSync(join(dir, "data_batch_3.bin"), cifarBytes([[1], [10]], chw));
    await expect(datasets.get("CIFAR10_LT")({ ...base, root: r2 })).rejects.toThrow(
      /data_batch_3\.bin: label 10 of record 1 is outside \[0, 10\)/,
    );
  });

  it("missing files: says which archive to extract where", async () => {
    await expect(datasets.get("CIFAR10_LT")({ ...base, root: tempDir("cifar10-none") })).rejects.toThrow(
      /CIFAR-10 binary files not found .*cifar-10-binary\.tar\.gz.*data_batch_1\.bin/,
    );
  });
});

describe("CIFAR100_LT on a synthetic train.bin / test.bin", () => {
  it("uses the fine label and the CIFAR-100 class names", async () => {
    const root = tempDir("cifar100");
    const dir = join(root, "cifar-100-binary");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "train.bin"),
      cifarBytes(
        Array.from({ length: 400 }, (_, i) => [i % 20, i % 100]),
        chw,
      ),
    );
    writeFileSync(
      join(dir, "test.bin"),
      cifarBytes(
        Array.from({ length: 100 }, (_, i) => [0, i]),
        chw,
      ),
    );
    const ds = await datasets.get("CIFAR100_LT")({ ...base, root: dir, nMax: 2, imbFactor: 2, valPerClass: 1 });
    expect(ds.numClasses).toBe(100);
    expect(ds.classNames[0]).toBe("apple");
    expect(ds.trainCounts[0]).toBe(2);
    expect(ds.trainCounts[99]).toBe(1);
    expect(ds.val.size).toBe(100);
    expect(Array.from(ds.test.labels.subarray(0, 3))).toEqual([0, 1, 2]);
  });
});
