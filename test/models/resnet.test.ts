/**
 * Backbone structure: registry, exact parameter counts, PyTorch names and shapes, output shapes,
 * seeding, disposal. Forward passes only, so the stock wasm backend is enough.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { type Backbone, backbones, countParams, modelWeights } from "../../src/models/index.js";
import { testData } from "./reference.js";

beforeAll(async () => {
  await initBackend("wasm");
});

/** Build, run `fn`, dispose, and check that nothing leaked. */
function withModel<T>(name: string, inputShape: [number, number, number], seed: number, fn: (m: Backbone) => T): T {
  const before = tf.memory().numTensors;
  const m = backbones.get(name)({ inputShape, seed });
  try {
    return fn(m);
  } finally {
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

/**
 * Independent count for our CIFAR ResNet-(6n+2): 3×3 stem to 16 ch, stages 16/32/64 of n BasicBlocks,
 * 1×1-conv + BN projection on the two stride-2 blocks, BN = 2 parameters per channel.
 */
function cifarCount(n: number, inC: number): number {
  const conv = (k: number, i: number, o: number) => k * k * i * o;
  const bn = (c: number) => 2 * c;
  let total = conv(3, inC, 16) + bn(16);
  let inCh = 16;
  for (const w of [16, 32, 64]) {
    for (let b = 0; b < n; b++) {
      total += conv(3, inCh, w) + bn(w) + conv(3, w, w) + bn(w);
      if (inCh !== w) total += conv(1, inCh, w) + bn(w);
      inCh = w;
    }
  }
  return total;
}

describe("backbone registry", () => {
  it("registers every spec'd backbone", () => {
    expect(backbones.names()).toEqual([
      "resnet10",
      "resnet101",
      "resnet152",
      "resnet20",
      "resnet32",
      "resnet50",
      "resnet8",
      "resnext101",
      "resnext152",
      "resnext50",
    ]);
  });
  it("names the valid backbones on a typo", () => {
    expect(() => backbones.get("resnet18", "networks.feat_model")).toThrow(
      /unknown backbone 'resnet18' \(at networks\.feat_model\).*resnext50/,
    );
  });
  it("validates inputShape", () => {
    expect(() =>
      backbones.get("resnet8")({ inputShape: [32, 32] as unknown as [number, number, number], seed: 0 }),
    ).toThrow(/resnet8.*inputShape/);
  });
});

describe("parameter counts (exact; BN gamma/beta counted, running stats not)", () => {
  it("CIFAR ResNet-8/20/32 with 1x1-conv shortcuts", () => {
    // Sanity of the independent formula against a hand count: ResNet-20, 3 input channels.
    expect(cifarCount(3, 3)).toBe(271_824);
    const cases: [string, number, number, number][] = [
      ["resnet8", 1, 3, 77_392],
      ["resnet20", 3, 3, 271_824], // ≈0.27M as quoted for CIFAR ResNet-20 (option-A shortcuts + fc: 0.27M too)
      ["resnet20", 3, 1, 271_536],
      ["resnet32", 5, 3, 466_256],
    ];
    for (const [name, n, inC, want] of cases) {
      withModel(name, [32, 32, inC], 0, (m) => {
        expect(countParams(m.trainable())).toBe(want);
        expect(cifarCount(n, inC)).toBe(want);
        expect(m.featDim).toBe(64);
      });
    }
  });
});

describe("PyTorch state-dict names and NHWC shapes", () => {
  it("CIFAR resnet20", () => {
    withModel("resnet20", [32, 32, 3], 0, (m) => {
      const p = m.trainable();
      const b = m.buffers();
      expect(p.get("conv1.weight")!.shape).toEqual([3, 3, 3, 16]);
      expect(p.get("layer1.0.conv1.weight")!.shape).toEqual([3, 3, 16, 16]);
      expect(p.has("layer1.0.downsample.0.weight")).toBe(false);
      expect(p.get("layer2.0.downsample.0.weight")!.shape).toEqual([1, 1, 16, 32]);
      expect(p.get("layer3.0.downsample.1.weight")!.shape).toEqual([64]);
      expect(p.get("layer3.2.bn2.bias")!.shape).toEqual([64]);
      expect(b.get("layer3.2.bn2.running_var")!.shape).toEqual([64]);
      // 19 BNs in the main path + 2 in shortcuts; each has 2 parameters and 2 buffers.
      expect(b.size).toBe(2 * 21);
      expect([...b.keys()].every((k) => /\.running_(mean|var)$/.test(k))).toBe(true);
      expect([...p.values()].every((v) => v.trainable)).toBe(true);
      expect([...b.values()].some((v) => v.trainable)).toBe(false);
      expect(modelWeights(m).size).toBe(p.size + b.size);
    });
  });
});

describe("output shapes", () => {
  const cifar: [string, [number, number, number]][] = [
    ["resnet8", [28, 28, 1]],
    ["resnet8", [32, 32, 3]],
    ["resnet20", [28, 28, 1]],
    ["resnet32", [32, 32, 3]],
  ];
  for (const [name, shape] of cifar) {
    it(`${name} on ${shape.join("x")}`, () => {
      withModel(name, shape, 1, (m) => {
        const x = tf.tensor4d(testData(2 * shape[0] * shape[1] * shape[2], 2), [2, ...shape]);
        for (const training of [true, false]) {
          const y = m.apply(x, training);
          expect(y.shape).toEqual([2, 64]);
          y.dispose();
        }
        x.dispose();
      });
    });
  }
  it("rejects an input with the wrong channel count", () => {
    withModel("resnet8", [32, 32, 3], 0, (m) => {
      const x = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
      expect(() => m.apply(x, false)).toThrow(/resnet8.*1 channels, built for 3/);
      x.dispose();
    });
  });
});

describe("seeding and golden values", () => {
  it("same seed, same weights and features; other seed, other weights", () => {
    const x = tf.tensor4d(testData(2 * 32 * 32 * 3, 1), [2, 32, 32, 3]);
    const run = (seed: number) =>
      withModel("resnet20", [32, 32, 3], seed, (m) => {
        const w = Array.from(m.trainable().get("conv1.weight")!.dataSync().slice(0, 4));
        const w2 = Array.from(m.trainable().get("layer3.2.conv2.weight")!.dataSync().slice(0, 2));
        const f = m.apply(x, true);
        const train = tf.tidy(() => f.sum().dataSync()[0]);
        const first = Array.from(f.dataSync().slice(0, 3));
        f.dispose();
        const rm = Array.from(m.buffers().get("bn1.running_mean")!.dataSync().slice(0, 3));
        const e = m.apply(x, false);
        const evalSum = tf.tidy(() => e.sum().dataSync()[0]);
        e.dispose();
        return { w, w2, train, first, rm, evalSum };
      });
    const a = run(0);
    const b = run(0);
    expect(b).toEqual(a);
    expect(run(1).w).not.toEqual(a.w);
    // Golden values (float32 init from Rng(0).fork(fnv1a(key)) and Box-Muller; forward on wasm).
    const gold = {
      w: [0.3703984022140503, -0.037462711334228516, -0.04444277659058571, 0.0769723430275917],
      w2: [-0.08108507096767426, 0.04294096305966377],
      first: [1.014836072921753, 0.9622341394424438, 0.8681972622871399],
      rm: [-0.0009784605354070663, -0.001927522593177855, 0.00031139730708673596],
    };
    expect(a.w).toEqual(gold.w);
    expect(a.w2).toEqual(gold.w2);
    a.first.forEach((v, i) => expect(v).toBeCloseTo(gold.first[i], 4));
    a.rm.forEach((v, i) => expect(v).toBeCloseTo(gold.rm[i], 6));
    expect(a.train).toBeCloseTo(131.96455, 2);
    expect(a.evalSum).toBeCloseTo(324.55927, 2);
    x.dispose();
  });

  it("two instances of one backbone coexist (unique tfjs variable names)", () => {
    const before = tf.memory().numTensors;
    const a = backbones.get("resnet8")({ inputShape: [8, 8, 1], seed: 0 });
    const b = backbones.get("resnet8")({ inputShape: [8, 8, 1], seed: 0 });
    expect(a.trainable().get("conv1.weight")!.name).not.toBe(b.trainable().get("conv1.weight")!.name);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
