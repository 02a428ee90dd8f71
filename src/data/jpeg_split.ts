/**
 * A split of JPEG files on disk (ImageNet-LT, Places-LT, iNaturalist 2018) decoded with sharp
 * (libvips) and transformed as in the reference code (docs/ARCHITECTURE.md, "Images and transforms"):
 *  - train: random-resized crop to 224 (scale U(0.08, 1), log-uniform ratio in [3/4, 4/3], 10 tries,
 *    then the centre fallback) + horizontal flip p 0.5 + (optionally) colour jitter with brightness,
 *    contrast and saturation factors U(0.6, 1.4) applied in random order;
 *  - eval: resize the shorter side to 256, centre-crop 224.
 * Resizing uses sharp's bilinear ("linear") kernel; colour jitter works on floats in [0, 1] (as
 * torchvision's tensor path does), so values differ from PIL's uint8 path by rounding only.
 */
import { readFile } from "node:fs/promises";
import type { Rng } from "../rng.js";
import { DecodeWorker } from "./decode_worker.js";
import type { Batch, LoadBatchOpts, Split } from "./types.js";

type SharpFn = typeof import("sharp").default;
let sharpMod: SharpFn | null = null;
/** sharp is loaded on first use so that the in-memory datasets never touch its native binary. */
async function getSharp(): Promise<SharpFn> {
  if (!sharpMod) {
    const m = (await import("sharp")) as unknown as { default?: SharpFn };
    sharpMod = m.default ?? (m as unknown as SharpFn);
  }
  return sharpMod;
}

