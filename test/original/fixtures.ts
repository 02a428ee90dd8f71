/**
 * The PyTorch-parity fixtures written by scripts/torch_fixtures.py (test/fixtures/torch/): checkpoints are stored
 * gzip-compressed and unpacked here into a temporary folder under the names the original code uses.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { readNpy } from "../../src/features/npy.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "torch");

export interface ModelExpect {
  arch: string;
  width: number;
  feat_dim: number;
  num_classes: number;
  classifier: string;
  files: Record<string, { legacy: boolean; float16: boolean; data_parallel: boolean }>;
  preds: number[];
  feat_abs_max: number;
  logit_abs_max: number;
}

export interface Expected {
  images: string[];
  labels: number[];
  crop_only: string[];
  mean: number[];
  std: number[];
  models: Record<string, ModelExpect>;
  splits: Record<"train" | "val" | "test", number[]>;
}

export const expected: Expected = JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8"));

/** Unpack `<rel>.gz` to `<dir>/<rel>` and return that path. */
export function gunzipTo(rel: string, dir: string, as = rel.replace(/\.gz$/, "")): string {
  const out = join(dir, as);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, gunzipSync(readFileSync(join(FIXTURES, rel))));
  return out;
}

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The original's log_dir for the ResNet-10 model: final_model_checkpoint.pth + {train,val,test}feat_all.pkl. */
export function resnet10LogDir(dir: string): string {
  const d = join(dir, "resnet10");
  gunzipTo("resnet10/final_model_checkpoint.pth.gz", dir);
  for (const s of ["train", "val", "test"])
    copyFileSync(join(FIXTURES, "resnet10", `${s}feat_all.pkl`), join(d, `${s}feat_all.pkl`));
  return d;
}

/** A data root with the tiny ImageNet_LT-style split lists and the JPEGs they name. */
export function dataRoot(dir: string): string {
  const d = join(dir, "data");
  mkdirSync(d, { recursive: true });
  cpSync(join(FIXTURES, "images"), join(d, "images"), { recursive: true });
  for (const s of ["train", "val", "test"])
    copyFileSync(join(FIXTURES, `ImageNet_LT_${s}.txt`), join(d, `ImageNet_LT_${s}.txt`));
  return d;
}

/** PIL's decoded + resized + centre-cropped pixels [N, 224, 224, 3] uint8 (the original's eval transform before ToTensor). */
export function pilPixels(): { data: Uint8Array; n: number } {
  const raw = gunzipSync(readFileSync(join(FIXTURES, "pixels.npy.gz")));
  const hlen = raw.readUInt16LE(8);
  const header = raw.toString("latin1", 10, 10 + hlen);
  if (!header.includes("'|u1'")) throw new Error(`pixels.npy: unexpected header ${header}`);
  const n = Number(/'shape': \((\d+),/.exec(header)![1]);
  return { data: new Uint8Array(raw.buffer, raw.byteOffset + 10 + hlen, n * 224 * 224 * 3), n };
}

/** ToTensor + Normalize in float32, NHWC. */
export function normalise(pix: Uint8Array, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(pix.length);
  const m = mean.map(Math.fround);
  const s = std.map(Math.fround);
  for (let i = 0; i < pix.length; i++) {
    const c = i % 3;
    out[i] = Math.fround(Math.fround(Math.fround(pix[i] / 255) - m[c]) / s[c]);
  }
  return out;
}

export function npy(name: string): { data: Float32Array; shape: number[] } {
  const a = readNpy(join(FIXTURES, name));
  return { data: a.data as Float32Array, shape: a.shape };
}

/** max |a − b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let e = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return e / s;
}
