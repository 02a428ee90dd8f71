/**
 * Stage-1 model selection, as properties of the method (spec: keep the weights with the best val top-1, then test
 * those weights once):
 *  - the best epoch is the best on val: not always the first, not the last (val shows real images only at epoch 1
 *    of 3, so epoch 1 must win whatever the training curve);
 *  - the test score is that of the best epoch's weights (an independent evaluation of the weights after epoch 1 of
 *    an interrupted copy of the run), not the last epoch's;
 *  - nothing chosen or reported on val depends on the test labels: with the test labels corrupted, the best epoch,
 *    every val number of every epoch and the best weights are bit-identical.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { evaluate } from "../../src/metrics.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { buildBackbone, buildDataset, buildHead } from "../../src/train/build.js";
import { runPass } from "../../src/train/evaluate.js";
import { InterruptedRun, loadWeights } from "../../src/train/loop.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { realOnlyOnPass, withCorruptTest } from "../helpers/splits.js";
import { writeLearnableFmnist } from "../helpers/synthetic_fmnist.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-selection-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = writeLearnableFmnist(join(tmp, "data"));

// 10 classes, 40 … 4 training images (159), 10 val images per class, 200 test images; 3 epochs of 9 steps.
const loaded = () =>
  resolveConfig(
    {
      seed: 4,
      backend: "wasm",
      training_opt: { dataset: "FashionMNIST_LT", num_classes: 10, batch_size: 16, num_epochs: 3, eval_batch_size: 50 },
      dataset: { root: dataDir, imb_factor: 10, n_max: 40, val_per_class: 10 },
      networks: { feat_model: { type: "resnet8", optim_params: { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 } } },
    },
    "selection.yaml",
  );

const BEST = 1;
let ds: Dataset;
/** The dataset as each run sees it: val real only at epoch BEST (a fresh pass counter per run). */
const valAtBest = (d: Dataset): Dataset => ({ ...d, val: realOnlyOnPass(d.val, BEST) });

interface Results {
  best_epoch: number;
  val: Record<string, number>;
  test: Record<string, number>;
  val_per_class: number[];
  test_per_class: number[];
}
const results = (dir: string) => JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as Results;
const epochVals = (dir: string) =>
  readFileSync(join(dir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((l) => l.kind === "epoch")
    .map((l) => ({ epoch: l.epoch, val: l.val }));

/** Test evaluation of a checkpoint's weights, computed here (not by the stage-1 code). */
async function testOf(ckpt: string) {
  const cfg = loaded().config;
  const backbone = buildBackbone(cfg, ds);
  const head = buildHead(cfg, backbone.featDim, ds.numClasses);
  try {
    loadWeights(backbone, head, loadCheckpoint(ckpt), ckpt);
    const pass = await runPass({ backbone, head, split: ds.test, batchSize: 50 });
    return evaluate(pass.preds!, pass.labels, ds.trainCounts);
  } finally {
    backbone.dispose();
    head.dispose();
  }
}

const full = join(tmp, "full");
beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(loaded().config);
  await trainStage1({ loaded: loaded(), runDir: full, dataset: valAtBest(ds), quiet: true });
});

describe("stage 1 selects on val and reports test for the selected weights", () => {
  it("the best epoch is the val-best one: not the first, not the last", () => {
    const r = results(full);
    const vals = epochVals(full);
    expect(vals.map((v) => v.epoch)).toEqual([0, 1, 2]);
    // constant images at epochs 0 and 2 score chance, 10 %; epoch 1 sees the real val images
    expect(vals[0].val.top1).toBe(10);
    expect(vals[2].val.top1).toBe(10);
    expect(vals[BEST].val.top1).toBeGreaterThan(10);
    expect(r.best_epoch).toBe(BEST);
    expect(r.val).toEqual(vals[BEST].val);
  });

  it("best.ckpt holds the weights after epoch 1, and the reported test score is theirs, not the last epoch's", async () => {
    const before = tf.memory().numTensors;
    // An independent copy of the run stopped after epoch 1: its latest.ckpt is the epoch-1 state.
    const cut = join(tmp, "cut");
    await expect(
      trainStage1({ loaded: loaded(), runDir: cut, dataset: valAtBest(ds), quiet: true, stopAfterEpochs: BEST + 1 }),
    ).rejects.toBeInstanceOf(InterruptedRun);
    const epoch1 = loadCheckpoint(join(cut, "latest.ckpt"));
    const best = loadCheckpoint(join(full, "best.ckpt"));
    // best.ckpt holds the whole resumable state at the best epoch (weights and optimiser), i.e. the epoch-1 latest.ckpt.
    const weightKeys = Object.keys(epoch1.tensors);
    expect(
      weightKeys.some((k) => k.startsWith("feat_model.")) && weightKeys.some((k) => k.startsWith("classifier.")),
    ).toBe(true);
    expect(Object.keys(best.tensors).sort()).toEqual(weightKeys.sort());
    for (const k of weightKeys)
      expect(Buffer.from(best.tensors[k].data.buffer).equals(Buffer.from(epoch1.tensors[k].data.buffer)), k).toBe(true);

    const r = results(full);
    const ofBest = await testOf(join(cut, "latest.ckpt"));
    const ofLast = await testOf(join(full, "latest.ckpt"));
    expect(r.test.top1).toBe(Math.round(ofBest.top1 * 10000) / 100);
    expect(r.test_per_class).toEqual(ofBest.perClass);
    // the check can tell the two apart: the last epoch's weights score differently on test
    expect(ofLast.perClass).not.toEqual(ofBest.perClass);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("corrupting the test labels changes no selection and no val number, only the test numbers", async () => {
    const bad = join(tmp, "corrupt-test");
    await trainStage1({ loaded: loaded(), runDir: bad, dataset: valAtBest(withCorruptTest(ds)), quiet: true });
    const a = results(full);
    const b = results(bad);
    expect(b.best_epoch).toBe(a.best_epoch);
    expect(b.val).toEqual(a.val);
    expect(b.val_per_class).toEqual(a.val_per_class);
    expect(epochVals(bad)).toEqual(epochVals(full));
    const wa = loadCheckpoint(join(full, "best.ckpt")).tensors;
    const wb = loadCheckpoint(join(bad, "best.ckpt")).tensors;
    for (const k of Object.keys(wa))
      expect(Buffer.from(wb[k].data.buffer).equals(Buffer.from(wa[k].data.buffer)), k).toBe(true);
    // ... while the test numbers did see the corruption
    expect(b.test.top1).not.toBe(a.test.top1);
  });
});
