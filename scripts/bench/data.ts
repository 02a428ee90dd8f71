/**
 * The bench's data: the training split of a dataset exactly as `ltr train` builds it, written out for the PyTorch
 * peers (meta.json, images.u8 NHWC, labels.i32), and a synthetic CIFAR-shaped dataset in the CIFAR-10 binary format
 * (so that `ltr train --cfg config/CIFAR10_LT/...` reads it like the real one).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset, Split } from "../../src/data/types.js";
import { Rng } from "../../src/rng.js";

interface RawSplit {
  images: Uint8Array;
  labels: Int32Array;
  height: number;
  width: number;
  channels: number;
  mean: readonly number[];
  std: readonly number[];
}

/** The uint8 images behind an in-memory split (data/array_split.ts keeps them as given). */
function raw(split: Split): RawSplit {
  const a = (split as unknown as { a?: Partial<RawSplit> }).a;
  if (!a || !(a.images instanceof Uint8Array) || !a.height || !a.width || !a.channels || !a.mean || !a.std) {
    throw new Error(
      `bench: the ${split.name} split does not keep uint8 images in memory (data/array_split.ts changed?); cannot export it for PyTorch`,
    );
  }
  return {
    images: a.images,
    labels: split.labels,
    height: a.height,
    width: a.width,
    channels: a.channels,
    mean: a.mean,
    std: a.std,
  };
}

/** Write splits of `ds` as DIR/<split>/{meta.json, images.u8, labels.i32}; returns DIR. */
export function exportSplits(ds: Dataset, dir: string, splits: Array<"train" | "val" | "test"> = ["train"]): string {
  for (const name of splits) {
    const r = raw(ds[name]);
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const n = r.labels.length;
    writeFileSync(join(d, "images.u8"), r.images);
    writeFileSync(join(d, "labels.i32"), Buffer.from(r.labels.buffer, r.labels.byteOffset, r.labels.byteLength));
    writeFileSync(
      join(d, "meta.json"),
      JSON.stringify({
        n,
        h: r.height,
        w: r.width,
        c: r.channels,
        mean: r.mean,
        std: r.std,
        classes: ds.numClasses,
        train_counts: ds.trainCounts,
      }),
    );
  }
  return dir;
}

/**
 * A synthetic CIFAR-10 release (data_batch_1..5.bin, test_batch.bin, batches.meta.txt) under DIR/cifar-10-batches-bin:
 * `perClass` training images per class spread over the five batches, random pixels with a class-dependent
 * brightness so that training has something to learn. Returns DIR (the --data-root).
 */
export function writeSyntheticCifar10(dir: string, perClass: number, testPerClass = 50, seed = 1): string {
  const out = join(dir, "cifar-10-batches-bin");
  mkdirSync(out, { recursive: true });
  const rng = new Rng(seed);
  const records = (n: number, offset: number) => {
    const buf = new Uint8Array(n * 3073);
    for (let i = 0; i < n; i++) {
      const label = (i + offset) % 10;
      buf[i * 3073] = label;
      for (let p = 1; p < 3073; p++) buf[i * 3073 + p] = Math.min(255, rng.int(160) + label * 9);
    }
    return buf;
  };
  const perBatch = (perClass * 10) / 5;
  if (!Number.isInteger(perBatch) || perBatch % 10 !== 0)
    throw new Error(`bench: perClass ${perClass} must make 5 equal batches of whole classes`);
  for (let b = 1; b <= 5; b++) writeFileSync(join(out, `data_batch_${b}.bin`), records(perBatch, 0));
  writeFileSync(join(out, "test_batch.bin"), records(testPerClass * 10, 0));
  writeFileSync(
    join(out, "batches.meta.txt"),
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n",
  );
  return dir;
}
