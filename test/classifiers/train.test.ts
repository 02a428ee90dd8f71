import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { initLinear, trainCrt } from "../../src/classifiers/crt.js";
import { linearLogits, linearPredict } from "../../src/classifiers/linear.js";
import { applyScales, trainLws } from "../../src/classifiers/lws.js";
import { classifiers } from "../../src/classifiers/registry.js";
import { SgdMomentum, softmaxCrossEntropyGrad } from "../../src/classifiers/train-utils.js";
import { cosineLr } from "../../src/schedule.js";
import { clusters, fset } from "./helpers.js";

beforeAll(async () => {
  await initBackend("wasm");
});

const acc = (p: Int32Array, y: Int32Array) => p.reduce((s, v, i) => s + (v === y[i] ? 1 : 0), 0) / y.length;

describe("training pieces", () => {
  it("cosine lr per epoch: lr0·½(1+cos(πe/E))", () => {
    expect(cosineLr(0.2, 0, 10)).toBeCloseTo(0.2, 12);
    expect(cosineLr(0.2, 5, 10)).toBeCloseTo(0.1, 12);
    expect(cosineLr(0.2, 9, 10)).toBeCloseTo(0.1 * (1 + Math.cos((Math.PI * 9) / 10)), 12);
  });

  it("the heads' schedule follows coslr and endlr (config keys honoured, not ignored)", () => {
    const train = clusters([30, 12, 6], 6, 1);
    const val = clusters([5, 5, 5], 6, 2);
    const base = { train, val, numClasses: 3, epochs: 4, batchSize: 8, lr: 0.2, seed: 1 };
    const cos = trainCrt(base).log.map((l) => l.lr);
    expect(cos).toEqual([0, 1, 2, 3].map((e) => cosineLr(0.2, e, 4)));
    expect(trainCrt({ ...base, coslr: false }).log.map((l) => l.lr)).toEqual([0.2, 0.2, 0.2, 0.2]);
    const floored = trainLws({
      ...base,
      stage1: { weight: new Float32Array(3 * train.dim).fill(0.1), bias: new Float32Array(3) },
      endLr: 0.05,
    }).log.map((l) => l.lr);
    expect(floored).toEqual([0, 1, 2, 3].map((e) => cosineLr(0.2, e, 4, 0.05)));
    expect(() => trainCrt({ ...base, endLr: -1 })).toThrow(/crt: endLr must be a non-negative number/);
  });

  it("SGD momentum with coupled weight decay matches PyTorch's update", () => {
    const p = Float32Array.from([1, -2]);
    const opt = new SgdMomentum(2, 0.9, 0.1);
    opt.step(p, Float32Array.from([0.5, 0]), 0.1); // v = g + wd·p = (0.6, -0.2); p = (0.94, -1.98)
    expect(p[0]).toBeCloseTo(0.94, 6);
    expect(p[1]).toBeCloseTo(-1.98, 6);
    opt.step(p, Float32Array.from([0, 0]), 0.1); // v = 0.9·(0.6,-0.2) + 0.1·(0.94,-1.98) = (0.634, -0.378)
    expect(p[0]).toBeCloseTo(0.94 - 0.0634, 6);
    expect(p[1]).toBeCloseTo(-1.98 + 0.0378, 6);
  });

  it("the softmax cross-entropy gradient matches finite differences of the mean loss", () => {
    const z0 = [0.3, -1.2, 2.0, 0.5, 0.1, -0.4];
    const y = [2, 0];
    const loss = (z: number[]) => {
      let s = 0;
      for (let i = 0; i < 2; i++) {
        const r = z.slice(i * 3, i * 3 + 3);
        s += Math.log(r.reduce((a, v) => a + Math.exp(v), 0)) - r[y[i]];
      }
      return s / 2;
    };
    const g = Float32Array.from(z0);
    const r = softmaxCrossEntropyGrad(g, 2, 3, y);
    expect(r.lossSum / 2).toBeCloseTo(loss(z0), 5);
    expect(r.correct).toBe(2);
    for (let k = 0; k < 6; k++) {
      const h = 1e-5;
      const zp = z0.slice();
      zp[k] += h;
      const zm = z0.slice();
      zm[k] -= h;
      expect(g[k]).toBeCloseTo((loss(zp) - loss(zm)) / (2 * h), 5);
    }
  });

  it("initialises like nn.Linear: U(±1/√d), seeded", () => {
    const a = initLinear(16, 5, 3);
    const b = initLinear(16, 5, 3);
    expect(Array.from(a.wt)).toEqual(Array.from(b.wt));
    for (const v of [...a.wt, ...a.bias]) expect(Math.abs(v)).toBeLessThanOrEqual(0.25);
  });
});

