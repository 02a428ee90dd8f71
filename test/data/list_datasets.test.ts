import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { colourJitterInPlace, evalResizeCrop, randomResizedCropBox } from "../../src/data/jpeg_split.js";
import { IMAGENET_MEAN, IMAGENET_STD, INAT_MEAN, INAT_STD } from "../../src/data/list_datasets.js";
import { parseListText } from "../../src/data/list_file.js";
import { datasets } from "../../src/data/registry.js";
import { Rng } from "../../src/rng.js";
import { removeTempDirs, tempDir } from "./helpers/synthetic.js";

afterAll(removeTempDirs);

describe("list file parsing", () => {
  it("reads 'path label' lines, skips blank lines, handles CRLF and spaces in paths", () => {
    const l = parseListText({ text: "train/a b.jpg 2\r\n\nval/c.jpg 0\n", file: "x.txt", numClasses: 3 });
    expect(l.paths).toEqual(["train/a b.jpg", "val/c.jpg"]);
    expect(Array.from(l.labels)).toEqual([2, 0]);
    expect(Array.from(l.lines)).toEqual([1, 3]);
  });

  it("errors name file:line", () => {
    expect(() => parseListText({ text: "a.jpg 1\nnolabel\n", file: "L.txt", numClasses: 3 })).toThrow(
      /L\.txt:2: expected "<image path> <integer label>"/,
    );
    expect(() => parseListText({ text: "a.jpg 1\nb.jpg x1\n", file: "L.txt", numClasses: 3 })).toThrow(
      /L\.txt:2: label "x1" is not an integer/,
    );
    expect(() => parseListText({ text: "a.jpg 1\n\nb.jpg 3\n", file: "L.txt", numClasses: 3 })).toThrow(
      /L\.txt:3: label 3 is outside \[0, 3\)/,
    );
    expect(() => parseListText({ text: "\n", file: "L.txt", numClasses: 3 })).toThrow(
      /L\.txt: the list has no entries/,
    );
  });
});

