import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset, Split } from "../../src/data/types.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { buildDataset } from "../../src/train/build.js";
import { DivergenceError, InterruptedRun } from "../../src/train/loop.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { writeSyntheticFmnist } from "../helpers/synthetic_fmnist.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-stage1-"));
const dataDir = writeSyntheticFmnist(join(tmp, "data"));

// 10 classes, counts 40 ... 4 (imbalance factor 10), 10 val images per class: a few hundred images, 2 epochs.
function cfg(extra: Record<string, unknown> = {}, overrides: string[] = []) {
  return resolveConfig(
    {
      seed: 3,
      backend: "wasm",
      training_opt: { dataset: "FashionMNIST_LT", num_classes: 10, batch_size: 32, num_epochs: 2, eval_batch_size: 64 },
      dataset: { root: dataDir, imb_factor: 10, n_max: 40, val_per_class: 10 },
      networks: { feat_model: { type: "resnet8", optim_params: { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 } } },
      ...extra,
    },
    "test-config",
    overrides,
  );
}

let ds: Dataset;
beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(cfg().config);
});

describe("stage-1 training end to end (wasm backend)", () => {
  it("trains, the loss falls, writes the run folder, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const dir = join(tmp, "run-a");
    const r = await trainStage1({ loaded: cfg(), runDir: dir, dataset: ds, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const log = readFileSync(join(dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const epochs = log.filter((l) => l.kind === "epoch");
    expect(epochs).toHaveLength(2);
    expect(epochs[1].train_loss).toBeLessThan(epochs[0].train_loss);
    expect(epochs[0].lr.feat_model).toBeCloseTo(0.05);
    expect(epochs[1].lr.feat_model).toBeCloseTo(0.025); // cosine: lr0·½(1+cos(π·1/2))
    for (const f of ["config.yaml", "latest.ckpt", "best.ckpt", "results.json", "manifest.json"])
      expect(existsSync(join(dir, f))).toBe(true);
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(m.status).toBe("finished");
    expect(m.backend.name).toBe("wasm");
    expect(m.data.sha256).toBe(ds.manifest.indicesSha256);
    expect(m.summary.test.top1).toBe(r.test.top1);
    expect(r.test.n).toBe(200);
    expect(r.bestEpoch).toBeGreaterThanOrEqual(0);
  });

  it("an interrupted run resumed with --resume ends with exactly the weights of an uninterrupted one", async () => {
    const full = join(tmp, "run-a");
    const part = join(tmp, "run-b");
    await expect(
      trainStage1({ loaded: cfg(), runDir: part, dataset: ds, quiet: true, stopAfterEpochs: 1 }),
    ).rejects.toBeInstanceOf(InterruptedRun);
    expect(JSON.parse(readFileSync(join(part, "manifest.json"), "utf8")).status).toBe("interrupted");
    await expect(trainStage1({ loaded: cfg(), runDir: part, dataset: ds, quiet: true })).rejects.toThrow(/--resume/);
    await trainStage1({ loaded: cfg(), runDir: part, dataset: ds, quiet: true, resume: true });
    const a = loadCheckpoint(join(full, "latest.ckpt"));
    const b = loadCheckpoint(join(part, "latest.ckpt"));
    expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
    for (const k of Object.keys(a.tensors))
      expect(Array.from(b.tensors[k].data), k).toEqual(Array.from(a.tensors[k].data));
    const strip = (f: string) => ({
      ...JSON.parse(readFileSync(join(f, "results.json"), "utf8")),
      images_per_s: 0,
      checksum: undefined,
    });
    expect(strip(part)).toEqual(strip(full));
  });

  it("a NaN loss stops the run naming epoch and step, keeping the last good checkpoint", async () => {
    // Poison the second epoch's batches: the first epoch completes and checkpoints, then the loss turns NaN.
    let calls = 0;
    const steps = Math.floor(ds.train.size / 32);
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
      train,
      name: ds.name,
      numClasses: ds.numClasses,
      classNames: ds.classNames,
      inputShape: ds.inputShape,
      trainCounts: ds.trainCounts,
      val: ds.val,
      test: ds.test,
      manifest: ds.manifest,
    };
    const dir = join(tmp, "run-nan");
    const before = tf.memory().numTensors;
    const err = await trainStage1({ loaded: cfg(), runDir: dir, dataset: poisoned, quiet: true }).catch((e) => e);
    if (!(err instanceof DivergenceError)) console.error(err);
    expect(err).toBeInstanceOf(DivergenceError);
    expect(err.message).toMatch(/epoch 2, step 1/);
    expect(loadCheckpoint<{ epoch: number }>(join(dir, "latest.ckpt")).meta.epoch).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).status).toBe("failed");
    expect(tf.memory().numTensors).toBe(before);
  });
});
