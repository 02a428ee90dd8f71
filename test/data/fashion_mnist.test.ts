import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ArraySplit } from "../../src/data/array_split.js";
import { FMNIST_DEBIAN_DIR } from "../../src/data/fashion_mnist.js";
import { parseIdx } from "../../src/data/idx.js";
import { datasets, describeDataset } from "../../src/data/registry.js";
import { Rng } from "../../src/rng.js";
import { idxBytes, pix, removeTempDirs, tempDir, writeFashionMnist } from "./helpers/synthetic.js";

afterAll(removeTempDirs);

const base = { imbFactor: 10, profile: "exp" as const, subsetSeed: 0, valPerClass: 3, nMax: 20, download: false };
const norm = (v: number) => (v / 255 - 0.286) / 0.353;

describe("FashionMNIST_LT on synthetic IDX files", () => {
  const dir = tempDir("fmnist");
  const data = writeFashionMnist(dir, 300, 20); // 30 train images per class

  it("builds counts, LDAM train/val rows, the official test split and a manifest", async () => {
    const ds = await datasets.get("FashionMNIST_LT")({ ...base, root: dir });
    expect(ds.trainCounts).toEqual([20, 15, 11, 9, 7, 5, 4, 3, 2, 2]);
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.train.size).toBe(78);
    expect(ds.val.size).toBe(30);
    expect(ds.test.size).toBe(20);
    const m = ds.manifest;
    expect(m.chosen![0].length).toBe(20);
    // no overlap between train and val source rows
    const used = new Set(m.chosen!.flat());
    const b = await ds.val.loadBatch(
      Int32Array.from({ length: 30 }, (_, i) => i),
      { augment: false, rng: new Rng(0) },
    );
    expect(b.shape).toEqual([30, 28, 28, 1]);
    expect(Object.keys(m.sourceFiles).sort()).toEqual([
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
    ]);
    expect(m.indicesSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    // every train row shows the source image it claims to be
    const rows = Int32Array.from({ length: ds.train.size }, (_, i) => i);
    const tb = await ds.train.loadBatch(rows, { augment: false, rng: new Rng(0) });
    const flat = m.chosen!.flat();
    for (let r = 0; r < ds.train.size; r += 7) {
      const src = flat[r];
      expect(data.train.labels[src]).toBe(tb.labels[r]);
      expect(tb.x[r * 784 + 100]).toBeCloseTo(norm(pix(src, 100)), 6);
    }
    expect(used.size).toBe(78);
    expect(describeDataset(ds)).toMatch(/FashionMNIST_LT: 10 classes/);
  });

  it("is deterministic per subset seed and changes with it", async () => {
    const a = await datasets.get("FashionMNIST_LT")({ ...base, root: dir });
    const b = await datasets.get("FashionMNIST_LT")({ ...base, root: dir });
    const c = await datasets.get("FashionMNIST_LT")({ ...base, root: dir, subsetSeed: 1 });
    expect(a.manifest.indicesSha256).toBe(b.manifest.indicesSha256);
    expect(c.manifest.indicesSha256).not.toBe(a.manifest.indicesSha256);
  });

  it("finds the files in <root>/fashion-mnist and via LTR_DATA_ROOT", async () => {
    const top = tempDir("fmnist-root");
    writeFashionMnist(join(top, "fashion-mnist"), 300, 20);
    const ds = await datasets.get("FashionMNIST_LT")({ ...base, root: top });
    expect(ds.train.size).toBe(78);
    const old = process.env.LTR_DATA_ROOT;
    process.env.LTR_DATA_ROOT = top;
    try {
      const viaEnv = await datasets.get("FashionMNIST_LT")({ ...base, root: null });
      expect(viaEnv.manifest.indicesSha256).toBe(ds.manifest.indicesSha256);
    } finally {
      if (old === undefined) delete process.env.LTR_DATA_ROOT;
      else process.env.LTR_DATA_ROOT = old;
    }
  });
});

describe("FashionMNIST_LT bad input", () => {
  const load = (root: string) => datasets.get("FashionMNIST_LT")({ ...base, root });

  it("missing files: names the folders and the Debian package", async () => {
    const empty = tempDir("fmnist-empty");
    await expect(load(empty)).rejects.toThrow(
      /Fashion-MNIST files not found \(looked in: .*fmnist-empty.*apt-get install dataset-fashion-mnist/,
    );
  });

  it("wrong magic number", async () => {
    const dir = tempDir("fmnist-magic");
    writeFashionMnist(dir, 300, 20);
    writeFileSync(join(dir, "train-labels-idx1-ubyte.gz"), gzipSync(idxBytes([300], new Uint8Array(300), 3)));
    await expect(load(dir)).rejects.toThrow(
      /train-labels-idx1-ubyte\.gz: wrong IDX magic number 0x00000803, expected 0x00000801.*apt-get install --reinstall dataset-fashion-mnist/,
    );
  });

  it("truncated gzip and truncated payload", async () => {
    const dir = tempDir("fmnist-trunc");
    writeFashionMnist(dir, 300, 20);
    const f = join(dir, "train-images-idx3-ubyte.gz");
    const gz = readFileSync(f);
    writeFileSync(f, gz.subarray(0, gz.length >> 1));
    await expect(load(dir)).rejects.toThrow(/train-images-idx3-ubyte\.gz: gzip data is corrupt or truncated/);
    writeFileSync(f, gzipSync(idxBytes([300, 28, 28], new Uint8Array(1000))));
    await expect(load(dir)).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: truncated: header announces 300x28x28 = 235200 bytes but only 1000 follow/,
    );
  });

  it("labels out of range and label/image count mismatch", async () => {
    const dir = tempDir("fmnist-labels");
    writeFashionMnist(dir, 300, 20);
    const bad = new Uint8Array(300).fill(1);
    bad[17] = 12;
    writeFileSync(join(dir, "train-labels-idx1-ubyte.gz"), gzipSync(idxBytes([300], bad)));
    await expect(load(dir)).rejects.toThrow(/train-labels-idx1-ubyte\.gz: label 12 of record 17 is outside \[0, 10\)/);
    writeFileSync(join(dir, "train-labels-idx1-ubyte.gz"), gzipSync(idxBytes([299], new Uint8Array(299))));
    await expect(load(dir)).rejects.toThrow(/299 labels but .*train-images-idx3-ubyte\.gz has 300 images/);
  });

  it("not enough unused images for the val split", async () => {
    const dir = tempDir("fmnist-val");
    writeFashionMnist(dir, 300, 20);
    await expect(datasets.get("FashionMNIST_LT")({ ...base, root: dir, valPerClass: 11 })).rejects.toThrow(
      /class 0 has 30 images .* 20 train \+ 11 val are needed; lower nMax or valPerClass/,
    );
  });
});

