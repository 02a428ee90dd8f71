/**
 * Stage 2 as the method defines it, end to end through trainStage2 on a real stage-1 run:
 *  - selection (best epoch, τ) and every val number depend on val only: corrupting the test labels changes the
 *    test numbers and nothing else, for all five classifiers on features and for cRT on images;
 *  - images mode: the representation is frozen — the backbone after stage 2 is bit-identical to the stage-1 best
 *    weights (BN in eval mode: every tensor; BN in train mode, as the original code: every trained parameter, while
 *    the running statistics move); the best val epoch is selected (val shows real images only at epoch 1 of 3) and
 *    the test score is that of its weights;
 *  - images-mode cRT starts from a fresh nn.Linear (U(±1/√d), independent of the stage-1 classifier, trained or
 *    initial); LWS keeps the stage-1 weight and bias exactly.
 */

import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { evaluate } from "../../src/metrics.js";
import { LinearClassifier } from "../../src/models/linear.js";
import { loadCheckpoint, type TensorData } from "../../src/run/checkpoint.js";
import { buildBackbone, buildDataset, buildHead } from "../../src/train/build.js";
import { runPass } from "../../src/train/evaluate.js";
import { loadWeights } from "../../src/train/loop.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { trainStage2 } from "../../src/train/stage2.js";
import { realOnlyOnPass, withCorruptTest } from "../helpers/splits.js";
import { forStage2 } from "../helpers/stage2.js";
import { correlation, expectUniform } from "../helpers/stats.js";
import { writeLearnableFmnist } from "../helpers/synthetic_fmnist.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-s2props-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = writeLearnableFmnist(join(tmp, "data"));
const stage1Dir = join(tmp, "feat_uniform");

const base = {
  seed: 5,
  backend: "wasm",
  training_opt: { dataset: "FashionMNIST_LT", num_classes: 10, batch_size: 16, num_epochs: 3, eval_batch_size: 50 },
  dataset: { root: dataDir, imb_factor: 10, n_max: 40, val_per_class: 10 },
  networks: { feat_model: { type: "resnet8", optim_params: { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 } } },
};
const stage1Cfg = () => resolveConfig(base, "feat_uniform.yaml");
/** A stage-2 config on `modelDir`; `lr` of the classifier (tiny to look at the initialisation). */
const s2 = (method: string, stage2: Record<string, unknown> = {}, modelDir = stage1Dir, lr = 0.05) =>
  resolveConfig(
    forStage2(
      {
        ...base,
        model_dir: modelDir,
        networks: {
          feat_model: { type: "resnet8", fix: true },
          classifier: { optim_params: { lr, momentum: 0.9, weight_decay: 5e-4 } },
        },
        training_opt: {
          ...base.training_opt,
          num_epochs: 3,
          stage: `cls_${method}`,
          sampler: { type: "class_balanced", num_samples_cls: 4 },
        },
        stage2: { method, ...stage2 },
      },
      method,
    ),
    `cls_${method}.yaml`,
  );

let ds: Dataset;
beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(stage1Cfg().config);
  await trainStage1({ loaded: stage1Cfg(), runDir: stage1Dir, dataset: ds, quiet: true });
});

const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));
const stage1Best = () => loadCheckpoint(join(stage1Dir, "best.ckpt")).tensors;
const same = (a: TensorData, b: TensorData) =>
  Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(
    Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
  );
const backboneKeys = (t: Record<string, TensorData>) =>
  Object.keys(t)
    .filter((k) => k.startsWith("feat_model."))
    .sort();

/** A copy of the stage-1 run without its feature cache (the cache is keyed by checkpoint and data, not labels). */
function freshCopy(name: string): string {
  const dir = join(tmp, name);
  cpSync(stage1Dir, dir, { recursive: true, filter: (src) => !src.includes(`${stage1Dir}/features`) });
  return dir;
}

