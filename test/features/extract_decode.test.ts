/**
 * The decode path feature extraction runs on (src/data/jpeg_split.ts): the JPEG frame-header size reader agrees
 * with libvips on baseline, progressive, greyscale and EXIF-tagged files and declines other formats; the one-pass
 * table lookup gives exactly the values of the convert-then-normalise arithmetic.
 */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { jpegSize, normalisationTable } from "../../src/data/jpeg_split.js";
import { IMAGENET_MEAN, IMAGENET_STD, INAT_MEAN, INAT_STD } from "../../src/data/list_datasets.js";

async function image(w: number, h: number, ch: 1 | 3): Promise<ReturnType<typeof sharp>> {
  const px = Buffer.alloc(w * h * ch);
  for (let i = 0; i < px.length; i++) px[i] = (i * 29) % 251;
  return sharp(px, { raw: { width: w, height: h, channels: ch } });
}

describe("jpegSize", () => {
  it("reads the stored size of baseline, progressive, greyscale and EXIF-tagged JPEGs like libvips", async () => {
    const files = [
      await (await image(500, 375, 3)).jpeg({ quality: 90 }).toBuffer(),
      await (await image(333, 500, 3)).jpeg({ progressive: true }).toBuffer(),
      await (await image(97, 41, 1)).jpeg().toBuffer(),
      await (await image(64, 48, 3)).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
    ];
    for (const f of files) {
      const m = await sharp(f).metadata();
      expect(jpegSize(f)).toEqual({ width: m.width, height: m.height });
    }
  });

  it("returns null for other formats and truncated or damaged headers, so the decoder is asked", async () => {
    const png = await (await image(20, 10, 3)).png().toBuffer();
    expect(jpegSize(png)).toBeNull();
    const jpg = await (await image(20, 10, 3)).jpeg().toBuffer();
    expect(jpegSize(jpg.subarray(0, 12))).toBeNull();
    const bad = Buffer.from(jpg);
    bad[2] = 0x00; // first marker no longer starts with 0xFF
    expect(jpegSize(bad)).toBeNull();
    expect(jpegSize(new Uint8Array(0))).toBeNull();
  });
});

describe("normalisationTable", () => {
  it("equals (fround(v / 255) - mean) / std rounded to float32 for every value and channel", () => {
    for (const [mean, std] of [
      [IMAGENET_MEAN, IMAGENET_STD],
      [INAT_MEAN, INAT_STD],
    ] as const) {
      const t = normalisationTable(mean, std);
      const two = new Float32Array(1);
      for (let c = 0; c < 3; c++) {
        for (let v = 0; v < 256; v++) {
          two[0] = v / 255;
          two[0] = (two[0] - mean[c]) * (1 / std[c]);
          expect(t[c * 256 + v]).toBe(two[0]);
        }
      }
    }
  });
});
