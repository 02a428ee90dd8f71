import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURE_MAGIC, readFeatureHeader, readFeatures, writeFeatures } from "../../src/features/format.js";
import type { FeatureSet } from "../../src/features/types.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ltr-feat-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(n = 5, dim = 3): FeatureSet {
  const feats = Float32Array.from({ length: n * dim }, (_, i) => i * 0.5 - 1.25);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const indices = Int32Array.from({ length: n }, (_, i) => 100 + i);
  return { feats, dim, labels, indices, n };
}

/** Rewrite the JSON header of a feature file in place (same padded length) to forge bad files. */
function patchHeader(path: string, edit: (h: Record<string, any>) => void): void {
  const buf = readFileSync(path);
  const hlen = buf.readUInt32LE(8);
  const h = JSON.parse(buf.subarray(12, 12 + hlen).toString("utf8"));
  edit(h);
  const json = Buffer.from(JSON.stringify(h), "utf8");
  expect(json.length).toBeLessThanOrEqual(hlen);
  const padded = Buffer.alloc(hlen, 0x20);
  json.copy(padded);
  padded.copy(buf, 12);
  writeFileSync(path, buf);
}

describe("feature file format", () => {
  it("round-trips features, labels, indices and metadata, atomically", () => {
    const p = join(dir, "train.ltf");
    const fs = sample();
    writeFeatures(p, fs, { split: "train_plain", source: "runs/x/stage1", extra: { backbone: "resnet10" } });
    expect(existsSync(`${p}.tmp`)).toBe(false);
    const r = readFeatures(p);
    expect(r.n).toBe(5);
    expect(r.dim).toBe(3);
    expect(Array.from(r.feats)).toEqual(Array.from(fs.feats));
    expect(Array.from(r.labels)).toEqual([0, 1, 2, 0, 1]);
    expect(Array.from(r.indices)).toEqual([100, 101, 102, 103, 104]);
    expect(r.meta.split).toBe("train_plain");
    expect(r.meta.source).toBe("runs/x/stage1");
    expect(r.meta.extra).toEqual({ backbone: "resnet10" });
    const h = readFeatureHeader(p);
    expect(h.blobs.map((b) => [b.name, b.dtype, b.offset % 64])).toEqual([
      ["feats", "float32", 0],
      ["labels", "int32", 0],
      ["indices", "int32", 0],
    ]);
    expect(readFileSync(p).subarray(0, 8).toString("latin1")).toBe(FEATURE_MAGIC);
  });

  it("round-trips an empty split", () => {
    const p = join(dir, "empty.ltf");
    writeFeatures(
      p,
      { feats: new Float32Array(0), dim: 4, labels: new Int32Array(0), indices: new Int32Array(0), n: 0 },
      { split: "val" },
    );
    const r = readFeatures(p);
    expect([r.n, r.dim, r.feats.length]).toEqual([0, 4, 0]);
  });

  it("rejects an inconsistent FeatureSet on write, naming the file", () => {
    const fs = sample();
    expect(() => writeFeatures(join(dir, "bad.ltf"), { ...fs, labels: new Int32Array(4) }, { split: "x" })).toThrow(
      /bad\.ltf.*labels has 4 rows but feats has 5/,
    );
  });

  it("reports a truncated file with its path", () => {
    const p = join(dir, "trunc.ltf");
    writeFeatures(p, sample(), { split: "test" });
    const size = readFileSync(p).length;
    truncateSync(p, size - 7);
    expect(() => readFeatures(p)).toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: truncated file`));
  });

  it("reports bad magic", () => {
    const p = join(dir, "magic.ltf");
    writeFeatures(p, sample(), { split: "test" });
    const buf = readFileSync(p);
    buf.write("NOTFEATS", 0, "latin1");
    writeFileSync(p, buf);
    expect(() => readFeatures(p)).toThrow(/magic\.ltf: bad magic "NOTFEATS"/);
  });

  it("reports a row-count mismatch between blobs", () => {
    const p = join(dir, "rows.ltf");
    writeFeatures(p, sample(), { split: "test" });
    patchHeader(p, (h) => {
      h.blobs[1].shape = [4];
      h.blobs[1].bytes = 16;
    });
    expect(() => readFeatures(p)).toThrow(
      /rows\.ltf: row-count mismatch: blob 'labels' has 4 rows but the header says rows=5/,
    );
  });

  it("reports a wrong dtype", () => {
    const p = join(dir, "dtype.ltf");
    writeFeatures(p, sample(), { split: "test" });
    patchHeader(p, (h) => {
      h.dtype = "float16";
    });
    expect(() => readFeatures(p)).toThrow(/dtype\.ltf: wrong dtype 'float16'/);
    writeFeatures(p, sample(), { split: "test" });
    patchHeader(p, (h) => {
      h.blobs[2].dtype = "int64";
    });
    expect(() => readFeatures(p)).toThrow(/dtype\.ltf: wrong dtype for blob 'indices': 'int64', expected 'int32'/);
  });

  it("names a missing file", () => {
    expect(() => readFeatures(join(dir, "nope.ltf"))).toThrow(/nope\.ltf: cannot open \(ENOENT\)/);
  });
});