describe("on features: the test labels reach no choice and no val number", () => {
  it.each(["joint", "ncm", "tau_norm", "crt", "lws"])("%s", async (method) => {
    const before = tf.memory().numTensors;
    const a = await trainStage2({ loaded: s2(method), dataset: ds, quiet: true, runDir: join(tmp, `feat-${method}`) });
    const copy = freshCopy(`s1-copy-${method}`);
    const b = await trainStage2({
      loaded: s2(method, {}, copy),
      dataset: withCorruptTest(ds),
      quiet: true,
      runDir: join(tmp, `feat-${method}-corrupt`),
    });
    expect(tf.memory().numTensors).toBe(before);
    const ra = json(join(a.runDir, "results.json"));
    const rb = json(join(b.runDir, "results.json"));
    expect(rb.val).toEqual(ra.val);
    expect(rb.val_per_class).toEqual(ra.val_per_class);
    expect(rb.weight_norms).toEqual(ra.weight_norms);
    const { testSweep: ta, ...ea } = ra.extra;
    const { testSweep: tb, ...eb } = rb.extra;
    expect(eb).toEqual(ea); // bestEpoch, per-epoch val log, τ, its choice and the val sweep
    if (method === "crt" || method === "lws") {
      expect(ea.bestEpoch).toBeGreaterThanOrEqual(1);
      expect(ea.log).toHaveLength(3);
      const wa = loadCheckpoint(join(a.runDir, "classifier.ckpt")).tensors;
      const wb = loadCheckpoint(join(b.runDir, "classifier.ckpt")).tensors;
      for (const k of Object.keys(wa)) expect(same(wa[k], wb[k]), k).toBe(true);
    }
    if (method === "tau_norm") expect(ea.valSweep).toHaveLength(21);
    // the corruption did reach the test numbers
    expect(rb.test_per_class).not.toEqual(ra.test_per_class);
    if (ta) expect(tb).not.toEqual(ta);
  });
});

/** Test evaluation of a stage-2 images-mode checkpoint (backbone + linear head), computed here. */
async function testOf(ckpt: string) {
  const cfg = stage1Cfg().config;
  const backbone = buildBackbone(cfg, ds);
  const head = new LinearClassifier({ featDim: backbone.featDim, numClasses: ds.numClasses, seed: 0 });
  try {
    loadWeights(backbone, head, loadCheckpoint(ckpt), ckpt);
    const pass = await runPass({ backbone, head, split: ds.test, batchSize: 50 });
    return evaluate(pass.preds!, pass.labels, ds.trainCounts);
  } finally {
    backbone.dispose();
    head.dispose();
  }
}

