/**
 * Selection on val, at the classifier registry (the entry every stage-2 path goes through): for each classifier,
 * corrupting the test labels leaves every val number and every choice (best epoch, τ, the learned parameters)
 * unchanged; and the trained heads return the parameters of their best val epoch (the earliest on ties), whose val
 * accuracy is the one they report.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { linearPredict } from "../../src/classifiers/linear.js";
import { classifiers } from "../../src/classifiers/registry.js";
import { corruptFeatureLabels } from "../helpers/splits.js";
import { clusters, randomMatrix, randomSet } from "./helpers.js";

beforeAll(async () => {
  await initBackend("wasm");
});

const C = 4;
const D = 8;
const trainCounts = [120, 40, 12, 5];
const train = clusters(trainCounts, D, 21);
const val = clusters([6, 6, 6, 6], D, 22);
const test = clusters([10, 10, 10, 10], D, 23);
// A weak, long-tail-biased stage-1 classifier: noisy prototype weights, a bias favouring the head classes.
const weight = randomMatrix(C, D, 24, 0.3);
for (let j = 0; j < C; j++) for (let p = 0; p < D; p++) if (p % C === j) weight[j * D + p] += 1 - 0.2 * j;
const stage1 = { weight, bias: Float32Array.from([1.5, 0.5, -0.5, -1.5]) };
const options: Record<string, Record<string, unknown>> = {
  joint: {},
  ncm: {},
  tau_norm: {},
  crt: { epochs: 6, batchSize: 16, lr: 0.1, seed: 3 },
  lws: { epochs: 6, batchSize: 16, lr: 0.1, seed: 3 },
};

describe.each(["joint", "ncm", "tau_norm", "crt", "lws"])("%s", (name) => {
  it("corrupting the test labels changes the test numbers and no val number, choice or parameter", async () => {
    const before = tf.memory().numTensors;
    const run = (t: typeof test) =>
      classifiers.get(name)({ train, val, test: t, trainCounts, numClasses: C, stage1, options: options[name] });
    const a = await run(test);
    const b = await run(corruptFeatureLabels(test, C));
    expect(b.val).toEqual(a.val);
    expect(Array.from(b.weightNorms)).toEqual(Array.from(a.weightNorms));
    const { testSweep: ta, ...ea } = a.extra;
    const { testSweep: tb, ...eb } = b.extra;
    expect(eb).toEqual(ea);
    expect(b.test.perClass).not.toEqual(a.test.perClass);
    if (ta) expect(tb).not.toEqual(ta);
    expect(tf.memory().numTensors).toBe(before);
  });
});

// Scenarios where val peaks strictly inside the run (val rows with random labels; for cRT random training rows too,
// so its weights keep moving), so that "the first epoch" or "the last epoch" would be a different answer.
const peaked: Record<string, { train: typeof train; val: typeof val; counts: number[]; lr: number }> = {
  crt: (() => {
    const t = randomSet(177, D, C, 5);
    return {
      train: t,
      val: randomSet(40, D, C, 40),
      counts: [0, 1, 2, 3].map((j) => t.labels.filter((y) => y === j).length),
      lr: 0.2,
    };
  })(),
  lws: { train, val: randomSet(40, D, C, 42), counts: trainCounts, lr: 0.2 },
};

describe.each(["crt", "lws"])("%s returns its best val epoch", (name) => {
  it("bestEpoch = the earliest arg-max of the per-epoch val log (here neither the first nor the last); the returned parameters score that on val", async () => {
    const sc = peaked[name];
    const r = await classifiers.get(name)({
      train: sc.train,
      val: sc.val,
      test,
      trainCounts: sc.counts,
      numClasses: C,
      stage1,
      options: { epochs: 6, batchSize: 16, lr: sc.lr, seed: 3 },
    });
    const log = r.extra.log as { epoch: number; valTop1: number }[];
    expect(log.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const best = Math.max(...log.map((l) => l.valTop1));
    const bestEpoch = log.findIndex((l) => l.valTop1 === best) + 1;
    expect(bestEpoch).toBeGreaterThan(1);
    expect(log[5].valTop1).toBeLessThan(best);
    expect(r.extra.bestEpoch).toBe(bestEpoch);
    expect(r.extra.bestValTop1).toBe(best);
    expect(r.val.top1).toBeCloseTo(best, 12);
    const lin =
      name === "crt"
        ? { weight: r.extra.weight as Float32Array, bias: r.extra.bias as Float32Array, numClasses: C, dim: D }
        : { ...stage1, scale: r.extra.scales as Float32Array, numClasses: C, dim: D };
    const preds = linearPredict(lin, sc.val.feats, sc.val.n);
    expect(preds.reduce((s, p, i) => s + (p === sc.val.labels[i] ? 1 : 0), 0) / sc.val.n).toBeCloseTo(best, 12);
  });
});
