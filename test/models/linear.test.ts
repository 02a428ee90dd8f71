/** LinearClassifier (PyTorch nn.Linear layout and init) and the state-dict helpers. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { backbones, countParams, LinearClassifier, modelWeights } from "../../src/models/index.js";
import { testData } from "./reference.js";

beforeAll(async () => {
  await initBackend("cpu");
});

describe("LinearClassifier", () => {
  it("has PyTorch names, layout and U(±1/√d) init", () => {
    const before = tf.memory().numTensors;
    const c = new LinearClassifier({ featDim: 64, numClasses: 10, seed: 0 });
    expect(c.name).toBe("linear");
    expect([...c.trainable().keys()]).toEqual(["fc.weight", "fc.bias"]);
    expect(c.buffers().size).toBe(0);
    expect(c.weight.shape).toEqual([10, 64]);
    expect(c.bias!.shape).toEqual([10]);
    expect(countParams(c.trainable())).toBe(650);
    const w = c.weight.dataSync();
    const bound = 1 / 8;
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...w)).toBeGreaterThan(0.95 * bound);
    expect(Math.max(...c.bias!.dataSync().map(Math.abs))).toBeLessThanOrEqual(bound);
    // Golden values: seeded per name, so the same for every run.
    expect(Array.from(w.slice(0, 3))).toEqual([-0.011300171725451946, 0.07640376687049866, -0.11585202813148499]);
    expect(Array.from(c.bias!.dataSync().slice(0, 3))).toEqual([
      0.02771511673927307, -0.016360534355044365, 0.10930287837982178,
    ]);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("computes x·Wᵀ + b, with or without bias", () => {
    const before = tf.memory().numTensors;
    for (const bias of [true, false]) {
      const c = new LinearClassifier({ featDim: 5, numClasses: 3, seed: 2, bias });
      expect(c.trainable().size).toBe(bias ? 2 : 1);
      const xv = testData(4 * 5, 6);
      const x = tf.tensor2d(xv, [4, 5]);
      const y = c.apply(x);
      expect(y.shape).toEqual([4, 3]);
      const w = c.weight.dataSync();
      const b = c.bias?.dataSync();
      const yv = y.dataSync();
      for (let n = 0; n < 4; n++)
        for (let j = 0; j < 3; j++) {
          let s = b ? b[j] : 0;
          for (let k = 0; k < 5; k++) s += xv[n * 5 + k] * w[j * 5 + k];
          expect(yv[n * 3 + j]).toBeCloseTo(s, 5);
        }
      tf.dispose([x, y]);
      c.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("cross-entropy gradient is (softmax − onehot)ᵀ·x / N", () => {
    const before = tf.memory().numTensors;
    const c = new LinearClassifier({ featDim: 4, numClasses: 3, seed: 5 });
    const x = tf.tensor2d(testData(8, 3), [2, 4]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([2, 0], "int32"), 3));
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, c.apply(x)) as tf.Scalar,
      [...c.trainable().values()],
    );
    const want = tf.tidy(() => tf.matMul(tf.sub(tf.softmax(c.apply(x)), y), x, true, false).div(2));
    const gw = grads[c.weight.name].dataSync();
    want.dataSync().forEach((v, i) => expect(gw[i]).toBeCloseTo(v, 6));
    tf.dispose([value, grads, x, y, want]);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a feature width mismatch and bad sizes", () => {
    const c = new LinearClassifier({ featDim: 4, numClasses: 3, seed: 5 });
    const x = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => c.apply(x)).toThrow(/features have 5 columns, classifier expects featDim=4/);
    expect(() => new LinearClassifier({ featDim: 0, numClasses: 3, seed: 0 })).toThrow(/featDim/);
    x.dispose();
    c.dispose();
  });
});

describe("modelWeights / countParams", () => {
  it("merge a backbone and a classifier into one state dict, refusing clashes", () => {
    const before = tf.memory().numTensors;
    const net = backbones.get("resnet8")({ inputShape: [8, 8, 1], seed: 0 });
    const c = new LinearClassifier({ featDim: net.featDim, numClasses: 10, seed: 0 });
    const all = modelWeights(net, c);
    expect(all.size).toBe(net.trainable().size + net.buffers().size + 2);
    expect(all.has("fc.weight") && all.has("layer3.0.bn2.running_var")).toBe(true);
    expect(countParams(all)).toBe(countParams(net.trainable()) + countParams(net.buffers()) + 650);
    const c2 = new LinearClassifier({ featDim: net.featDim, numClasses: 10, seed: 1 });
    expect(() => modelWeights(c, c2)).toThrow(/key 'fc\.weight' appears in more than one module/);
    net.dispose();
    c.dispose();
    c2.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
