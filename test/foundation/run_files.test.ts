import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/load.js";
import { writeFileAtomic } from "../../src/run/atomic.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/run/checkpoint.js";
import { JsonlLogger } from "../../src/run/logger.js";
import { finishManifest, startManifest } from "../../src/run/manifest.js";
import { openRun } from "../../src/run/rundir.js";

const dir = mkdtempSync(join(tmpdir(), "ltr-run-"));

describe("run files", () => {
  it("checkpoint round trip keeps tensors bit-exact and the metadata", () => {
    const w = new Float32Array([1.5, -2.25, 3e-8, Math.PI]);
    const b = new Float32Array([0.1, 0.2, 0.3]);
    const p = join(dir, "a.ckpt");
    saveCheckpoint(p, {
      tensors: { "fc.weight": { shape: [2, 2], data: w }, "fc.bias": { shape: [3], data: b } },
      meta: { epoch: 3, rng: [1, 2, 3, 4] },
    });
    const ck = loadCheckpoint<{ epoch: number; rng: number[] }>(p);
    expect(ck.meta).toEqual({ epoch: 3, rng: [1, 2, 3, 4] });
    expect(ck.tensors["fc.weight"].shape).toEqual([2, 2]);
    expect(Array.from(ck.tensors["fc.weight"].data)).toEqual(Array.from(w));
    expect(Array.from(ck.tensors["fc.bias"].data)).toEqual(Array.from(b));
    // no temporary files are left behind by the atomic write
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("rejects a truncated or foreign checkpoint with the path named", () => {
    const p = join(dir, "b.ckpt");
    saveCheckpoint(p, { tensors: { x: { shape: [1000], data: new Float32Array(1000) } }, meta: {} });
    const buf = readFileSync(p);
    writeFileSync(p, buf.subarray(0, buf.length - 100));
    expect(() => loadCheckpoint(p)).toThrow(/b\.ckpt is truncated/);
    writeFileSync(p, "hello world, not a checkpoint");
    expect(() => loadCheckpoint(p)).toThrow(/b\.ckpt is not a decoupling-lt checkpoint/);
    expect(() => saveCheckpoint(p, { tensors: { x: { shape: [3], data: new Float32Array(2) } }, meta: {} })).toThrow(
      /shape \[3\]/,
    );
  });

  it("an atomic write replaces the old content whole", () => {
    const p = join(dir, "c.txt");
    writeFileAtomic(p, "old");
    writeFileAtomic(p, [new Uint8Array([110, 101]), new Uint8Array([119])]);
    expect(readFileSync(p, "utf8")).toBe("new");
  });

  it("manifest records config hash, seed, data hash, versions, git and wall time", () => {
    const { config, hash } = resolveConfig({ seed: 7 }, "x.yaml");
    const m0 = startManifest({
      kind: "stage1",
      name: "t",
      config,
      configSource: "x.yaml",
      configOverrides: [],
      configHash: hash,
      seed: 7,
      data: { dataset: "FashionMNIST_LT", sha256: "ab" },
      backend: null,
    });
    expect(m0.status).toBe("running");
    expect(m0.versions["@tensorflow/tfjs"]).toBe("4.22.0");
    expect(m0.versions["decoupling-lt"]).toBeDefined();
    expect(m0.machine.cores).toBeGreaterThan(0);
    const m = finishManifest(m0, "finished", { top1: 0.5 });
    expect(m.config_hash).toBe(hash);
    expect(m.seed).toBe(7);
    expect(m.data.sha256).toBe("ab");
    expect(m.wall_time_s).toBeGreaterThanOrEqual(0);
    expect(m.summary).toEqual({ top1: 0.5 });
    expect(Date.parse(m.ended_at!)).toBeGreaterThanOrEqual(Date.parse(m.started_at));
  });

  it("openRun locks the folder, writes the resolved config, and refuses to overwrite a run without --resume", () => {
    const { config, hash } = resolveConfig({}, "d");
    const rd = join(dir, "run1");
    const r = openRun(config, rd, false);
    expect(readFileSync(r.paths.config, "utf8")).toContain("batch_size: 128");
    expect(() => openRun(config, rd, false)).toThrow(/already open in this process/);
    r.logger.log("epoch", { epoch: 0, loss: 1.5 });
    expect(JSON.parse(readFileSync(r.paths.log, "utf8").trim())).toMatchObject({ kind: "epoch", epoch: 0, loss: 1.5 });
    r.begin(
      startManifest({
        kind: "stage1",
        name: "t",
        config,
        configSource: "d",
        configOverrides: [],
        configHash: hash,
        seed: 0,
        data: { dataset: "FashionMNIST_LT", sha256: null },
        backend: null,
      }),
    );
    saveCheckpoint(r.paths.latest, {
      tensors: {},
      meta: {
        epoch: 0,
        bestEpoch: -1,
        bestAcc: -1,
        samplerState: null,
        rngState: [1, 2, 3, 4],
        history: [],
        run_id: r.runId,
      },
    });
    r.finish("interrupted");
    expect(() => openRun(config, rd, false)).toThrow(/--resume/);
    const again = openRun(config, rd, true);
    expect(again.resumed).toBe(true);
    expect(again.runId).toBe(r.runId);
    again.close();
    new JsonlLogger(join(dir, "deep", "log.jsonl")).log("info", { a: 1 });
  });
});
