/**
 * Conv (padding, groups), max-pool padding and BatchNorm semantics against PyTorch-style JS references.
 * Runs on the cpu backend: it has every gradient kernel (the stock wasm backend lacks Conv2DBackpropFilter).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { batchNormTrain } from "../../src/models/batchnorm.js";
import {
  BatchNorm2d,
  Conv2d,
  groupedConv2d,
  ParamStore,
  resolveGroupedConv,
  torchPad,
} from "../../src/models/index.js";
import { maxAbsDiff, refConv2d, refMaxPool, testData } from "./reference.js";

beforeAll(async () => {
  await initBackend("cpu");
});

describe("torchPad", () => {
  it("uses 'same' at stride 1, explicit (k-1)/2 at stride 2, 'valid' for 1x1", () => {
    expect(torchPad(3, 1)).toBe("same");
    expect(torchPad(3, 2)).toBe(1);
    expect(torchPad(7, 2)).toBe(3);
    expect(torchPad(1, 2)).toBe("valid");
  });
});

describe("Conv2d / groupedConv2d", () => {
  // 6x6 even input: TF 'same' at stride 2 would pad (0,1) and differ from PyTorch's (1,1).
  const cases = [
    { k: 3, stride: 1, groups: 1, inC: 4, outC: 6 },
    { k: 3, stride: 2, groups: 1, inC: 4, outC: 6 },
    { k: 7, stride: 2, groups: 1, inC: 3, outC: 4 },
    { k: 1, stride: 2, groups: 1, inC: 4, outC: 8 },
    { k: 3, stride: 1, groups: 4, inC: 8, outC: 12 },
    { k: 3, stride: 2, groups: 4, inC: 8, outC: 8 },
  ];
  for (const c of cases) {
    for (const impl of ["split", "depthwise"] as const) {
      if (c.groups === 1 && impl === "depthwise") continue;
      it(`matches the PyTorch reference: k=${c.k} s=${c.stride} groups=${c.groups} ${impl}`, () => {
        const before = tf.memory().numTensors;
        const store = new ParamStore("t", 7);
        const conv = new Conv2d(store, "c", {
          inC: c.inC,
          outC: c.outC,
          kernel: c.k,
          stride: c.stride,
          groups: c.groups,
          groupedConv: impl,
        });
        expect(conv.weight.shape).toEqual([c.k, c.k, c.inC / c.groups, c.outC]);
        const xs: [number, number, number, number] = [2, 6, 6, c.inC];
        const xv = testData(
          xs.reduce((a, b) => a * b),
          11,
        );
        const x = tf.tensor4d(xv, xs);
        const y = conv.apply(x);
        const ref = refConv2d(
          xv,
          xs,
          conv.weight.dataSync() as Float32Array,
          c.k,
          c.outC,
          c.stride,
          (c.k - 1) / 2,
          c.groups,
        );
        expect(y.shape).toEqual(ref.shape);
        expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThan(1e-5);
        tf.dispose([x, y]);
        store.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it("'auto' picks depthwise where its gradient kernels exist (cpu)", () => {
    expect(resolveGroupedConv("auto")).toBe("depthwise");
    expect(resolveGroupedConv("split")).toBe("split");
  });

  it("split and depthwise grouped convs give the same gradients", () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(testData(2 * 5 * 5 * 8, 3), [2, 5, 5, 8]);
    const w = tf.tensor4d(testData(3 * 3 * 2 * 8, 4), [3, 3, 2, 8]);
    const r = tf.tensor4d(testData(2 * 3 * 3 * 8, 5), [2, 3, 3, 8]);
    const grads = (impl: "split" | "depthwise") =>
      tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(tf.mul(groupedConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 4, 2, 1, impl), r)),
      )([x, w]);
    const [gx1, gw1] = grads("split");
    const [gx2, gw2] = grads("depthwise");
    expect(maxAbsDiff(gx1.dataSync(), gx2.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(gw1.dataSync(), gw2.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, w, r, gx1, gw1, gx2, gw2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("initialises N(0, 2/(k*k*out)) (He fan-out), seeded by name", () => {
    const before = tf.memory().numTensors;
    const a = new ParamStore("t", 1);
    const b = new ParamStore("t", 1);
    const c1 = new Conv2d(a, "c", { inC: 64, outC: 64, kernel: 3 });
    const c2 = new Conv2d(b, "c", { inC: 64, outC: 64, kernel: 3 });
    const v = c1.weight.dataSync();
    expect(Array.from(c2.weight.dataSync())).toEqual(Array.from(v));
    let s = 0;
    let s2 = 0;
    for (const t of v) {
      s += t;
      s2 += t * t;
    }
    const std = Math.sqrt(s2 / v.length - (s / v.length) ** 2);
    expect(std).toBeCloseTo(Math.sqrt(2 / (9 * 64)), 3);
    expect(Math.abs(s / v.length)).toBeLessThan(3e-3);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects channels not divisible by groups", () => {
    const store = new ParamStore("t", 1);
    expect(() => new Conv2d(store, "layer1.0.conv2", { inC: 10, outC: 12, kernel: 3, groups: 4 })).toThrow(
      /layer1\.0\.conv2.*groups=4/,
    );
    store.dispose();
  });
});

describe("max-pool padding", () => {
  it("tf.maxPool(x, 3, 2, 1) equals PyTorch MaxPool2d(3, 2, padding=1)", () => {
    const xs: [number, number, number, number] = [1, 6, 6, 2];
    const xv = testData(72, 9);
    const x = tf.tensor4d(xv, xs);
    const y = tf.maxPool(x, 3, 2, 1);
    expect(y.shape).toEqual([1, 3, 3, 2]);
    expect(maxAbsDiff(y.dataSync(), refMaxPool(xv, xs, 3, 2, 1))).toBe(0);
    tf.dispose([x, y]);
  });
});

describe("BatchNorm2d", () => {
  it("training mode: biased batch variance for normalising, unbiased for running_var, momentum 0.1", () => {
    const before = tf.memory().numTensors;
    const store = new ParamStore("t", 1);
    const bn = new BatchNorm2d(store, "bn1", 3);
    expect([...store.trainable().keys()]).toEqual(["bn1.weight", "bn1.bias"]);
    expect([...store.buffers().keys()]).toEqual(["bn1.running_mean", "bn1.running_var"]);
    tf.tidy(() => {
      bn.gamma.assign(tf.tensor1d([1, 2, 0.5]));
      bn.beta.assign(tf.tensor1d([0, -1, 3]));
    });
    const xs: [number, number, number, number] = [2, 2, 3, 3];
    const xv = testData(36, 21).map((v, i) => v * (1 + (i % 3)) + (i % 3));
    const x = tf.tensor4d(xv, xs);
    const y = bn.apply(x, true);
    const yv = y.dataSync();
    const m = 12;
    const g = [1, 2, 0.5];
    const be = [0, -1, 3];
    const rm = bn.runningMean.dataSync();
    const rv = bn.runningVar.dataSync();
    for (let ch = 0; ch < 3; ch++) {
      let s = 0;
      for (let i = ch; i < 36; i += 3) s += xv[i];
      const mean = s / m;
      let ss = 0;
      for (let i = ch; i < 36; i += 3) ss += (xv[i] - mean) ** 2;
      const biased = ss / m;
      for (let i = ch; i < 36; i += 3)
        expect(yv[i]).toBeCloseTo(((xv[i] - mean) / Math.sqrt(biased + 1e-5)) * g[ch] + be[ch], 4);
      expect(rm[ch]).toBeCloseTo(0.1 * mean, 6);
      expect(rv[ch]).toBeCloseTo(0.9 + 0.1 * (ss / (m - 1)), 6);
    }
    // Eval mode normalises with the running stats.
    const ye = bn.apply(x, false);
    const yev = ye.dataSync();
    for (let i = 0; i < 36; i++) {
      const ch = i % 3;
      expect(yev[i]).toBeCloseTo(((xv[i] - rm[ch]) / Math.sqrt(rv[ch] + 1e-5)) * g[ch] + be[ch], 4);
    }
    // Eval mode leaves the running stats alone.
    expect(Array.from(bn.runningMean.dataSync())).toEqual(Array.from(rm));
    tf.dispose([x, y, ye]);
    store.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("training-mode gradient (through the batch mean and variance) matches finite differences", () => {
    // Smooth function of x (no ReLU), so float32 central differences are accurate.
    const before = tf.memory().numTensors;
    const store = new ParamStore("t", 1);
    const bn = new BatchNorm2d(store, "bn", 3);
    tf.tidy(() => {
      bn.gamma.assign(tf.tensor1d([1.5, 0.7, 2]));
      bn.beta.assign(tf.tensor1d([0.1, -0.2, 0.3]));
    });
    const shape: [number, number, number, number] = [2, 3, 3, 3];
    const xv = testData(54, 5);
    const r = tf.tensor4d(testData(54, 8), shape);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.square(bn.apply(x as tf.Tensor4D, true)), r)) as tf.Scalar;
    const g = tf.tidy(() => tf.grad(f)(tf.tensor4d(xv, shape)).dataSync());
    const at = (i: number, d: number) => {
      const a = Float32Array.from(xv);
      a[i] += d;
      return tf.tidy(() => f(tf.tensor4d(a, shape)).dataSync()[0]);
    };
    for (let i = 0; i < 54; i += 5) {
      const fd = (at(i, 1e-2) - at(i, -1e-2)) / 2e-2;
      expect(Math.abs(fd - g[i])).toBeLessThan(2e-3 * (Math.abs(g[i]) + 1e-2) + 1e-4);
    }
    r.dispose();
    store.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the fused training-mode op's tfjs-ops gradient (any backend without the native helpers) equals autodiff through tf.moments", () => {
    const before = tf.memory().numTensors;
    const shape: [number, number, number, number] = [3, 4, 5, 6];
    const x = tf.tensor4d(
      testData(360, 31).map((v) => 2 * v + 1),
      shape,
    );
    const gamma = tf.tensor1d([1.5, 0.7, 2, 1, 0.3, 1.1]);
    const beta = tf.tensor1d([0.1, -0.2, 0.3, 0, 0.5, -1]);
    const w = tf.tensor4d(testData(360, 32), shape);
    const viaMoments = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm4d(
        a as tf.Tensor4D,
        mean as tf.Tensor1D,
        variance as tf.Tensor1D,
        o as tf.Tensor1D,
        s as tf.Tensor1D,
        1e-5,
      );
    };
    const fused = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const r = batchNormTrain(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D, 1e-5);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    };
    const loss = (bn: typeof fused) => (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(bn(a, s, o)), w));
    const want = tf.grads(loss(viaMoments))([x, gamma, beta]);
    const got = tf.grads(loss(fused))([x, gamma, beta]);
    for (let i = 0; i < 3; i++) {
      const [g, e] = [got[i].dataSync(), want[i].dataSync()];
      for (let k = 0; k < e.length; k++) expect(g[k]).toBeCloseTo(e[k], 4);
    }
    tf.dispose([x, gamma, beta, w, ...want, ...got]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses training mode with one value per channel, like PyTorch", () => {
    const store = new ParamStore("t", 1);
    const bn = new BatchNorm2d(store, "layer4.0.bn2", 2);
    const x = tf.ones([1, 1, 1, 2]) as tf.Tensor4D;
    expect(() => bn.apply(x, true)).toThrow(/layer4\.0\.bn2.*1 value per channel/);
    x.dispose();
    store.dispose();
  });
});
