/**
 * A tiny Fashion-MNIST look-alike in the real file format (gzip IDX), with a learnable signal: each class has a
 * bright 6×6 patch at its own position plus noise. Used by the end-to-end tests to train in seconds.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Rng } from "../../src/rng.js";

function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([head, Buffer.from(data)]));
}

function images(labels: Uint8Array, rng: Rng): Uint8Array {
  const out = new Uint8Array(labels.length * 784);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    const r0 = 2 + 6 * Math.floor(c / 4);
    const c0 = 2 + 6 * (c % 4);
    for (let p = 0; p < 784; p++) out[i * 784 + p] = rng.int(60);
    for (let r = r0; r < r0 + 6; r++) for (let q = c0; q < c0 + 6; q++) out[i * 784 + r * 28 + q] = 200 + rng.int(56);
  }
  return out;
}

/** Write train (perClassTrain images per class) and test files into dir; returns dir. */
export function writeSyntheticFmnist(dir: string, perClassTrain = 60, perClassTest = 20, seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const make = (per: number) => {
    const labels = new Uint8Array(per * 10);
    for (let i = 0; i < labels.length; i++) labels[i] = i % 10;
    return labels;
  };
  const trL = make(perClassTrain);
  const teL = make(perClassTest);
  writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), idx(2051, [trL.length, 28, 28], images(trL, rng)));
  writeFileSync(join(dir, "train-labels-idx1-ubyte.gz"), idx(2049, [trL.length], trL));
  writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), idx(2051, [teL.length, 28, 28], images(teL, rng)));
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), idx(2049, [teL.length], teL));
  return dir;
}

/**
 * Like {@link writeSyntheticFmnist} but with a signal a global-average-pooling network learns in a few dozen steps:
 * class c is a brightness level (about 25·c) plus noise, with a faint texture. The patch-position signal above is
 * almost invisible after global pooling, so a small ResNet stays near chance for the first epochs; tests that need
 * val accuracy to move between epochs (best-epoch selection) use this one.
 */
export function writeLearnableFmnist(dir: string, perClassTrain = 60, perClassTest = 20, seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const make = (per: number) => {
    const labels = new Uint8Array(per * 10);
    for (let i = 0; i < labels.length; i++) labels[i] = i % 10;
    return labels;
  };
  const draw = (labels: Uint8Array) => {
    const out = new Uint8Array(labels.length * 784);
    for (let i = 0; i < labels.length; i++) {
      const level = 25 * labels[i];
      for (let p = 0; p < 784; p++) out[i * 784 + p] = Math.min(255, level + rng.int(24) + ((p >> 1) & 1) * 6);
    }
    return out;
  };
  const trL = make(perClassTrain);
  const teL = make(perClassTest);
  writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), idx(2051, [trL.length, 28, 28], draw(trL)));
  writeFileSync(join(dir, "train-labels-idx1-ubyte.gz"), idx(2049, [trL.length], trL));
  writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), idx(2051, [teL.length, 28, 28], draw(teL)));
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), idx(2049, [teL.length], teL));
  return dir;
}