describe("crop geometry", () => {
  it("random-resized crop boxes stay inside the image with ratio in [3/4, 4/3] (or the centre fallback)", () => {
    const rng = new Rng(5);
    for (const [w, h] of [
      [500, 375],
      [64, 300],
      [1000, 10],
      [224, 224],
    ]) {
      for (let t = 0; t < 200; t++) {
        const b = randomResizedCropBox(w, h, rng);
        expect(
          b.left >= 0 && b.top >= 0 && b.left + b.width <= w && b.top + b.height <= h && b.width > 0 && b.height > 0,
        ).toBe(true);
      }
    }
    // a 1000x10 strip never fits the ratio range: centre fallback, w = round(10·4/3) = 13
    expect(randomResizedCropBox(1000, 10, new Rng(1))).toEqual({ left: 493, top: 0, width: 13, height: 10 });
  });

  it("eval: shorter side 256 (int truncation), centre 224 crop", () => {
    expect(evalResizeCrop(500, 375, 256, 224)).toEqual({
      w: 341,
      h: 256,
      crop: { left: 58, top: 16, width: 224, height: 224 },
    });
    expect(evalResizeCrop(300, 600, 256, 224)).toEqual({
      w: 256,
      h: 512,
      crop: { left: 16, top: 144, width: 224, height: 224 },
    });
  });

  it("colour jitter with zero strength is the identity; factors keep values in [0, 1]", () => {
    const x = Float32Array.from({ length: 30 }, (_, i) => (i % 10) / 9);
    const y = x.slice();
    colourJitterInPlace(y, 0, 10, new Rng(1), 0);
    for (let i = 0; i < 30; i++) expect(y[i]).toBeCloseTo(x[i], 6);
    colourJitterInPlace(y, 0, 10, new Rng(2));
    expect(y.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

/**
 * Undo the normalisation with the exact constants and return the 0–255 pixel value it came from. With the right
 * constants this is an integer to float32 precision; a constant off in the third decimal (0.48 for 0.485, 0.23 for
 * 0.229) lands a quarter of a grey level or more away from every integer.
 */
function pixelOf(x: number, mean: number, std: number): number {
  return (x * std + mean) * 255;
}
const offInteger = (v: number) => Math.abs(v - Math.round(v));

describe("normalisation constants (the original code's data/dataloader.py)", () => {
  it("ImageNet-LT / Places-LT and iNaturalist 2018, exactly", () => {
    expect([...IMAGENET_MEAN]).toEqual([0.485, 0.456, 0.406]);
    expect([...IMAGENET_STD]).toEqual([0.229, 0.224, 0.225]);
    expect([...INAT_MEAN]).toEqual([0.466, 0.471, 0.38]);
    expect([...INAT_STD]).toEqual([0.195, 0.194, 0.192]);
  });
});

describe("list-file datasets on tiny generated JPEGs", () => {
  const root = tempDir("listds");
  const colours = [
    { r: 200, g: 30, b: 30 },
    { r: 30, g: 200, b: 30 },
    { r: 30, g: 30, b: 200 },
  ];
  beforeAll(async () => {
    mkdirSync(join(root, "img"), { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < 9; i++) {
      const c = i % 3;
      const [w, h] = [
        [40, 30],
        [30, 50],
        [64, 64],
      ][i % 3];
      await sharp({ create: { width: w, height: h, channels: 3, background: colours[c] } })
        .jpeg({ quality: 95 })
        .toFile(join(root, "img", `im${i}.jpg`));
      lines.push(`img/im${i}.jpg ${c}`);
    }
    await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .greyscale()
      .jpeg()
      .toFile(join(root, "img", "grey.jpg"));
    writeFileSync(join(root, "img", "broken.jpg"), "this is not a jpeg");
    writeFileSync(join(root, "ImageNet_LT_train.txt"), `${lines.slice(0, 7).join("\n")}\n`);
    writeFileSync(join(root, "ImageNet_LT_val.txt"), `${lines.slice(6).join("\n")}\n`);
    writeFileSync(
      join(root, "ImageNet_LT_test.txt"),
      `${lines[0]}\nimg/grey.jpg 1\nimg/broken.jpg 2\nimg/missing.jpg 0\n`,
    );
    for (const s of ["train", "val"])
      writeFileSync(join(root, `iNaturalist18_${s}.txt`), `${lines.slice(0, 6).join("\n")}\n`);
  });
  const args = { imbFactor: 1, profile: "exp" as const, subsetSeed: 0, valPerClass: 0, numClasses: 3 };

  it("counts from the train list; eval batches are 224x224x3 normalised with ImageNet constants", async () => {
    const ds = await datasets.get("ImageNet_LT")({ ...args, root });
    expect(ds.trainCounts).toEqual([3, 2, 2]);
    expect(ds.inputShape).toEqual([224, 224, 3]);
    expect(ds.manifest.imbFactor).toBe(1.5);
    expect(ds.manifest.valPerClass).toBe(1);
    expect(Object.keys(ds.manifest.sourceFiles).sort()).toEqual([
      "ImageNet_LT_test.txt",
      "ImageNet_LT_train.txt",
      "ImageNet_LT_val.txt",
    ]);
    const b = await ds.test.loadBatch([0, 1], { augment: false, rng: new Rng(0) });
    expect(b.shape).toEqual([2, 224, 224, 3]);
    const at = (k: number, c: number) => b.x[k * 224 * 224 * 3 + (100 * 224 + 100) * 3 + c];
    // every channel of every pixel is (p/255 − mean_c)/std_c for an integer grey level p, with the exact constants
    const m = [0.485, 0.456, 0.406];
    const sd = [0.229, 0.224, 0.225];
    for (let i = 0; i < b.x.length; i += 997)
      expect(offInteger(pixelOf(b.x[i], m[i % 3], sd[i % 3])), `element ${i}`).toBeLessThan(1e-3);
    // the red image (200, 30, 30) after JPEG: each channel within a few levels of the colour it was drawn with
    expect(Math.abs(pixelOf(at(0, 0), m[0], sd[0]) - 200)).toBeLessThanOrEqual(3);
    expect(Math.abs(pixelOf(at(0, 2), m[2], sd[2]) - 30)).toBeLessThanOrEqual(3);
    // greyscale JPEG -> replicated to 3 channels: one grey level behind all three
    expect(Math.round(pixelOf(at(1, 0), m[0], sd[0]))).toBe(Math.round(pixelOf(at(1, 2), m[2], sd[2])));
  });

  it("train augmentation is deterministic for an rng seed and differs across seeds", async () => {
    const ds = await datasets.get("ImageNet_LT")({ ...args, root });
    const a = await ds.train.loadBatch([0, 1, 2, 3], { augment: true, rng: new Rng(9) });
    const b = await ds.train.loadBatch([0, 1, 2, 3], { augment: true, rng: new Rng(9) });
    const c = await ds.train.loadBatch([0, 1, 2, 3], { augment: true, rng: new Rng(10) });
    // byte comparison: vitest's deep equality is slow on 600k-element typed arrays
    const same = (u: Float32Array, v: Float32Array) => Buffer.from(u.buffer).equals(Buffer.from(v.buffer));
    expect(same(a.x, b.x)).toBe(true);
    expect(same(a.x, c.x)).toBe(false);
    expect(a.x.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("undecodable and missing images name the path and list line", async () => {
    const ds = await datasets.get("ImageNet_LT")({ ...args, root });
    await expect(ds.test.loadBatch([2], { augment: false, rng: new Rng(0) })).rejects.toThrow(
      /cannot decode image .*broken\.jpg \(.*ImageNet_LT_test\.txt:3\)/,
    );
    await expect(ds.test.loadBatch([3], { augment: false, rng: new Rng(0) })).rejects.toThrow(
      /cannot read image .*missing\.jpg \(.*ImageNet_LT_test\.txt:4\)/,
    );
  });

  it("iNaturalist18 uses the val list as test and its own normalisation", async () => {
    const ds = await datasets.get("iNaturalist18")({ ...args, root });
    expect(ds.test.size).toBe(6);
    const b = await ds.test.loadBatch([0], { augment: false, rng: new Rng(0) });
    const px = pixelOf(b.x[(100 * 224 + 100) * 3], 0.466, 0.195);
    expect(offInteger(px)).toBeLessThan(1e-3);
    expect(Math.abs(px - 200)).toBeLessThanOrEqual(3);
    expect(offInteger(pixelOf(b.x[(100 * 224 + 100) * 3 + 2], 0.38, 0.192))).toBeLessThan(1e-3);
  });

  it("a missing list file says which option sets it", async () => {
    await expect(datasets.get("Places_LT")({ ...args, root })).rejects.toThrow(
      /list file .*Places_LT_train\.txt cannot be read .*dataset\.train_list \(in the config, or --set dataset\.train_list=FILE\)/,
    );
  });
});
