/** Writers for tiny synthetic dataset files in the official formats (for tests only). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const made: string[] = [];

/** A fresh folder under the OS temp dir; removed by {@link removeTempDirs}. */
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `ltr-${tag}-`));
  made.push(d);
  return d;
}

/** Delete every folder made by {@link tempDir} in this test file (call from afterAll). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** IDX bytes: magic 0x0000 08 ndim, big-endian dims, payload. */
export function idxBytes(dims: number[], data: Uint8Array, magicNdim = dims.length): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x0800 | magicNdim, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

/** Pixel value of image i at byte p: deterministic and distinct enough to spot mix-ups. */
export const pix = (i: number, p: number) => (i * 31 + p * 7) % 256;

/** Labels i % C, images filled with pix(i, p). */
export function synthImages(n: number, pixels: number, numClasses: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * pixels);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % numClasses;
    for (let p = 0; p < pixels; p++) images[i * pixels + p] = pix(i, p);
  }
  return { images, labels };
}

/** Write the four Fashion-MNIST files (gzip) into `dir`; returns the data written. */
export function writeFashionMnist(dir: string, nTrain: number, nTest: number) {
  mkdirSync(dir, { recursive: true });
  const tr = synthImages(nTrain, 784, 10);
  const te = synthImages(nTest, 784, 10);
  writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), gzipSync(idxBytes([nTrain, 28, 28], tr.images)));
  writeFileSync(join(dir, "train-labels-idx1-ubyte.gz"), gzipSync(idxBytes([nTrain], tr.labels)));
  writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), gzipSync(idxBytes([nTest, 28, 28], te.images)));
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), gzipSync(idxBytes([nTest], te.labels)));
  return { train: tr, test: te };
}

/** CIFAR binary records: label byte(s) then planar R, G, B planes of a CHW image. */
export function cifarBytes(labels: number[][], chw: (i: number, p: number) => number): Uint8Array {
  const lb = labels[0].length;
  const rec = lb + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((l, i) => {
    out.set(l, i * rec);
    for (let p = 0; p < 3072; p++) out[i * rec + lb + p] = chw(i, p);
  });
  return out;
}
