/**
 * Resumable feature extraction (src/features/extract.ts, src/features/chunked.ts) on a tiny backbone over a handful
 * of tiny JPEGs: the features equal a plain evaluation pass; an extraction stopped after k chunks, or killed mid-run
 * in a child process, resumes to a byte-identical `.ltf`; damaged chunks are detected and recomputed; a folder left
 * by another extraction is replaced, not resumed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { ChunkedFeatures, type ChunkManifest } from "../../src/features/chunked.js";
import {
  chunkDirFor,
  ExtractionStopped,
  type ExtractProgress,
  extractFeatures,
  formatProgress,
} from "../../src/features/extract.js";
import { readFeatures } from "../../src/features/format.js";
import type { Backbone } from "../../src/models/types.js";
import { runPass } from "../../src/train/evaluate.js";
import { removeTempDirs, tempDir } from "../data/helpers/synthetic.js";
import { fixtureBackbone, fixtureSplit, ROWS, writeJpegs } from "./helpers/extract_fixture.js";

const root = tempDir("extract");
const imgDir = join(root, "img");
let paths: string[] = [];
let backbone: Backbone;
let reference: Buffer;
const meta = { split: "test", extra: { fixture: 1 } };

const run = (out: string, extra: Partial<Parameters<typeof extractFeatures>[0]> = {}) =>
  extractFeatures({ backbone, split: fixtureSplit(paths), batchSize: 2, chunkRows: 2, out, meta, ...extra });

const manifestOf = (out: string) =>
  JSON.parse(readFileSync(join(chunkDirFor(out), "manifest.json"), "utf8")) as ChunkManifest;

beforeAll(async () => {
  await initBackend("wasm");
  paths = await writeJpegs(imgDir);
  backbone = fixtureBackbone();
  const out = join(root, "reference.ltf");
  await run(out);
  reference = readFileSync(out);
});

afterAll(() => {
  backbone?.dispose();
  removeTempDirs();
});

describe("extractFeatures", () => {
  it("writes the same features as a plain evaluation pass, and removes its chunk folder", async () => {
    const before = tf.memory().numTensors;
    const pass = await runPass({ backbone, split: fixtureSplit(paths), batchSize: 2, keepFeatures: true });
    const got = readFeatures(join(root, "reference.ltf"));
    expect(got.n).toBe(ROWS);
    expect(got.dim).toBe(backbone.featDim);
    expect(
      Buffer.from(got.feats.buffer, got.feats.byteOffset, got.feats.byteLength).equals(Buffer.from(pass.feats!.buffer)),
    ).toBe(true);
    expect(Array.from(got.labels)).toEqual(Array.from(pass.labels));
    expect(Array.from(got.indices)).toEqual(Array.from({ length: ROWS }, (_, i) => i));
    expect(got.meta.extra).toEqual(meta.extra);
    expect(existsSync(chunkDirFor(join(root, "reference.ltf")))).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("an extraction stopped after k chunks resumes to a byte-identical file", async () => {
    for (const k of [1, 3, 6]) {
      const out = join(root, `stopped_${k}.ltf`);
      await expect(run(out, { stopAfterChunks: k })).rejects.toBeInstanceOf(ExtractionStopped);
      expect(existsSync(out)).toBe(false);
      expect(manifestOf(out).chunks.map((c) => c.index)).toEqual(Array.from({ length: k }, (_, i) => i));
      let resumed = -1;
      const r = await run(out, { onResume: (x) => (resumed = x.rowsDone) });
      expect(resumed).toBe(2 * k);
      expect(r.stats.resumedRows).toBe(2 * k);
      expect(readFileSync(out).equals(reference)).toBe(true);
    }
  });

  it("an extraction killed mid-run (child process, SIGKILL) resumes to a byte-identical file", async () => {
    const out = join(root, "killed.ltf");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/features/helpers/extract_child.ts", out, imgDir, "150"],
      {
        cwd: process.cwd(),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // Kill once at least two chunks are on disk (the manifest lists only finished chunks).
    const deadline = Date.now() + 60_000;
    let listed = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        listed = manifestOf(out).chunks.length;
      } catch {
        listed = 0;
      }
      if (listed >= 2) break;
    }
    child.kill("SIGKILL");
    await exited;
    expect(listed, `child never wrote two chunks: ${stderr}`).toBeGreaterThanOrEqual(2);
    expect(existsSync(out)).toBe(false);
    const r = await run(out);
    expect(r.stats.resumedRows).toBeGreaterThanOrEqual(4);
    expect(r.stats.resumedRows).toBeLessThan(ROWS);
    expect(readFileSync(out).equals(reference)).toBe(true);
  }, 90_000);

  it("recomputes a chunk whose bytes no longer match its checksum, and one the manifest does not list", async () => {
    const out = join(root, "damaged.ltf");
    await expect(run(out, { stopAfterChunks: 4 })).rejects.toBeInstanceOf(ExtractionStopped);
    const dir = chunkDirFor(out);
    const f = join(dir, "chunk-000001.f32");
    const bytes = readFileSync(f);
    bytes[5] ^= 0xff;
    writeFileSync(f, bytes);
    // A chunk file on disk that the manifest does not list (a kill between the file's rename and the manifest update).
    writeFileSync(join(dir, "chunk-000004.f32"), Buffer.alloc(2 * backbone.featDim * 4, 7));
    let rejected: string[] = [];
    const r = await run(out, { onResume: (x) => (rejected = x.rejected) });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatch(/chunk-000001\.f32: SHA-256 [0-9a-f]+, manifest says/);
    expect(r.stats.resumedRows).toBe(6);
    expect(readFileSync(out).equals(reference)).toBe(true);
  });

  it("replaces a chunk folder left by another extraction (different batch size) instead of resuming it", async () => {
    const out = join(root, "other.ltf");
    await expect(run(out, { batchSize: 1, stopAfterChunks: 2 })).rejects.toBeInstanceOf(ExtractionStopped);
    let replaced: string | undefined;
    const r = await run(out, { onResume: (x) => (replaced = x.replaced) });
    expect(replaced).toMatch(/another extraction/);
    expect(r.stats.resumedRows).toBe(0);
    expect(readFileSync(out).equals(reference)).toBe(true);
  });

  it("reports progress after every batch, ending at the total, with rate and ETA", async () => {
    const seen: ExtractProgress[] = [];
    await run(join(root, "progress.ltf"), { onProgress: (p) => seen.push({ ...p }), prefetch: 0 });
    expect(seen).toHaveLength(Math.ceil(ROWS / 2));
    expect(seen.map((p) => p.done)).toEqual([2, 4, 6, 8, 10, 12, 13]);
    const last = seen[seen.length - 1];
    expect(last.total).toBe(ROWS);
    expect(last.etaS).toBe(0);
    expect(last.imgPerS).toBeGreaterThan(0);
    expect(formatProgress("test", { ...last, done: 6, etaS: 125 })).toMatch(
      /^test: 6\/13 rows \(46\.2%\), [\d.]+ img\/s, ETA 2m05s, waited for images [\d.]+% of the time$/,
    );
  });
});

describe("ChunkedFeatures", () => {
  it("assemble() refuses a missing chunk and a chunk changed after it was verified", () => {
    const dir = join(root, "store.chunks");
    const { store } = ChunkedFeatures.open({ dir, rows: 5, dim: 2, chunkRows: 2, key: { a: 1 } });
    store.writeChunk(0, Float32Array.from([1, 2, 3, 4]));
    store.writeChunk(2, Float32Array.from([9, 10]));
    expect(() => store.assemble()).toThrow(/1 chunk\(s\) missing \(first: chunk-000001\.f32\)/);
    store.writeChunk(1, Float32Array.from([5, 6, 7, 8]));
    expect(Array.from(store.assemble())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    writeFileSync(join(dir, "chunk-000002.f32"), Buffer.from(Float32Array.from([9, 11]).buffer));
    expect(() => store.assemble()).toThrow(/chunk-000002\.f32: SHA-256 .* does not match/);
    expect(() => store.writeChunk(1, new Float32Array(3))).toThrow(/chunk 1 needs 2x2 values, got 3/);
    // Key order does not matter for resuming.
    const again = ChunkedFeatures.open({ dir, rows: 5, dim: 2, chunkRows: 2, key: { a: 1 } });
    expect(again.report.kept).toBe(2);
    expect(again.report.rejected).toEqual([expect.stringMatching(/^chunk-000002\.f32: SHA-256/)]);
  });

  it("lets one process write a folder at a time; a lock left by a process that is gone is taken over", () => {
    const dir = join(root, "locked.chunks");
    mkdirSync(dir, { recursive: true });
    const args = { dir, rows: 4, dim: 1, chunkRows: 2, key: { b: 2 } };
    writeFileSync(join(dir, "lock"), String(process.ppid)); // a live process that is not us
    expect(() => ChunkedFeatures.open(args)).toThrow(
      new RegExp(`locked\\.chunks is being written by process ${process.ppid}`),
    );
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
    writeFileSync(join(dir, "lock"), String(gone));
    const { store } = ChunkedFeatures.open(args);
    expect(readFileSync(join(dir, "lock"), "utf8")).toBe(String(process.pid));
    store.release();
    expect(existsSync(join(dir, "lock"))).toBe(false);
  });
});