describe("crt", () => {
  const train = clusters([80, 30, 10], 6, 1);
  const val = clusters([10, 10, 10], 6, 2);
  const test = clusters([10, 10, 10], 6, 3);

  it("reaches 100% train and val accuracy on separable features, deterministically", () => {
    const before = tf.memory().numTensors;
    const opts = { train, val, numClasses: 3, epochs: 8, batchSize: 12, lr: 0.2, seed: 5 };
    const r = trainCrt(opts);
    expect(r.log.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.log[0].lr).toBeCloseTo(0.2, 12);
    expect(r.bestValTop1).toBe(1);
    expect(r.log[r.bestEpoch - 1].valTop1).toBe(1);
    expect(r.log.findIndex((l) => l.valTop1 === 1) + 1).toBe(r.bestEpoch); // earliest best epoch
    const lin = { weight: r.weight, bias: r.bias, numClasses: 3, dim: 6 };
    expect(acc(linearPredict(lin, train.feats, train.n), train.labels)).toBe(1);
    expect(acc(linearPredict(lin, val.feats, val.n), val.labels)).toBe(1);
    expect(r.log.at(-1)!.loss).toBeLessThan(r.log[0].loss);
    const again = trainCrt(opts);
    expect(Array.from(again.weight)).toEqual(Array.from(r.weight));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("runs through the registry with the same result on the tf and js engines", async () => {
    const before = tf.memory().numTensors;
    const base = {
      train,
      val,
      test,
      trainCounts: [80, 30, 10],
      numClasses: 3,
      stage1: { weight: new Float32Array(18), bias: new Float32Array(3) },
    };
    const opts = { epochs: 3, batchSize: 12, lr: 0.1, seed: 9 };
    const a = await classifiers.get("crt")({ ...base, options: { ...opts, engine: "js" } });
    const b = await classifiers.get("crt")({ ...base, options: { ...opts, engine: "tf" } });
    const wa = a.extra.weight as Float32Array;
    const wb = b.extra.weight as Float32Array;
    wa.forEach((v, i) => expect(wb[i]).toBeCloseTo(v, 4));
    expect(a.weightNorms.length).toBe(3);
    expect(a.test.top1).toBe(1);
    await expect(classifiers.get("crt")({ ...base, options: { epoch: 3 } })).rejects.toThrow(
      /classifier 'crt', option 'epoch': unknown option; valid options: epochs, batchSize/,
    );
    await expect(classifiers.get("crt")({ ...base, options: { lr: "0.1" } })).rejects.toThrow(
      /option 'lr': expected a number, got "0.1"/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("lws", () => {
  it("forward: z_j = s_j·(w_j·x + b_j), the scale multiplying the bias too", () => {
    const weight = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const bias = Float32Array.from([0.5, -1, 2]);
    const x = Float32Array.from([2, 3]);
    const z = linearLogits({ weight, bias, scale: [2, 0.5, -1], numClasses: 3, dim: 2 }, x, 1);
    expect(Array.from(z)).toEqual([5, 1, -7]);
    expect(Array.from(applyScales(Float32Array.from([2.5, 2, 7]), 1, [2, 0.5, -1]))).toEqual([5, 1, -7]);
  });

  it("learns larger scales for a suppressed tail class and improves val accuracy", async () => {
    const before = tf.memory().numTensors;
    // Stage-1 classifier aligned with the class prototypes, but the tail class 2's weight is shrunk and its bias
    // lowered, so it is rarely predicted: the typical long-tail bias LWS corrects.
    const d = 6;
    const weight = new Float32Array(3 * d);
    for (let j = 0; j < 3; j++) for (let p = 0; p < d; p++) weight[j * d + p] = p % 3 === j ? (j === 2 ? 0.5 : 1) : 0;
    const bias = Float32Array.from([0.5, 0.3, -2.5]);
    const train = clusters([80, 30, 10], d, 1);
    const val = clusters([10, 10, 10], d, 2);
    const test = clusters([10, 10, 10], d, 3);
    const stage1 = { weight, bias };
    const joint = await classifiers.get("joint")({
      train,
      val,
      test,
      trainCounts: [80, 30, 10],
      numClasses: 3,
      stage1,
    });
    expect(joint.val.few).toBeLessThan(0.5);
    for (const maxCacheBytes of [2 ** 30, 0]) {
      const r = trainLws({
        train,
        val,
        numClasses: 3,
        stage1,
        epochs: 5,
        batchSize: 12,
        lr: 0.2,
        seed: 3,
        maxCacheBytes,
      });
      expect(r.scales[2]).toBeGreaterThan(r.scales[0]);
      expect(r.bestValTop1).toBeGreaterThan(joint.val.top1);
      expect(r.bestValTop1).toBe(Math.max(...r.log.map((l) => l.valTop1)));
    }
    const res = await classifiers.get("lws")({
      train,
      val,
      test,
      trainCounts: [80, 30, 10],
      numClasses: 3,
      stage1,
      options: { epochs: 5, batchSize: 12, seed: 3 },
    });
    const s = res.extra.scales as Float32Array;
    const norms = [1, 1, 0.5].map((v, j) => v * Math.sqrt(2) * s[j]);
    norms.forEach((v, j) => expect(res.weightNorms[j]).toBeCloseTo(v, 5));
    expect(res.test.few).toBeGreaterThan(joint.test.few);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("joint", () => {
  it("uses weight and bias as trained", async () => {
    const before = tf.memory().numTensors;
    const train = fset(
      [
        [1, 0],
        [0, 1],
      ],
      [0, 1],
    );
    const test = fset(
      [
        [1, 0.9],
        [0.2, 1],
      ],
      [0, 1],
    );
    const r = await classifiers.get("joint")({
      train,
      val: test,
      test,
      trainCounts: [200, 5],
      numClasses: 2,
      stage1: { weight: Float32Array.from([1, 0, 0, 1]), bias: Float32Array.from([0, 0.2]) },
    });
    // logits (1, 1.1) → class 1 (wrong), (0.2, 1.2) → class 1
    expect(r.test.top1).toBe(0.5);
    expect([r.test.many, r.test.few]).toEqual([0, 1]);
    expect(Array.from(r.weightNorms)).toEqual([1, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