/** A crop window in source pixels. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Python's round-half-to-even, as `int(round(x))` in torchvision. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision RandomResizedCrop.get_params with scale (0.08, 1) and ratio (3/4, 4/3). */
export function randomResizedCropBox(width: number, height: number, rng: Rng): CropBox {
  const area = width * height;
  const lo = Math.log(3 / 4);
  const hi = Math.log(4 / 3);
  for (let t = 0; t < 10; t++) {
    const target = area * rng.uniform(0.08, 1);
    const aspect = Math.exp(rng.uniform(lo, hi));
    const w = pyRound(Math.sqrt(target * aspect));
    const h = pyRound(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < 3 / 4) h = pyRound(w / (3 / 4));
  else if (inRatio > 4 / 3) w = pyRound(h * (4 / 3));
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** Resize-shorter-side-to-`resize` then centre-crop `size`: the resized dims and the crop in them. */
export function evalResizeCrop(
  width: number,
  height: number,
  resize: number,
  size: number,
): { w: number; h: number; crop: CropBox } {
  let w: number;
  let h: number;
  if (width <= height) {
    w = resize;
    h = Math.trunc((resize * height) / width);
  } else {
    h = resize;
    w = Math.trunc((resize * width) / height);
  }
  return { w, h, crop: { left: pyRound((w - size) / 2), top: pyRound((h - size) / 2), width: size, height: size } };
}

/**
 * Colour jitter in place on `n` RGB pixels in [0, 1] at `x[o…]`: brightness, contrast, saturation
 * factors U(0.6, 1.4) in a random order (draws: order, then the three factors), clamped to [0, 1].
 */
export function colourJitterInPlace(x: Float32Array, o: number, n: number, rng: Rng, strength = 0.4): void {
  const order = rng.permutation(3);
  const fb = rng.uniform(1 - strength, 1 + strength);
  const fc = rng.uniform(1 - strength, 1 + strength);
  const fs = rng.uniform(1 - strength, 1 + strength);
  const end = o + 3 * n;
  const clamp = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (const op of order) {
    if (op === 0) {
      for (let i = o; i < end; i++) x[i] = clamp(x[i] * fb);
    } else if (op === 1) {
      let m = 0;
      for (let i = o; i < end; i += 3) m += 0.299 * x[i] + 0.587 * x[i + 1] + 0.114 * x[i + 2];
      m /= n;
      const k = (1 - fc) * m;
      for (let i = o; i < end; i++) x[i] = clamp(fc * x[i] + k);
    } else {
      for (let i = o; i < end; i += 3) {
        const g = (1 - fs) * (0.299 * x[i] + 0.587 * x[i + 1] + 0.114 * x[i + 2]);
        x[i] = clamp(fs * x[i] + g);
        x[i + 1] = clamp(fs * x[i + 1] + g);
        x[i + 2] = clamp(fs * x[i + 2] + g);
      }
    }
  }
}

/** Arguments of {@link JpegSplit}. */
export interface JpegSplitArgs {
  name: "train" | "val" | "test";
  /** Absolute image paths, one per row. */
  paths: string[];
  labels: Int32Array;
  /** The list file and line of every row, for error messages. */
  listFile: string;
  lines: Int32Array;
  /** Output side (224). */
  size: number;
  /** Eval resize of the shorter side (256). */
  resize: number;
  /** Per-channel RGB normalisation. */
  mean: readonly number[];
  std: readonly number[];
  /** Colour jitter in the train transform (not for iNaturalist). */
  colourJitter: boolean;
  /** Dataset-level switch for train-time augmentation. */
  augmentEnabled: boolean;
  /** Images decoded at once (default 8; sharp also uses its own thread pool). */
  concurrency?: number;
  /**
   * Where batches are decoded: "worker" (default), a worker thread of this split, so that decoding never waits
   * for the calling thread's event loop (src/data/decode_worker.ts); "thread", on the calling thread. The pixels
   * are the same bit for bit.
   */
  decodeIn?: "worker" | "thread";
}

export class JpegSplit implements Split {
  readonly name: "train" | "val" | "test";
  readonly size: number;
  readonly labels: Int32Array;
  private readonly a: JpegSplitArgs;
  private lutCache: Float32Array | null = null;
  private worker: DecodeWorker | null = null;

  constructor(args: JpegSplitArgs) {
    if (args.paths.length !== args.labels.length)
      throw new Error(`JpegSplit '${args.name}': ${args.paths.length} paths but ${args.labels.length} labels`);
    this.a = args;
    this.name = args.name;
    this.size = args.paths.length;
    this.labels = args.labels;
  }

  async loadBatch(indices: ArrayLike<number>, opts: LoadBatchOpts): Promise<Batch> {
    const { size: S } = this.a;
    const n = indices.length;
    const labels = new Int32Array(n);
    const rows = new Int32Array(n);
    const augment = opts.augment && this.a.augmentEnabled;
    // One forked stream per image, drawn in batch order before any decoding starts: the result does
    // not depend on the order in which the asynchronous decodes finish.
    const rngs: (Rng | null)[] = [];
    for (let k = 0; k < n; k++) {
      const r = indices[k];
      if (!Number.isInteger(r) || r < 0 || r >= this.size) {
        throw new Error(`${this.name} split: row index ${r} at batch position ${k} is outside [0, ${this.size})`);
      }
      rows[k] = r;
      labels[k] = this.labels[r];
      rngs.push(augment ? opts.rng.fork(k) : null);
    }
    const x =
      this.a.decodeIn === "thread"
        ? await this.decodeRows(rows, rngs)
        : await (this.worker ??= new DecodeWorker(this.name, this.a)).decode(
            rows,
            rngs.map((r) => (r ? r.state() : null)),
          );
    return { x, shape: [n, S, S, 3], labels, indices: rows };
  }

  /**
   * Decode and transform `rows` on this thread (what the worker runs): `rngs[k]` is row k's augmentation stream,
   * null for the eval transform. Returns rows × S × S × 3 floats.
   */
  async decodeRows(rows: Int32Array, rngs: (Rng | null)[]): Promise<Float32Array> {
    const P = this.a.size * this.a.size * 3;
    const n = rows.length;
    const x = new Float32Array(n * P);
    const sharp = await getSharp();
    let next = 0;
    const lane = async () => {
      for (let k = next++; k < n; k = next++) await this.decodeInto(sharp, rows[k], x, k * P, rngs[k]);
    };
    await Promise.all(Array.from({ length: Math.min(n, this.a.concurrency ?? 8) }, lane));
    return x;
  }

  /** Stop this split's decoding worker, if one was started (the next batch starts another). */
  async close(): Promise<void> {
    await this.worker?.close();
  }

  /** uint8 value -> normalised float, per channel (3 × 256), as the two-step conversion computes it. */
  private lut(): Float32Array {
    if (!this.lutCache) this.lutCache = normalisationTable(this.a.mean, this.a.std);
    return this.lutCache;
  }

  private where(row: number): string {
    return `${this.a.paths[row]} (${this.a.listFile}:${this.a.lines[row]})`;
  }

  private async decodeInto(sharp: SharpFn, row: number, out: Float32Array, o: number, rng: Rng | null): Promise<void> {
    const { size: S, resize, mean, std } = this.a;
    const path = this.a.paths[row];
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (e) {
      throw new Error(
        `cannot read image ${this.where(row)}: ${(e as Error).message}; check imageRoot / the list paths`,
      );
    }
    let data: Buffer;
    let channels: number;
    let flip = false;
    try {
      // The JPEG header gives the size without a round trip through libvips (one event-loop hop less per image,
      // which matters while the model holds the thread); anything else asks sharp.
      const dims = jpegSize(buf) ?? (await sharp(buf).metadata());
      const W = dims.width;
      const H = dims.height;
      if (!W || !H) throw new Error("image has no size");
      let pipe = sharp(buf, { failOn: "error" });
      if (rng) {
        const box = randomResizedCropBox(W, H, rng);
        flip = rng.next() < 0.5;
        pipe = pipe.extract(box).resize(S, S, { fit: "fill", kernel: "linear" });
      } else {
        const { w, h, crop } = evalResizeCrop(W, H, resize, S);
        pipe = pipe.resize(w, h, { fit: "fill", kernel: "linear" }).extract(crop);
      }
      const res = await pipe.removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
      data = res.data;
      channels = res.info.channels;
      if (res.info.width !== S || res.info.height !== S)
        throw new Error(`decoded to ${res.info.width}x${res.info.height}, expected ${S}x${S}`);
    } catch (e) {
      throw new Error(
        `cannot decode image ${this.where(row)}: ${(e as Error).message}; replace the file or remove its line from the list`,
      );
    }
    if (rng && this.a.colourJitter) {
      toUnitRgb(data, channels, S, flip, out, o);
      colourJitterInPlace(out, o, S * S, rng);
      normaliseInPlace(out, o, S * S, mean, std);
    } else {
      toNormalisedRgb(data, channels, S, flip, out, o, this.lut());
    }
  }
}

/**
 * Table of the eval-path pixel values: entry c·256 + v is exactly what `(fround(v / 255) − mean[c]) · (1 / std[c])`
 * rounds to, i.e. the value the convert-then-normalise passes produce, in one lookup per value.
 */
export function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const t = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const inv = 1 / std[c];
    for (let v = 0; v < 256; v++) t[c * 256 + v] = (Math.fround(v / 255) - mean[c]) * inv;
  }
  return t;
}

