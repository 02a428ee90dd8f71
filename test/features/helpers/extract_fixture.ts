/** Tiny JPEG split + tiny backbone shared by the extraction tests and their child process (for tests only). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { JpegSplit, type JpegSplitArgs } from "../../../src/data/jpeg_split.js";
import { backbones } from "../../../src/models/index.js";
import type { Backbone } from "../../../src/models/types.js";

/** Rows of the fixture split. */
export const ROWS = 13;

/** Write ROWS small JPEGs of mixed sizes and orientations (one greyscale) under `dir`; returns their paths. */
export async function writeJpegs(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const w = 40 + ((i * 7) % 23);
    const h = 30 + ((i * 11) % 29);
    const ch = i === 5 ? 1 : 3;
    const px = Buffer.alloc(w * h * ch);
    for (let p = 0; p < px.length; p++) px[p] = (i * 37 + p * 13 + ((p / w) | 0) * 5) % 256;
    const path = join(dir, `img_${i}.jpg`);
    writeFileSync(
      path,
      await sharp(px, { raw: { width: w, height: h, channels: ch } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
    paths.push(path);
  }
  return paths;
}

/** The eval transform at toy scale: shorter side 36, centre crop 32, ImageNet normalisation; `over` changes any argument. */
export function fixtureSplit(paths: string[], over: Partial<JpegSplitArgs> = {}): JpegSplit {
  return new JpegSplit({
    name: "test",
    paths,
    labels: Int32Array.from(paths, (_, i) => i % 3),
    listFile: "fixture.txt",
    lines: Int32Array.from(paths, (_, i) => i + 1),
    size: 32,
    resize: 36,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    colourJitter: false,
    augmentEnabled: false,
    ...over,
  });
}

export function fixtureBackbone(): Backbone {
  return backbones.get("resnet8")({ inputShape: [32, 32, 3], seed: 3 });
}
