/**
 * A split of JPEG files on disk (ImageNet-LT, Places-LT, iNaturalist 2018) decoded with sharp
 * (libvips) and transformed as in the reference code (spec §3):
 *  - train: random-resized crop to 224 (scale U(0.08, 1), log-uniform ratio in [3/4, 4/3], 10 tries,
 *    then the centre fallback) + horizontal flip p 0.5 + (optionally) colour jitter with brightness,
 *    contrast and saturation factors U(0.6, 1.4) applied in random order;
 *  - eval: resize the shorter side to 256, centre-crop 224.
 * Resizing uses sharp's bilinear ("linear") kernel; colour jitter works on floats in [0, 1] (as
 * torchvision's tensor path does), so values differ from PIL's uint8 path by rounding only.
 */
import { readFile } from "node:fs/promises";
import type { Rng } from "../rng.js";
import type { Batch, LoadBatchOpts, Split } from "./types.js";

type SharpFn = typeof import("sharp").default;
let sharpMod: SharpFn | null = null;
/** sharp is loaded on first use so that the in-memory datasets never touch its native binary. */
async function getSharp(): Promise<SharpFn> {
  if (!sharpMod) {
    const m = (await import("sharp")) as unknown as { default?: SharpFn };
    sharpMod = (m.default ?? (m as unknown as SharpFn));
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
export function evalResizeCrop(width: number, height: number, resize: number, size: number): { w: number; h: number; crop: CropBox } {
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
}

export class JpegSplit implements Split {
  readonly name: "train" | "val" | "test";
  readonly size: number;
  readonly labels: Int32Array;
  private readonly a: JpegSplitArgs;

  constructor(args: JpegSplitArgs) {
    if (args.paths.length !== args.labels.length) throw new Error(`JpegSplit '${args.name}': ${args.paths.length} paths but ${args.labels.length} labels`);
    this.a = args;
    this.name = args.name;
    this.size = args.paths.length;
    this.labels = args.labels;
  }

  async loadBatch(indices: ArrayLike<number>, opts: LoadBatchOpts): Promise<Batch> {
    const { size: S } = this.a;
    const n = indices.length;
    const P = S * S * 3;
    const x = new Float32Array(n * P);
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
    const sharp = await getSharp();
    let next = 0;
    const worker = async () => {
      for (let k = next++; k < n; k = next++) await this.decodeInto(sharp, rows[k], x, k * P, rngs[k]);
    };
    await Promise.all(Array.from({ length: Math.min(n, this.a.concurrency ?? 8) }, worker));
    return { x, shape: [n, S, S, 3], labels, indices: rows };
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
      throw new Error(`cannot read image ${this.where(row)}: ${(e as Error).message}; check imageRoot / the list paths`);
    }
    let data: Buffer;
    let channels: number;
    let flip = false;
    try {
      const meta = await sharp(buf).metadata();
      const W = meta.width;
      const H = meta.height;
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
      if (res.info.width !== S || res.info.height !== S) throw new Error(`decoded to ${res.info.width}x${res.info.height}, expected ${S}x${S}`);
    } catch (e) {
      throw new Error(`cannot decode image ${this.where(row)}: ${(e as Error).message}; replace the file or remove its line from the list`);
    }
    // uint8 -> [0, 1], flipped, RGB (grey replicated)
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
    if (rng && this.a.colourJitter) colourJitterInPlace(out, o, S * S, rng);
    const end = o + S * S * 3;
    const m0 = mean[0], m1 = mean[1], m2 = mean[2];
    const i0 = 1 / std[0], i1 = 1 / std[1], i2 = 1 / std[2];
    for (let i = o; i < end; i += 3) {
      out[i] = (out[i] - m0) * i0;
      out[i + 1] = (out[i + 1] - m1) * i1;
      out[i + 2] = (out[i + 2] - m2) * i2;
    }
  }
}
