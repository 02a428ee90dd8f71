import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { fitNcm, type NcmDist, type NcmFeatType, ncmLogits, ncmPredict } from "../../src/classifiers/ncm.js";
import { fset } from "./helpers.js";

beforeAll(async () => {
  await initBackend("wasm");
});

// Train: class 0 = (2,0),(4,0); class 1 = (0,2),(0,6); class 2 = (3,3). Global mean μ = (1.8, 2.2).
const train = fset(
  [
    [2, 0],
    [4, 0],
    [0, 2],
    [0, 6],
    [3, 3],
  ],
  [0, 0, 1, 1, 2],
);
const queries = Float32Array.from([3, 1, 1, 3, 2.5, 2.5, 1, 0.2]);

// Golden centroids and logits (squared-l2 / true cosine / dot/d), computed by hand for `un` and checked with a
// float64 NumPy transcription of the original code for the normalised variants.
const golden: Record<
  NcmFeatType,
  { centroids: number[]; logits: Record<NcmDist, number[][]>; preds: Record<NcmDist, number[]> }
> = {
  un: {
    centroids: [3, 0, 0, 4, 3, 3],
    logits: {
      l2: [
        [-1, -18, -4],
        [-13, -2, -4],
        [-6.5, -8.5, -0.5],
        [-4.04, -15.44, -11.84],
      ],
      cos: [
        [0.948683, 0.316228, 0.894427],
        [0.316228, 0.948683, 0.894427],
        [0.707107, 0.707107, 1],
        [0.980581, 0.196116, 0.83205],
      ],
      dot: [
        [4.5, 2, 6],
        [1.5, 6, 6],
        [3.75, 5, 7.5],
        [1.5, 0.4, 1.8],
      ],
    },
    preds: { l2: [0, 1, 2, 0], cos: [0, 1, 2, 0], dot: [2, 1, 2, 2] },
  },
  l2n: {
    centroids: [1, 0, 0, 1, 0.707107, 0.707107],
    logits: {
      l2: [
        [-0.102633, -1.367544, -0.211146],
        [-1.367544, -0.102633, -0.211146],
        [-0.585786, -0.585786, 0],
        [-0.038839, -1.607768, -0.335899],
      ],
      cos: [
        [0.948683, 0.316228, 0.894427],
        [0.316228, 0.948683, 0.894427],
        [0.707107, 0.707107, 1],
        [0.980581, 0.196116, 0.83205],
      ],
      dot: [
        [0.474342, 0.158114, 0.447214],
        [0.158114, 0.474342, 0.447214],
        [0.353553, 0.353553, 0.5],
        [0.49029, 0.098058, 0.416025],
      ],
    },
    preds: { l2: [0, 1, 2, 0], cos: [0, 1, 2, 0], dot: [0, 1, 2, 0] },
  },
  cl2n: {
    centroids: [0.398821, -0.8515, -0.710985, 0.396653, 0.83205, 0.5547],
    logits: {
      l2: [
        [-0.115889, -3.22927, -1.607768],
        [-3.652332, -0.096396, -2.392232],
        [-1.821806, -2.657332, -0.033436],
        [-0.599152, -1.871293, -3.648084],
      ],
      cos: [
        [0.940272, -0.962013, 0.196116],
        [-0.940272, 0.962013, -0.196116],
        [0.033131, -0.610762, 0.983282],
        [0.683291, -0.128024, -0.824042],
      ],
      dot: [
        [0.442055, -0.391609, 0.098058],
        [-0.442055, 0.391609, -0.098058],
        [0.015576, -0.248625, 0.491641],
        [0.32124, -0.052115, -0.412021],
      ],
    },
    preds: { l2: [0, 1, 2, 0], cos: [0, 1, 2, 0], dot: [0, 1, 2, 0] },
  },
};

describe("ncm", () => {
  it("defaults to cl2n + l2 and keeps the global mean", () => {
    const m = fitNcm(train, 3);
    expect([m.featType, m.dist]).toEqual(["cl2n", "l2"]);
    expect(Array.from(m.mean)).toEqual([Math.fround(1.8), Math.fround(2.2)]);
    expect(Array.from(m.counts)).toEqual([2, 2, 1]);
  });

  for (const featType of ["un", "l2n", "cl2n"] as const) {
    for (const dist of ["l2", "cos", "dot"] as const) {
      for (const engine of ["js", "tf"] as const) {
        it(`${featType} + ${dist} matches the golden centroids, logits and predictions (${engine})`, () => {
          const before = tf.memory().numTensors;
          const m = fitNcm(train, 3, { featType, dist });
          const g = golden[featType];
          Array.from(m.centroids).forEach((v, i) => expect(v).toBeCloseTo(g.centroids[i], 5));
          const l = ncmLogits(m, queries, { engine, chunkRows: 3 });
          g.logits[dist].flat().forEach((v, i) => expect(l[i]).toBeCloseTo(v, 4));
          expect(Array.from(ncmPredict(m, queries, { engine, chunkRows: 3 }))).toEqual(g.preds[dist]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }
  }

  it("never predicts a class without training rows", () => {
    const m = fitNcm(train, 4, { featType: "un", dist: "cos" });
    const l = ncmLogits(m, Float32Array.from([0, 0]));
    expect(l[3]).toBe(-Infinity);
    expect(Array.from(ncmPredict(m, Float32Array.from([1, 1, 0, 0])))).toEqual([2, 0]);
  });

  it("rejects unknown variants and bad labels clearly", () => {
    expect(() => fitNcm(train, 3, { featType: "l2" as never })).toThrow(
      /ncm: unknown featType 'l2'; valid: un, l2n, cl2n/,
    );
    expect(() => fitNcm(train, 3, { dist: "euclid" as never })).toThrow(/unknown dist 'euclid'; valid: l2, cos, dot/);
    expect(() => fitNcm(train, 2)).toThrow(/ncm train labels: label 2 at row 4 is outside \[0, 2\)/);
  });
});
