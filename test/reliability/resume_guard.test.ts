/**
 * Resume is guarded: a changed key that alters training is refused (listing every differing key) before anything
 * in the folder is rewritten; a finished run is never restarted; a missing latest.ckpt never starts a run over its
 * best.ckpt and results; stage 2 and ltr test need a finished stage-1 run; the feature cache follows the val split;
 * divergence (non-finite or exploding loss) stops the run naming a checkpoint that exists.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset, Split } from "../../src/data/types.js";
import { readCheckpointMeta } from "../../src/run/checkpoint.js";
import { readManifest, writeManifest } from "../../src/run/manifest.js";
import { resumeDiff } from "../../src/run/runconfig.js";
import { buildDataset } from "../../src/train/build.js";
import { DivergenceError, divergenceReason } from "../../src/train/divergence.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { classifyRun, trainStage2 } from "../../src/train/stage2.js";
import { manifestOf, snapshot, tempDir, tinyConfig, tinyData, tinyStage2 } from "./helpers.js";

const tmp = tempDir("guard");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = tinyData(join(tmp, "data"));
const s1cfg = (extra: Record<string, unknown> = {}, overrides: string[] = []) =>
  resolveConfig(tinyConfig({ dataset: { root: data }, ...extra }), "feat.yaml", overrides);
const s2cfg = (modelDir: string, method: string, overrides: string[] = []) =>
  tinyStage2(data, modelDir, method, overrides);
const base = join(tmp, "base");
const part = join(tmp, "part");
let ds: Dataset;
const copy = (from: string, name: string) => {
  const to = join(tmp, name);
  cpSync(from, to, { recursive: true });
  return to;
};

beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(s1cfg().config);
  await trainStage1({ loaded: s1cfg(), runDir: base, dataset: ds, quiet: true });
  await trainStage1({ loaded: s1cfg(), runDir: part, dataset: ds, quiet: true, stopAfterEpochs: 1 }).catch(
    () => undefined,
  );
});

describe("resume with changed keys", () => {
  it("refuses lr, batch size, val_per_class and sampler changes, listing each, and rewrites nothing", async () => {
    const dir = copy(part, "changed");
    const before = snapshot(dir);
    const changed = s1cfg({}, [
      "networks.feat_model.optim_params.lr=0.2",
      "training_opt.batch_size=8",
      "dataset.val_per_class=6",
      "training_opt.sampler={type: class_balanced}",
    ]);
    const err = (await trainStage1({ loaded: changed, runDir: dir, dataset: ds, quiet: true, resume: true }).then(
      () => null,
      (e: Error) => e,
    ))!;
    expect(err.message).toMatch(/cannot resume .*changed: the config differs from the run's own/);
    for (const k of [
      "networks.feat_model.optim_params.lr: 0.1 in the run, 0.2 now",
      "training_opt.batch_size: 16 in the run, 8 now",
      "dataset.val_per_class: 5 in the run, 6 now",
      "training_opt.sampler: null in the run",
    ])
      expect(err.message).toContain(k);
    expect(err.message).toMatch(/Only these keys may change on resume: training_opt\.num_epochs/);
    expect(snapshot(dir)).toEqual(before);
    // Resuming with the run's own settings works.
    await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true });
    expect(manifestOf(dir).status).toBe("finished");
  });

  it("a changed backend setting is accepted only when the backend in use is the run's", () => {
    const a = s1cfg().config;
    const b = s1cfg({ backend: "auto" }).config;
    expect(resumeDiff(a, b, true)).toEqual({ safe: { backend: { from: "wasm", to: "auto" } }, problems: [] });
    expect(resumeDiff(a, b, false).problems).toEqual([
      'backend: "wasm" in the run, "auto" now (and the backend in use is not the one the run was trained on)',
    ]);
  });

  it("accepts num_epochs extension (also of a finished run), refuses a decrease, records the change", async () => {
    const dir = copy(base, "extend");
    const bestBefore = readCheckpointMeta<{ val_top1: number; epoch: number }>(join(dir, "best.ckpt"))!;
    await expect(
      trainStage1({
        loaded: s1cfg({}, ["training_opt.num_epochs=2"]),
        runDir: dir,
        dataset: ds,
        quiet: true,
        resume: true,
      }),
    ).rejects.toThrow(/training_opt\.num_epochs: 3 in the run, 2 now \(num_epochs may only be increased on resume\)/);
    const r = await trainStage1({
      loaded: s1cfg({}, ["training_opt.num_epochs=4"]),
      runDir: dir,
      dataset: ds,
      quiet: true,
      resume: true,
    });
    const m = manifestOf(dir) as {
      status: string;
      resumes: { from_epoch: number; changed: Record<string, unknown> }[];
    };
    expect(m.status).toBe("finished");
    expect(m.resumes.at(-1)).toMatchObject({
      from_epoch: 3,
      changed: { "training_opt.num_epochs": { from: 3, to: 4 } },
    });
    const bestAfter = readCheckpointMeta<{ val_top1: number; epoch: number }>(join(dir, "best.ckpt"))!;
    expect(bestAfter.val_top1).toBeGreaterThanOrEqual(bestBefore.val_top1);
    if (bestAfter.epoch !== bestBefore.epoch) expect(bestAfter.val_top1).toBeGreaterThan(bestBefore.val_top1);
    expect(r.bestEpoch).toBe(bestAfter.epoch);
  });
});

describe("finished runs and missing checkpoints are never restarted", () => {
  it("a finished run: without --resume, and with --resume but nothing to extend, is refused and kept", async () => {
    const dir = copy(base, "finished");
    const before = snapshot(dir);
    await expect(trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true })).rejects.toThrow(
      /already holds a finished run \(best epoch \d, val top-1 [\d.]+, test top-1 [\d.]+\); it is kept/,
    );
    await expect(trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true })).rejects.toThrow(
      /is already finished .*nothing to resume. To train it longer/,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it("latest.ckpt missing beside a finished run's best.ckpt and results: refused, best.ckpt untouched", async () => {
    const dir = copy(base, "no-latest");
    rmSync(join(dir, "latest.ckpt"));
    const before = snapshot(dir);
    await expect(
      trainStage1({
        loaded: s1cfg({}, ["training_opt.num_epochs=5"]),
        runDir: dir,
        dataset: ds,
        quiet: true,
        resume: true,
      }),
    ).rejects.toThrow(
      /latest\.ckpt is missing but the folder holds best\.ckpt and results\.json of this run; starting again would replace them.*cp \S+best\.ckpt \S+latest\.ckpt/,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it("an unfinished run without --resume, and --resume on an empty folder, are refused", async () => {
    const dir = copy(part, "unfinished");
    await expect(trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true })).rejects.toThrow(
      /already holds an unfinished run \(status interrupted, last checkpoint at epoch 1 of 3\); pass --resume/,
    );
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    await expect(
      trainStage1({ loaded: s1cfg(), runDir: empty, dataset: ds, quiet: true, resume: true }),
    ).rejects.toThrow(/--resume: .*empty holds no run to resume/);
  });

  it("a best.ckpt of another run is never resumed into or replaced", async () => {
    const dir = copy(part, "mixed");
    // A best.ckpt from another run of the same config (same epoch, another run id).
    const other = join(tmp, "other");
    await trainStage1({ loaded: s1cfg(), runDir: other, dataset: ds, quiet: true, stopAfterEpochs: 1 }).catch(
      () => undefined,
    );
    cpSync(join(other, "best.ckpt"), join(dir, "best.ckpt"));
    const before = snapshot(dir);
    await expect(trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true })).rejects.toThrow(
      /best\.ckpt belongs to another run/,
    );
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("stage 2 and ltr test need a finished stage-1 run", () => {
  it("refuses an interrupted model_dir and a killed one (stale 'running' manifest), naming the resume command", async () => {
    const dir = copy(part, "s1-unfinished");
    await expect(trainStage2({ loaded: s2cfg(dir, "crt"), dataset: ds, quiet: true })).rejects.toThrow(
      /not a finished stage-1 run: its manifest says 'interrupted' after epoch 1.*ltr train --cfg \S+config\.yaml --run-dir \S+ --resume/,
    );
    await expect(classifyRun({ runDir: dir, method: "joint", dataset: ds })).rejects.toThrow(
      /not a finished stage-1 run/,
    );
    expect(existsSync(join(dir, "cls_crt_seed1"))).toBe(false);
    // As after kill -9: the manifest still says running, nobody holds the lock.
    const m = readManifest(join(dir, "manifest.json"));
    writeManifest(join(dir, "manifest.json"), { ...m, status: "running", ended_at: null });
    await expect(trainStage2({ loaded: s2cfg(dir, "ncm"), dataset: ds, quiet: true })).rejects.toThrow(
      /its manifest said 'running' but its process is gone \(it was killed\); manifest\.json now says 'interrupted'.*--resume/,
    );
    // The look corrected the manifest (run status is true on the next look), and kept everything else.
    expect(manifestOf(dir).status).toBe("interrupted");
    expect(String(manifestOf(dir).summary?.error)).toMatch(/ended without closing the run/);
  });

  it("a run killed inside its first latest.ckpt write (best.ckpt only) is refused naming --resume, which continues it", async () => {
    const dir = copy(part, "s1-best-only");
    rmSync(join(dir, "latest.ckpt"));
    const m = readManifest(join(dir, "manifest.json"));
    writeManifest(join(dir, "manifest.json"), { ...m, status: "running", ended_at: null });
    await expect(trainStage2({ loaded: s2cfg(dir, "ncm"), dataset: ds, quiet: true })).rejects.toThrow(
      /not a finished stage-1 run: .*Continue it with: ltr train --cfg \S+config\.yaml --run-dir \S+ --resume/,
    );
    const r = await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true });
    expect(manifestOf(dir).status).toBe("finished");
    expect(r).toBeTruthy();
  });

  it("ltr train that refuses a killed run still corrects its manifest to 'interrupted'", async () => {
    const dir = copy(part, "s1-killed-refused");
    const m = readManifest(join(dir, "manifest.json"));
    writeManifest(join(dir, "manifest.json"), { ...m, status: "running", ended_at: null });
    const before = snapshot(dir);
    await expect(trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true })).rejects.toThrow(
      /already holds an unfinished run \(status interrupted, last checkpoint at epoch 1 of 3\); pass --resume/,
    );
    expect(manifestOf(dir).status).toBe("interrupted");
    const after = snapshot(dir);
    for (const f of ["config.yaml", "latest.ckpt", "best.ckpt", "log.jsonl"]) expect(after.get(f)).toBe(before.get(f));
  });

  it("the feature cache follows the val split: another val_per_class extracts val again (n = 80, not 50)", async () => {
    const dir = copy(base, "s1-cache");
    const a = await trainStage2({ loaded: s2cfg(dir, "ncm"), quiet: true });
    expect(a.val.n).toBe(50);
    const b = await trainStage2({
      loaded: s2cfg(dir, "ncm", ["dataset.val_per_class=8"]),
      quiet: true,
      runDir: join(dir, "ncm-val8"),
    });
    expect(b.val.n).toBe(80);
    expect(b.test.n).toBe(a.test.n);
    // A stage-2 folder that is finished is kept, not run over.
    await expect(trainStage2({ loaded: s2cfg(dir, "ncm"), quiet: true })).rejects.toThrow(
      /already holds a finished run \(stage2-ncm\) .*it is kept/,
    );
  });
});

describe("divergence", () => {
  it("the documented bound: non-finite or > 25·ln C", () => {
    expect(divergenceReason(2.3, 10)).toBeNull();
    expect(divergenceReason(8.7e15, 10)).toMatch(
      /loss 8\.700e\+15 exceeds the bound 57\.6 \(= 25 × ln C for C = 10 classes/,
    );
    expect(divergenceReason(NaN, 10)).toBe("loss is NaN");
  });

  it("lr 300 stops the run in its first epoch, saying no checkpoint was written yet", async () => {
    const dir = join(tmp, "lr300");
    const err = (await trainStage1({
      loaded: s1cfg({}, ["networks.feat_model.optim_params.lr=300", "networks.classifier.optim_params.lr=300"]),
      runDir: dir,
      dataset: ds,
      quiet: true,
    }).then(
      () => null,
      (e: Error) => e,
    ))!;
    expect(err).toBeInstanceOf(DivergenceError);
    // A finite but exploding loss (thousands), not only NaN, is caught.
    expect(err.message).toMatch(/training diverged: loss [\d.e+]+ exceeds the bound 57\.6 .* at epoch 1, step \d+/);
    expect(err.message).toMatch(/no checkpoint had been written yet.*networks\.feat_model\.optim_params\.lr = 300/);
    expect(existsSync(join(dir, "latest.ckpt"))).toBe(false);
    expect(manifestOf(dir)).toMatchObject({ status: "failed" });
  });

  it("a loss that turns NaN in epoch 2 names latest.ckpt of epoch 1, which exists", async () => {
    let calls = 0;
    const steps = Math.floor(ds.train.size / 16);
    const train: Split = {
      name: "train",
      size: ds.train.size,
      labels: ds.train.labels,
      loadBatch: async (idx, opts) => {
        const b = await ds.train.loadBatch(idx, opts);
        if (calls++ >= steps) b.x.fill(NaN);
        return b;
      },
    };
    const poisoned: Dataset = {
      ...ds,
      name: ds.name,
      numClasses: ds.numClasses,
      classNames: ds.classNames,
      inputShape: ds.inputShape,
      trainCounts: ds.trainCounts,
      train,
      val: ds.val,
      test: ds.test,
      manifest: ds.manifest,
    };
    const dir = join(tmp, "explode");
    const err = (await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: poisoned, quiet: true }).then(
      () => null,
      (e: Error) => e,
    ))!;
    expect(err).toBeInstanceOf(DivergenceError);
    expect(err.message).toContain(`the last good checkpoint is kept: ${join(dir, "latest.ckpt")} (end of epoch 1)`);
    expect(readCheckpointMeta<{ epoch: number }>(join(dir, "latest.ckpt"))!.epoch).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).status).toBe("failed");
  });
});
