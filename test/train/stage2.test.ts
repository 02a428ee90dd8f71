import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { readFeatures } from "../../src/features/format.js";
import { buildDataset } from "../../src/train/build.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { classifierOptions, trainStage2 } from "../../src/train/stage2.js";
import { forStage2 } from "../helpers/stage2.js";
import { writeSyntheticFmnist } from "../helpers/synthetic_fmnist.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-s2test-"));
const dataDir = writeSyntheticFmnist(join(tmp, "data"));
const stage1Dir = join(tmp, "feat_uniform");
const base = {
  seed: 5,
  backend: "wasm",
  training_opt: { dataset: "FashionMNIST_LT", num_classes: 10, batch_size: 32, num_epochs: 1, eval_batch_size: 64 },
  dataset: { root: dataDir, imb_factor: 10, n_max: 40, val_per_class: 10 },
};
const s2 = (method: string, extra: Record<string, unknown> = {}) =>
  resolveConfig(
    forStage2(
      {
        ...base,
        model_dir: stage1Dir,
        networks: { feat_model: { type: "resnet8", fix: true } },
        training_opt: {
          ...base.training_opt,
          num_epochs: 2,
          stage: `cls_${method}`,
          sampler: { type: "class_balanced" },
        },
        stage2: { method, ...extra },
      },
      method,
    ),
    `cls_${method}.yaml`,
  );

let ds: Dataset;
beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(resolveConfig(base, "x").config);
  await trainStage1({ loaded: resolveConfig(base, "feat_uniform.yaml"), runDir: stage1Dir, dataset: ds, quiet: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("stage 2 from a stage-1 run", () => {
  it.each(["joint", "ncm", "tau_norm", "crt", "lws"])(
    "%s on features writes results and a manifest, no leaks",
    async (method) => {
      const before = tf.memory().numTensors;
      const r = await trainStage2({ loaded: s2(method), dataset: ds, quiet: true });
      expect(tf.memory().numTensors).toBe(before);
      expect(r.runDir).toBe(join(stage1Dir, `cls_${method}_seed5`));
      const res = JSON.parse(readFileSync(join(r.runDir, "results.json"), "utf8"));
      expect(res.method).toBe(method);
      expect(res.test.n).toBe(200);
      expect(res.weight_norms).toHaveLength(10);
      expect(JSON.parse(readFileSync(join(r.runDir, "manifest.json"), "utf8")).status).toBe("finished");
      if (method === "tau_norm") {
        expect(res.extra.valSweep).toHaveLength(21);
        expect(res.extra.tau).toBeGreaterThanOrEqual(0);
      }
      if (method === "crt" || method === "lws") {
        expect(existsSync(join(r.runDir, "classifier.ckpt"))).toBe(true);
        // each epoch's record goes to log.jsonl (the console gets one readable line instead)
        const epochs = readFileSync(join(r.runDir, "log.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .filter((l) => l.kind === "epoch");
        expect(epochs.map((e) => [e.method, e.epoch])).toEqual([
          [method, 1],
          [method, 2],
        ]);
        expect(epochs[1].valTop1).toBe(res.extra.log[1].valTop1);
      }
    },
  );

  it("features are extracted once and cached in the stage-1 run, keyed by its checkpoint", () => {
    const f = readFeatures(join(stage1Dir, "features", "train.ltf"));
    expect(f.n).toBe(ds.train.size);
    expect(f.dim).toBe(64);
    expect(f.meta.split).toBe("train_plain");
  });

  it.each(["crt", "lws"])("%s in images mode (frozen backbone, augmentation) trains and evaluates", async (method) => {
    const before = tf.memory().numTensors;
    const r = await trainStage2({
      loaded: s2(method, { input: "images" }),
      dataset: ds,
      quiet: true,
      runDir: join(tmp, `img_${method}`),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.test.n).toBe(200);
    const log = readFileSync(join(tmp, `img_${method}`, "log.jsonl"), "utf8");
    expect(log.split("\n").filter((l) => l.includes('"kind":"epoch"'))).toHaveLength(2);
  });

  it("maps config options to the classifiers and refuses a mismatched stage-1 run", async () => {
    expect(classifierOptions(s2("tau_norm", { tau_grid: { start: 0, stop: 1, step: 0.25 } }).config)).toEqual({
      taus: [0, 0.25, 0.5, 0.75, 1],
    });
    expect(classifierOptions(s2("crt").config)).toMatchObject({
      epochs: 2,
      batchSize: 32,
      lr: 0.05,
      samplesPerClass: 4,
      seed: 5,
    });
    const bad = resolveConfig(
      forStage2(
        {
          ...base,
          model_dir: stage1Dir,
          networks: { feat_model: { type: "resnet20", fix: true } },
          stage2: { method: "ncm" },
        },
        "ncm",
      ),
      "bad.yaml",
    );
    await expect(trainStage2({ loaded: bad, dataset: ds, quiet: true })).rejects.toThrow(
      /bad\.yaml does not match model_dir[\s\S]*resnet20/,
    );
    const missing = resolveConfig(
      forStage2(
        {
          ...base,
          model_dir: join(tmp, "nope"),
          networks: { feat_model: { type: "resnet8", fix: true } },
          stage2: { method: "ncm" },
        },
        "ncm",
      ),
      "m.yaml",
    );
    await expect(trainStage2({ loaded: missing, dataset: ds, quiet: true })).rejects.toThrow(
      /not a finished stage-1 run/,
    );
  });
});