describe("ArraySplit normalisation and augmentation", () => {
  const H = 5,
    W = 6,
    C = 2;
  const n = 3;
  const images = Uint8Array.from({ length: n * H * W * C }, (_, i) => (i * 13) % 256);
  const mean = [0.5, 0.25],
    std = [0.2, 0.4];
  const split = new ArraySplit({
    name: "train",
    images,
    labels: Int32Array.from([2, 0, 1]),
    height: H,
    width: W,
    channels: C,
    mean,
    std,
    cropPadding: 2,
    flip: true,
    augmentEnabled: true,
  });
  const f = (v: number, c: number) => Math.fround((v / 255 - mean[c]) / std[c]);
  const px = (i: number, y: number, x: number, c: number) => images[((i * H + y) * W + x) * C + c];

  it("plain batches are the normalised pixels in the requested order", () => {
    const b = split.loadBatchSync([2, 0], { augment: false, rng: new Rng(1) });
    expect(b.shape).toEqual([2, H, W, C]);
    expect(Array.from(b.labels)).toEqual([1, 2]);
    expect(Array.from(b.indices)).toEqual([2, 0]);
    expect(b.x[0]).toBe(f(px(2, 0, 0, 0), 0));
    expect(b.x[H * W * C + 3]).toBe(f(px(0, 0, 1, 1), 1));
  });

  it("augmented batches are crop-from-zero-padded + flip, with draws dy, dx, flip per image", () => {
    const rows = [0, 1, 2, 0, 1, 2, 0, 1];
    const b = split.loadBatchSync(rows, { augment: true, rng: new Rng(42) });
    const r = new Rng(42);
    rows.forEach((i, k) => {
      const dy = r.int(5) - 2,
        dx = r.int(5) - 2,
        flip = r.next() < 0.5;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) {
            const sy = y + dy,
              sx = (flip ? W - 1 - x : x) + dx;
            const v = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0 : px(i, sy, sx, c);
            expect(b.x[k * H * W * C + (y * W + x) * C + c]).toBe(f(v, c));
          }
    });
    // same seed -> same batch; dataset-level switch off -> plain
    expect(split.loadBatchSync(rows, { augment: true, rng: new Rng(42) }).x).toEqual(b.x);
    const off = new ArraySplit({
      name: "train",
      images,
      labels: Int32Array.from([2, 0, 1]),
      height: H,
      width: W,
      channels: C,
      mean,
      std,
      cropPadding: 2,
      flip: true,
      augmentEnabled: false,
    });
    expect(off.loadBatchSync(rows, { augment: true, rng: new Rng(42) }).x).toEqual(
      split.loadBatchSync(rows, { augment: false, rng: new Rng(42) }).x,
    );
  });

  it("rejects out-of-range rows", async () => {
    await expect(split.loadBatch([0, 3], { augment: false, rng: new Rng(0) })).rejects.toThrow(
      /train split: row index 3 at batch position 1 is outside \[0, 3\)/,
    );
  });
});

// The real files, installed by Debian's dataset-fashion-mnist (CI installs it).
const hasDebian = existsSync(join(FMNIST_DEBIAN_DIR, "train-labels-idx1-ubyte.gz"));
describe("FashionMNIST_LT on the real Debian files", () => {
  it.skipIf(!hasDebian)(
    "default IF 1000: counts 5000 … 5, golden first indices, 100-per-class val, 10k test",
    async () => {
      const ds = await datasets.get("FashionMNIST_LT")({
        root: FMNIST_DEBIAN_DIR,
        imbFactor: 1000,
        profile: "exp",
        subsetSeed: 0,
        valPerClass: 100,
      });
      expect(ds.trainCounts).toEqual([5000, 2320, 1077, 500, 232, 107, 50, 23, 10, 5]);
      expect(ds.train.size).toBe(9324);
      expect(ds.val.size).toBe(1000);
      expect(ds.test.size).toBe(10000);
      const labels = parseIdx({
        bytes: readFileSync(join(FMNIST_DEBIAN_DIR, "train-labels-idx1-ubyte.gz")),
        file: "labels",
        ndim: 1,
        fix: "",
      }).data;
      const class0: number[] = [];
      labels.forEach((y, i) => y === 0 && class0.push(i));
      expect(class0.length).toBe(6000);
      const golden = [4320, 2006, 5689, 472, 1370, 1457, 5783, 3484];
      expect(ds.manifest.chosen![0].slice(0, 8)).toEqual(golden.map((p) => class0[p]));
      const b = await ds.train.loadBatch([0, 9323], { augment: true, rng: new Rng(3) });
      expect(b.shape).toEqual([2, 28, 28, 1]);
      expect(Array.from(b.labels)).toEqual([0, 9]);
    },
  );
});
