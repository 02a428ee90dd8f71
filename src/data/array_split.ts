/**
 * A split whose images live in memory as uint8 HWC (Fashion-MNIST, CIFAR): small, exact, and
 * normalised only when a batch is built. Train-time augmentation is the CIFAR recipe: random crop
 * back to the input size from a zero-padded image, then a horizontal flip with p = 0.5.
 */
import type { Rng } from "../rng.js";
import type { Batch, LoadBatchOpts, Split } from "./types.js";

/** Arguments of {@link ArraySplit}. */
export interface ArraySplitArgs {
  name: "train" | "val" | "test";
  /** N·H·W·C bytes, HWC per image, images back to back. Kept by reference. */
  images: Uint8Array;
  /** One label per image. */
  labels: Int32Array;
  height: number;
  width: number;
  channels: number;
  /** Per-channel mean of pixels scaled to [0, 1]. */
  mean: readonly number[];
  /** Per-channel std of pixels scaled to [0, 1]. */
  std: readonly number[];
  /** Zero padding (in pixels) of the random crop; 0 disables the crop. */
  cropPadding: number;
  /** Random horizontal flip when augmenting. */
  flip: boolean;
  /** Dataset-level switch: false makes `loadBatch({augment: true})` return plain images. */
  augmentEnabled: boolean;
}

export class ArraySplit implements Split {
  readonly name: "train" | "val" | "test";
  readonly size: number;
  readonly labels: Int32Array;
  private readonly a: ArraySplitArgs;
  private readonly pixels: number;
  /** lut[v·C + c] = (v/255 − mean_c) / std_c: one table lookup per pixel, no per-pixel maths. */
  private readonly lut: Float32Array;

  constructor(args: ArraySplitArgs) {
    const { images, labels, height: H, width: W, channels: C } = args;
    this.pixels = H * W * C;
    if (images.length !== labels.length * this.pixels) {
      throw new Error(
        `ArraySplit '${args.name}': ${images.length} image bytes for ${labels.length} labels of ${H}x${W}x${C} (expected ${labels.length * this.pixels})`,
      );
    }
    if (args.mean.length !== C || args.std.length !== C)
      throw new Error(`ArraySplit '${args.name}': mean/std need ${C} channels`);
    this.a = args;
    this.name = args.name;
    this.size = labels.length;
    this.labels = labels;
    this.lut = new Float32Array(256 * C);
    for (let v = 0; v < 256; v++)
      for (let c = 0; c < C; c++) this.lut[v * C + c] = (v / 255 - args.mean[c]) / args.std[c];
  }

  async loadBatch(indices: ArrayLike<number>, opts: LoadBatchOpts): Promise<Batch> {
    return this.loadBatchSync(indices, opts);
  }

  /** Synchronous body of {@link loadBatch} (handy for benchmarks). */
  loadBatchSync(indices: ArrayLike<number>, opts: LoadBatchOpts): Batch {
    const { height: H, width: W, channels: C } = this.a;
    const n = indices.length;
    const P = this.pixels;
    const x = new Float32Array(n * P);
    const labels = new Int32Array(n);
    const rows = new Int32Array(n);
    const augment = opts.augment && this.a.augmentEnabled;
    for (let k = 0; k < n; k++) {
      const r = indices[k];
      if (!Number.isInteger(r) || r < 0 || r >= this.size) {
        throw new Error(`${this.name} split: row index ${r} at batch position ${k} is outside [0, ${this.size})`);
      }
      rows[k] = r;
      labels[k] = this.labels[r];
      if (augment) this.augmentInto(x, k * P, r * P, opts.rng);
      else this.plainInto(x, k * P, r * P);
    }
    return { x, shape: [n, H, W, C], labels, indices: rows };
  }

  private plainInto(out: Float32Array, o: number, s: number): void {
    const { images, channels: C } = this.a;
    const lut = this.lut;
    const P = this.pixels;
    if (C === 1) {
      for (let i = 0; i < P; i++) out[o + i] = lut[images[s + i]];
    } else {
      for (let i = 0; i < P; i += C) {
        for (let c = 0; c < C; c++) out[o + i + c] = lut[images[s + i + c] * C + c];
      }
    }
  }

  /**
   * Crop + flip in one pass: output (y, x) reads padded (y+dy, x'+dx) where x' is x or W−1−x.
   * Draw order per image (fixed, for reproducibility): dy, dx, then the flip coin.
   */
  private augmentInto(out: Float32Array, o: number, s: number, rng: Rng): void {
    const { images, height: H, width: W, channels: C, cropPadding: p, flip: canFlip } = this.a;
    const lut = this.lut;
    const dy = p > 0 ? rng.int(2 * p + 1) - p : 0;
    const dx = p > 0 ? rng.int(2 * p + 1) - p : 0;
    const flip = canFlip && rng.next() < 0.5;
    const rowLen = W * C;
    for (let y = 0; y < H; y++) {
      const sy = y + dy;
      const orow = o + y * rowLen;
      if (sy < 0 || sy >= H) {
        for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[orow + x * C + c] = lut[c]; // value of a zero pixel
        continue;
      }
      const srow = s + sy * rowLen;
      for (let x = 0; x < W; x++) {
        const sx = (flip ? W - 1 - x : x) + dx;
        const op = orow + x * C;
        if (sx < 0 || sx >= W) {
          for (let c = 0; c < C; c++) out[op + c] = lut[c];
        } else {
          const sp = srow + sx * C;
          for (let c = 0; c < C; c++) out[op + c] = lut[images[sp + c] * C + c];
        }
      }
    }
  }
}
