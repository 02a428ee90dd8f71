/**
 * A JPEG split decodes in a worker thread by default (src/data/decode_worker.ts): the pixels, the caller's random
 * stream and the error messages must be those of decoding on the calling thread, and an idle worker must never keep
 * the process alive.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JpegSplit } from "../../src/data/jpeg_split.js";
import { Rng } from "../../src/rng.js";
import { fixtureSplit, writeJpegs } from "../features/helpers/extract_fixture.js";
import { removeTempDirs, tempDir } from "./helpers/synthetic.js";

afterAll(removeTempDirs);

const dir = tempDir("decode-worker");
let paths: string[] = [];
const splits: JpegSplit[] = [];

beforeAll(async () => {
  paths = await writeJpegs(dir);
  writeFileSync(join(dir, "broken.jpg"), "not a jpeg at all");
  paths.push(join(dir, "broken.jpg"));
});
afterAll(async () => {
  for (const s of splits) await s.close();
});

/** The fixture's split with augmentation and colour jitter on, decoding in a worker or on this thread. */
function split(decodeIn: "worker" | "thread"): JpegSplit {
  const s = fixtureSplit(paths, {
    name: "train",
    listFile: "decode_list.txt",
    colourJitter: true,
    augmentEnabled: true,
    decodeIn,
  });
  splits.push(s);
  return s;
}

const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const rows = [0, 5, 3, 12, 1, 7, 9, 2, 11, 4];

describe("decoding in a worker thread", () => {
  it("gives the calling thread's pixels bit for bit, eval and augmented, and advances the caller's rng alike", async () => {
    const w = split("worker");
    const t = split("thread");
    for (const augment of [false, true]) {
      const rw = new Rng(11);
      const rt = new Rng(11);
      const bw = await w.loadBatch(rows, { augment, rng: rw });
      const bt = await t.loadBatch(rows, { augment, rng: rt });
      expect(bw.shape).toEqual([rows.length, 32, 32, 3]);
      expect(bytes(bw.x).equals(bytes(bt.x)), `augment ${augment}`).toBe(true);
      expect(Array.from(bw.labels)).toEqual(Array.from(bt.labels));
      expect(Array.from(bw.indices)).toEqual(rows);
      expect(rw.state()).toEqual(rt.state());
    }
    // augmentation really ran (the two transforms differ), so the equality above covered the random path
    const e = await w.loadBatch(rows, { augment: false, rng: new Rng(11) });
    const a = await w.loadBatch(rows, { augment: true, rng: new Rng(11) });
    expect(bytes(e.x).equals(bytes(a.x))).toBe(false);
  });

  it("batches in flight together come back in their own order and content", async () => {
    const w = split("worker");
    const t = split("thread");
    const batches = [[0, 1, 2], [3, 4, 5, 6], [7], [8, 9, 10, 11, 12]];
    const got = await Promise.all(batches.map((b) => w.loadBatch(b, { augment: false, rng: new Rng(0) })));
    for (let i = 0; i < batches.length; i++) {
      const ref = await t.loadBatch(batches[i], { augment: false, rng: new Rng(0) });
      expect(bytes(got[i].x).equals(bytes(ref.x)), `batch ${i}`).toBe(true);
    }
  });

  it("a file that does not decode names itself and its list line, and the worker goes on", async () => {
    const w = split("worker");
    const broken = paths.length - 1;
    await expect(w.loadBatch([0, broken], { augment: false, rng: new Rng(0) })).rejects.toThrow(
      /cannot decode image .*broken\.jpg \(decode_list\.txt:14\).*replace the file or remove its line/,
    );
    const ok = await w.loadBatch([1], { augment: false, rng: new Rng(0) });
    expect(ok.x.length).toBe(32 * 32 * 3);
  });

  it("close() stops the worker; the next batch starts a new one", async () => {
    const w = split("worker");
    const a = await w.loadBatch([2, 3], { augment: false, rng: new Rng(0) });
    await w.close();
    const b = await w.loadBatch([2, 3], { augment: false, rng: new Rng(0) });
    expect(bytes(a.x).equals(bytes(b.x))).toBe(true);
  });

  it("an idle worker does not keep the process alive", () => {
    const script = [
      `import { JpegSplit } from "./src/data/jpeg_split.ts";`,
      `import { Rng } from "./src/rng.ts";`,
      `const paths = ${JSON.stringify(paths.slice(0, 3))};`,
      `const s = new JpegSplit({ name: "test", paths, labels: new Int32Array(3), listFile: "l.txt", lines: new Int32Array(3),`,
      `  size: 32, resize: 36, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], colourJitter: false, augmentEnabled: false });`,
      `const b = await s.loadBatch([0, 1, 2], { augment: false, rng: new Rng(0) });`,
      `console.log("decoded", b.x.length);`,
    ].join("\n");
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: process.cwd(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(`decoded ${3 * 32 * 32 * 3}`);
    expect(r.status).toBe(0);
  });
});