describe("on images (frozen backbone, augmented class-balanced batches)", () => {
  const BEST = 1;
  const valAtBest = (d: Dataset): Dataset => ({ ...d, val: realOnlyOnPass(d.val, BEST) });
  let crtDir = "";
  beforeAll(async () => {
    crtDir = join(tmp, "img-crt");
    await trainStage2({ loaded: s2("crt", { input: "images" }), dataset: valAtBest(ds), quiet: true, runDir: crtDir });
  });

  it("cRT selects the val-best epoch (not the first, not the last) and reports test for its weights", async () => {
    const r = json(join(crtDir, "results.json"));
    expect(r.input).toBe("images");
    expect(r.extra.log.map((l: { val: { top1: number } }) => l.val.top1)[0]).toBe(10);
    expect(r.extra.log[2].val.top1).toBe(10);
    expect(r.extra.bestEpoch).toBe(BEST);
    expect(loadCheckpoint<{ epoch: number }>(join(crtDir, "best.ckpt")).meta.epoch).toBe(BEST);
    const ofBest = await testOf(join(crtDir, "best.ckpt"));
    const ofLast = await testOf(join(crtDir, "latest.ckpt"));
    expect(r.test_per_class).toEqual(ofBest.perClass);
    expect(ofLast.perClass).not.toEqual(ofBest.perClass);
  });

  it("cRT: corrupting the test labels changes no selection and no val number", async () => {
    const dir = join(tmp, "img-crt-corrupt");
    await trainStage2({
      loaded: s2("crt", { input: "images" }),
      dataset: valAtBest(withCorruptTest(ds)),
      quiet: true,
      runDir: dir,
    });
    const a = json(join(crtDir, "results.json"));
    const b = json(join(dir, "results.json"));
    expect(b.extra).toEqual(a.extra);
    expect(b.val).toEqual(a.val);
    expect(b.val_per_class).toEqual(a.val_per_class);
    expect(b.test_per_class).not.toEqual(a.test_per_class);
  });

  it("bn_mode eval: every backbone tensor (parameters and BN statistics) is bit-identical to stage 1's best", () => {
    const s1 = stage1Best();
    for (const f of ["best.ckpt", "latest.ckpt"]) {
      const t = loadCheckpoint(join(crtDir, f)).tensors;
      expect(backboneKeys(t)).toEqual(backboneKeys(s1));
      for (const k of backboneKeys(s1)) expect(same(t[k], s1[k]), `${f} ${k}`).toBe(true);
    }
  });

  it("bn_mode train (the original code): every trained backbone parameter is bit-identical; only BN statistics move", async () => {
    const dir = join(tmp, "img-crt-bntrain");
    await trainStage2({
      loaded: s2("crt", { input: "images", bn_mode: "train" }),
      dataset: ds,
      quiet: true,
      runDir: dir,
    });
    const s1 = stage1Best();
    const net = buildBackbone(stage1Cfg().config, ds);
    const params = [...net.trainable().keys()].map((k) => `feat_model.${k}`);
    const stats = [...net.buffers().keys()].map((k) => `feat_model.${k}`);
    net.dispose();
    expect(params.length).toBeGreaterThan(0);
    const t = loadCheckpoint(join(dir, "latest.ckpt")).tensors;
    for (const k of params) expect(same(t[k], s1[k]), k).toBe(true);
    expect(stats.some((k) => !same(t[k], s1[k]))).toBe(true);
  });

  it("cRT's head is a fresh nn.Linear draw: U(±1/√d), independent of the stage-1 classifier, trained or initial", async () => {
    // lr 1e-9: the saved head is its initialisation to ~1e-9.
    const dir = join(tmp, "img-crt-init");
    await trainStage2({
      loaded: s2("crt", { input: "images" }, stage1Dir, 1e-9),
      dataset: ds,
      quiet: true,
      runDir: dir,
    });
    const head = loadCheckpoint(join(dir, "classifier.ckpt")).tensors;
    const w = head["classifier.fc.weight"].data;
    const d = 64;
    expect(w.length).toBe(10 * d);
    expectUniform(w, 1 / Math.sqrt(d), "cRT fc.weight");
    expect(Math.max(...Array.from(head["classifier.fc.bias"].data, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(d));
    const bound = 4 / Math.sqrt(w.length);
    expect(
      Math.abs(correlation(w, stage1Best()["classifier.fc.weight"].data)),
      "vs the trained stage-1 classifier",
    ).toBeLessThan(bound);
    const init = buildHead(stage1Cfg().config, d, 10) as LinearClassifier;
    expect(Math.abs(correlation(w, init.weight.dataSync())), "vs stage 1's initial classifier").toBeLessThan(bound);
    init.dispose();
  });

  it("LWS keeps the stage-1 weight and bias bit for bit (and the backbone); its scales start at 1", async () => {
    const dir = join(tmp, "img-lws");
    await trainStage2({
      loaded: s2("lws", { input: "images" }, stage1Dir, 1e-9),
      dataset: ds,
      quiet: true,
      runDir: dir,
    });
    const s1 = stage1Best();
    for (const f of ["best.ckpt", "latest.ckpt"]) {
      const t = loadCheckpoint(join(dir, f)).tensors;
      expect(same(t["classifier.fc.weight"], s1["classifier.fc.weight"]), `${f} fc.weight`).toBe(true);
      expect(same(t["classifier.fc.bias"], s1["classifier.fc.bias"]), `${f} fc.bias`).toBe(true);
      for (const k of backboneKeys(s1)) expect(same(t[k], s1[k]), `${f} ${k}`).toBe(true);
    }
    const scales = loadCheckpoint(join(dir, "classifier.ckpt")).tensors["classifier.scales"].data;
    for (const v of scales) expect(Math.abs(v - 1)).toBeLessThan(1e-6);
  });
});
