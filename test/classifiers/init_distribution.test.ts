/**
 * The cRT head is a fresh PyTorch-default `nn.Linear`: the original DotProductClassifier is a plain nn.Linear, whose
 * reset_parameters draws the weight with kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), and the bias from
 * U(−1/√fan_in, 1/√fan_in). Checked as a distribution (Kolmogorov–Smirnov against the uniform law, moments, range),
 * not just a bound, for both initialisations in the code: initLinear (cRT on features) and LinearClassifier
 * (stage 1 and the images mode).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { initLinear } from "../../src/classifiers/crt.js";
import { transpose } from "../../src/classifiers/gemm.js";
import { LinearClassifier } from "../../src/models/linear.js";
import { correlation, expectUniform } from "../helpers/stats.js";

beforeAll(async () => {
  await initBackend("wasm");
});

// fan_in (d) and C differ, so a bound taken from the wrong dimension cannot pass.
const D = 64;
const C = 300;

describe("cRT on features: initLinear(d, C, seed)", () => {
  it("weight ~ U(±1/√d) and bias ~ U(±1/√d), independent of C", () => {
    const { wt, bias } = initLinear(D, C, 11);
    expect(wt.length).toBe(D * C);
    expect(bias.length).toBe(C);
    expectUniform(wt, 1 / Math.sqrt(D), "weight");
    expectUniform(bias, 1 / Math.sqrt(D), "bias");
  });

  it("is fresh: a new draw per seed, uncorrelated across seeds; weight rows not copies of one another", () => {
    const a = initLinear(D, C, 1);
    const b = initLinear(D, C, 2);
    expect(Math.abs(correlation(a.wt, b.wt))).toBeLessThan(4 / Math.sqrt(a.wt.length));
    const w = transpose(a.wt, D, C); // [C × d]
    expect(Array.from(w.subarray(0, D))).not.toEqual(Array.from(w.subarray(D, 2 * D)));
  });
});

describe("stage 1 and the images mode: LinearClassifier", () => {
  it("weight ~ U(±1/√d), bias ~ U(±1/√d)", () => {
    const before = tf.memory().numTensors;
    const head = new LinearClassifier({ featDim: D, numClasses: C, seed: 5 });
    expectUniform(head.weight.dataSync(), 1 / Math.sqrt(D), "fc.weight");
    expectUniform(head.bias!.dataSync(), 1 / Math.sqrt(D), "fc.bias");
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