/** uint8 pixels (`channels` per pixel; grey replicated) of an S×S image -> RGB in [0, 1] at out[o…], optionally mirrored. */
function toUnitRgb(data: Uint8Array, channels: number, S: number, flip: boolean, out: Float32Array, o: number): void {
  for (let y = 0; y < S; y++) {
    for (let xx = 0; xx < S; xx++) {
      const sp = (y * S + (flip ? S - 1 - xx : xx)) * channels;
      const op = o + (y * S + xx) * 3;
      if (channels >= 3) {
        out[op] = data[sp] / 255;
        out[op + 1] = data[sp + 1] / 255;
        out[op + 2] = data[sp + 2] / 255;
      } else {
        const v = data[sp] / 255;
        out[op] = v;
        out[op + 1] = v;
        out[op + 2] = v;
      }
    }
  }
}

/** Per-channel (x − mean) / std in place on n RGB pixels at out[o…]. */
function normaliseInPlace(
  out: Float32Array,
  o: number,
  n: number,
  mean: readonly number[],
  std: readonly number[],
): void {
  const end = o + n * 3;
  const m0 = mean[0],
    m1 = mean[1],
    m2 = mean[2];
  const i0 = 1 / std[0],
    i1 = 1 / std[1],
    i2 = 1 / std[2];
  for (let i = o; i < end; i += 3) {
    out[i] = (out[i] - m0) * i0;
    out[i + 1] = (out[i + 1] - m1) * i1;
    out[i + 2] = (out[i + 2] - m2) * i2;
  }
}

/** {@link toUnitRgb} then {@link normaliseInPlace} in one pass through the table of {@link normalisationTable}. */
function toNormalisedRgb(
  data: Uint8Array,
  channels: number,
  S: number,
  flip: boolean,
  out: Float32Array,
  o: number,
  lut: Float32Array,
): void {
  for (let y = 0; y < S; y++) {
    const row = y * S;
    for (let xx = 0; xx < S; xx++) {
      const sp = (row + (flip ? S - 1 - xx : xx)) * channels;
      const op = o + (row + xx) * 3;
      if (channels >= 3) {
        out[op] = lut[data[sp]];
        out[op + 1] = lut[256 + data[sp + 1]];
        out[op + 2] = lut[512 + data[sp + 2]];
      } else {
        const v = data[sp];
        out[op] = lut[v];
        out[op + 1] = lut[256 + v];
        out[op + 2] = lut[512 + v];
      }
    }
  }
}

/**
 * Width and height from a baseline or progressive JPEG's frame header (SOFn), as stored (before any EXIF
 * rotation: the transforms here do not rotate either); null when `buf` is not a JPEG or the header is unusual,
 * so that the caller asks the decoder.
 */
export function jpegSize(buf: Uint8Array): { width: number; height: number } | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return null;
    const marker = buf[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame header
    const len = (buf[pos + 2] << 8) | buf[pos + 3];
    if (len < 2) return null;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 9 > buf.length) return null;
      const height = (buf[pos + 5] << 8) | buf[pos + 6];
      const width = (buf[pos + 7] << 8) | buf[pos + 8];
      return width > 0 && height > 0 ? { width, height } : null;
    }
    pos += 2 + len;
  }
  return null;
}
