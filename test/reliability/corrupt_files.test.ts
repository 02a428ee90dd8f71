/**
 * Flipped bytes in every kind of file a run writes — checkpoints, feature caches, results, manifest, config — and
 * bad imported features (.npy with NaN/Inf, wrong class counts, labels out of range): each is refused with an
 * error naming the file and a fix that works, and the good files beside it are left untouched.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { initBackend } from "../../src/backend.js";
import { main } from "../../src/cli/main.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { readFeatures } from "../../src/features/format.js";
import { writeNpy } from "../../src/features/npy.js";
import { readJson } from "../../src/repro/runs.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { assertFinishedStage1Run } from "../../src/run/state.js";
import { buildDataset } from "../../src/train/build.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { classifyRun, trainStage2 } from "../../src/train/stage2.js";
import {
  ckptDataOffset,
  flipByte,
  resultsOf,
  sameTensors,
  snapshot,
  tempDir,
  tinyConfig,
  tinyData,
  tinyStage2,
} from "./helpers.js";

const tmp = tempDir("files");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = tinyData(join(tmp, "data"));
const s1cfg = (extra: Record<string, unknown> = {}) =>
  resolveConfig(tinyConfig({ dataset: { root: data }, ...extra }), "feat.yaml");
const s2cfg = (modelDir: string, method: string) => tinyStage2(data, modelDir, method);
const base = join(tmp, "base");
const part = join(tmp, "part");
let ds: Dataset;

const copy = (from: string, name: string) => {
  const to = join(tmp, name);
  cpSync(from, to, { recursive: true });
  return to;
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(s1cfg().config);
  await trainStage1({ loaded: s1cfg(), runDir: base, dataset: ds, quiet: true });
  await trainStage1({ loaded: s1cfg(), runDir: part, dataset: ds, quiet: true, stopAfterEpochs: 2 }).catch(
    () => undefined,
  );
});
afterEach(() => vi.restoreAllMocks());

function quietCli() {
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  return err;
}

describe("damaged checkpoints", () => {
  it("a flipped data byte in latest.ckpt: resume refuses, changes nothing, and its advice (resume from best.ckpt) ends bit-identical", async () => {
    const dir = copy(part, "latest-flip");
    flipByte(join(dir, "latest.ckpt"), ckptDataOffset(join(dir, "latest.ckpt")) + 1000);
    const before = snapshot(dir);
    const err = (await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true }).then(
      () => new Error("resumed"),
      (e: Error) => e,
    )) as Error;
    expect(err.message).toMatch(
      new RegExp(`${esc(join(dir, "latest.ckpt"))} is corrupt: its content does not match its SHA-256 checksum`),
    );
    expect(err.message).toMatch(/cp \S+best\.ckpt \S+latest\.ckpt and run again with --resume/);
    expect(snapshot(dir)).toEqual(before);
    // Follow the advice.
    cpSync(join(dir, "best.ckpt"), join(dir, "latest.ckpt"));
    await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true });
    expect(sameTensors(join(base, "best.ckpt"), join(dir, "best.ckpt")).diff).toEqual([]);
    expect(sameTensors(join(base, "latest.ckpt"), join(dir, "latest.ckpt")).diff).toEqual([]);
    expect(resultsOf(dir)).toEqual(resultsOf(base));
  });

  it("a flipped byte in best.ckpt of a finished run: stage 2 and ltr test refuse, naming the file", async () => {
    const dir = copy(base, "best-flip");
    flipByte(join(dir, "best.ckpt"), 0.6);
    const before = snapshot(dir);
    await expect(trainStage2({ loaded: s2cfg(dir, "ncm"), dataset: ds, quiet: true })).rejects.toThrow(
      new RegExp(`${esc(join(dir, "best.ckpt"))} is corrupt`),
    );
    await expect(classifyRun({ runDir: dir, method: "joint", dataset: ds })).rejects.toThrow(
      /best\.ckpt is corrupt: .*train the run again in a new folder|best\.ckpt is corrupt: .*cp /,
    );
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(join(dir, "cls_ncm_seed1"))).toBe(false);
  });

  it("a damaged header names the file: checksum mismatch (v2) and an unparsable JSON header (v1)", () => {
    const p = join(tmp, "hdr.ckpt");
    cpSync(join(base, "best.ckpt"), p);
    flipByte(p, 20);
    expect(() => loadCheckpoint(p)).toThrow(new RegExp(`${esc(p)} is corrupt`));
    const v1 = join(tmp, "v1.ckpt");
    const json = Buffer.from(
      '{"version":1,"meta":{"epoch":0},"tensors":[{"name":"x","shape":[1],"offset":0,"length":1}',
    );
    const head = Buffer.alloc(12);
    head.write("LTRCKPT1", 0, "latin1");
    head.writeUInt32LE(json.length, 8);
    writeFileSync(v1, Buffer.concat([head, json, Buffer.alloc(4)]));
    expect(() => loadCheckpoint(v1)).toThrow(new RegExp(`${esc(v1)} is corrupt: its JSON header cannot be parsed`));
  });

  it("a checkpoint of the old format (no checksum) is still read, after a notice", () => {
    const v1 = join(tmp, "old.ckpt");
    const json = Buffer.from(
      JSON.stringify({ version: 1, meta: { epoch: 4 }, tensors: [{ name: "w", shape: [2], offset: 0, length: 2 }] }),
    );
    const pad = (4 - ((12 + json.length) % 4)) % 4;
    const head = Buffer.alloc(12);
    head.write("LTRCKPT1", 0, "latin1");
    head.writeUInt32LE(json.length + pad, 8);
    const err = quietCli();
    const ck = loadCheckpoint<{ epoch: number }>(
      (writeFileSync(
        v1,
        Buffer.concat([head, json, Buffer.alloc(pad, 0x20), Buffer.from(new Float32Array([1.5, -2]).buffer)]),
      ),
      v1),
    );
    expect(ck.meta.epoch).toBe(4);
    expect(Array.from(ck.tensors.w.data)).toEqual([1.5, -2]);
    expect(err.join("")).toMatch(/old\.ckpt was written without a checksum .* read unverified/);
  });
});

describe("damaged feature caches and result files", () => {
  it("a flipped byte in a cached .ltf is reported and extracted again; ltr classify on it refuses", async () => {
    const dir = copy(base, "cache");
    const r1 = await trainStage2({ loaded: s2cfg(dir, "ncm"), dataset: ds, quiet: true });
    const val = join(dir, "features", "val.ltf");
    const good = readFileSync(val);
    const copyDir = join(tmp, "feat-copy");
    mkdirSync(copyDir);
    for (const s of ["train", "val", "test"]) cpSync(join(dir, "features", `${s}.ltf`), join(copyDir, `${s}.ltf`));
    flipByte(val, 0.5);
    const err = quietCli();
    const r2 = await trainStage2({
      loaded: s2cfg(dir, "ncm"),
      dataset: ds,
      quiet: true,
      runDir: join(dir, "ncm-again"),
    });
    expect(err.join("")).toMatch(new RegExp(`the feature cache ${esc(val)} cannot be used \\(${esc(val)} is corrupt`));
    expect(r2.val).toEqual(r1.val);
    expect(readFileSync(val).equals(good)).toBe(true); // rewritten whole, same features
    flipByte(join(copyDir, "train.ltf"), 0.5);
    expect(await main(["classify", "--features", copyDir, "--method", "ncm"])).toBe(1);
    expect(err.join("\n")).toMatch(
      new RegExp(`${esc(join(copyDir, "train.ltf"))} is corrupt: .*Delete it and write it again`),
    );
  });

  it("results.json, manifest.json and config.yaml with a changed value are refused, naming the file", async () => {
    const dir = copy(base, "json");
    const res = join(dir, "results.json");
    writeFileSync(
      res,
      readFileSync(res, "utf8").replace(/"top1": ([\d.]+)/, (_m, v) => `"top1": ${Number(v) + 1}`),
    );
    expect(() => readJson(res)).toThrow(new RegExp(`${esc(res)} is corrupt: its content does not match its checksum`));
    const man = join(dir, "manifest.json");
    writeFileSync(man, readFileSync(man, "utf8").replace(/"seed": 1/, '"seed": 2'));
    expect(() => assertFinishedStage1Run(dir)).toThrow(new RegExp(`${esc(man)} is corrupt`));

    const dir2 = copy(part, "cfg-edit");
    const cfgFile = join(dir2, "config.yaml");
    writeFileSync(cfgFile, readFileSync(cfgFile, "utf8").replace("batch_size: 16", "batch_size: 8"));
    const before = snapshot(dir2);
    await expect(
      trainStage1({ loaded: s1cfg(), runDir: dir2, dataset: ds, quiet: true, resume: true }),
    ).rejects.toThrow(new RegExp(`${esc(cfgFile)} is corrupt: its content does not match the sha256`));
    expect(snapshot(dir2)).toEqual(before);
  });
});

describe("imported features that cannot be used", () => {
  const folder = (name: string) => {
    const d = join(tmp, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    const n = 40;
    const dim = 8;
    for (const s of ["train", "val", "test"]) {
      const f = new Float32Array(n * dim).map((_, i) => Math.sin(i));
      writeNpy(join(d, `${s}_feats.npy`), f, [n, dim]);
      writeNpy(
        join(d, `${s}_labels.npy`),
        Int32Array.from({ length: n }, (_, i) => i % 4),
        [n],
      );
    }
    writeNpy(join(d, "fc_weight.npy"), new Float32Array(4 * dim).fill(0.1), [4, dim]);
    writeNpy(join(d, "fc_bias.npy"), new Float32Array(4), [4]);
    return d;
  };

  it.each([
    ["NaN", NaN],
    ["Inf", Infinity],
  ])("%s in train_feats.npy: the error names the file and the first bad row", async (_name, bad) => {
    const d = folder(`npy-${_name}`);
    const f = new Float32Array(40 * 8).map((_, i) => Math.sin(i));
    f[3 * 8 + 5] = bad;
    writeNpy(join(d, "train_feats.npy"), f, [40, 8]);
    const err = quietCli();
    expect(await main(["classify", "--features", d, "--method", "ncm"])).toBe(1);
    expect(err.join("\n")).toMatch(new RegExp(`${esc(join(d, "train_feats.npy"))}: row 3 holds ${bad} at column 5`));
  });

  it("fc_weight.npy with the wrong class count and a test label out of range name the file (and split)", async () => {
    const d = folder("npy-classes");
    writeNpy(join(d, "fc_weight.npy"), new Float32Array(3 * 8), [3, 8]);
    writeNpy(join(d, "fc_bias.npy"), new Float32Array(3), [3]);
    const err = quietCli();
    expect(await main(["classify", "--features", d, "--method", "joint"])).toBe(1);
    expect(err.join("\n")).toMatch(
      new RegExp(`${esc(join(d, "fc_weight.npy"))}: the classifier has 3 rows \\(classes\\) but C = 4`),
    );
    const d2 = folder("npy-label");
    writeNpy(
      join(d2, "test_labels.npy"),
      Int32Array.from({ length: 40 }, (_, i) => (i === 7 ? 9 : i % 4)),
      [40],
    );
    expect(await main(["classify", "--features", d2, "--method", "ncm"])).toBe(1);
    expect(err.join("\n")).toMatch(
      new RegExp(`${esc(join(d2, "test_labels.npy"))}: test label 9 at row 7 is outside \\[0, 4\\)`),
    );
  });

  it("a features folder written by ltr test reads back verified", () => {
    const f = readFeatures(join(tmp, "cache", "features", "train.ltf"));
    expect(f.n).toBe(ds.train.size);
  });
});
