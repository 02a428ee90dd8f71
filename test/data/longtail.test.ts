import { describe, expect, it } from "vitest";
import { flattenPerClass, indicesSha256, longTailCounts, selectLongTail } from "../../src/data/longtail.js";
import { shotGroups } from "../../src/metrics.js";

const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);

// Golden table (docs/ARCHITECTURE.md, "Long-tailed subsets"; computed with Python's int(n_max * f ** (i / (C - 1)))).
const C100: Record<number, number[]> = {
  100: [
    500, 477, 455, 434, 415, 396, 378, 361, 344, 328, 314, 299, 286, 273, 260, 248, 237, 226, 216, 206, 197, 188, 179,
    171, 163, 156, 149, 142, 135, 129, 123, 118, 112, 107, 102, 98, 93, 89, 85, 81, 77, 74, 70, 67, 64, 61, 58, 56, 53,
    51, 48, 46, 44, 42, 40, 38, 36, 35, 33, 32, 30, 29, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 15, 14, 13,
    13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5,
  ],
  50: [
    500, 480, 462, 444, 426, 410, 394, 379, 364, 350, 336, 323, 311, 299, 287, 276, 265, 255, 245, 235, 226, 218, 209,
    201, 193, 186, 178, 172, 165, 158, 152, 146, 141, 135, 130, 125, 120, 115, 111, 107, 102, 98, 95, 91, 87, 84, 81,
    78, 75, 72, 69, 66, 64, 61, 59, 56, 54, 52, 50, 48, 46, 44, 43, 41, 39, 38, 36, 35, 34, 32, 31, 30, 29, 27, 26, 25,
    24, 23, 22, 22, 21, 20, 19, 18, 18, 17, 16, 16, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 10,
  ],
  10: [
    500, 488, 477, 466, 455, 445, 434, 424, 415, 405, 396, 387, 378, 369, 361, 352, 344, 336, 328, 321, 314, 306, 299,
    292, 286, 279, 273, 266, 260, 254, 248, 243, 237, 232, 226, 221, 216, 211, 206, 201, 197, 192, 188, 183, 179, 175,
    171, 167, 163, 159, 156, 152, 149, 145, 142, 139, 135, 132, 129, 126, 123, 121, 118, 115, 112, 110, 107, 105, 102,
    100, 98, 95, 93, 91, 89, 87, 85, 83, 81, 79, 77, 75, 74, 72, 70, 69, 67, 66, 64, 63, 61, 60, 58, 57, 56, 54, 53, 52,
    51, 50,
  ],
  200: [
    500, 473, 449, 425, 403, 382, 362, 343, 325, 308, 292, 277, 263, 249, 236, 224, 212, 201, 190, 180, 171, 162, 154,
    146, 138, 131, 124, 117, 111, 105, 100, 95, 90, 85, 81, 76, 72, 69, 65, 62, 58, 55, 52, 50, 47, 44, 42, 40, 38, 36,
    34, 32, 30, 29, 27, 26, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 13, 12, 11, 11, 10, 10, 9, 9, 8, 8, 7, 7, 6,
    6, 6, 5, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2, 2,
  ],
};

describe("longTailCounts", () => {
  it("CIFAR-10-LT golden rows (IF 100 / 50 / 10 / 200)", () => {
    const c = (IF: number) => longTailCounts({ nMax: 5000, numClasses: 10, imbFactor: IF, profile: "exp" });
    expect(c(100)).toEqual([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
    expect(c(50)).toEqual([5000, 3237, 2096, 1357, 878, 568, 368, 238, 154, 100]);
    expect(c(10)).toEqual([5000, 3871, 2997, 2320, 1796, 1391, 1077, 834, 645, 500]);
    expect(c(200)).toEqual([5000, 2775, 1540, 854, 474, 263, 146, 81, 45, 25]);
    expect([100, 50, 10, 200].map((IF) => sum(c(IF)))).toEqual([12406, 13996, 20431, 11203]);
  });

  it("CIFAR-100-LT golden rows and totals (10847 / 12608 / 19573 / 9502); last class 5 at IF 100", () => {
    const totals: Record<number, number> = { 100: 10847, 50: 12608, 10: 19573, 200: 9502 };
    for (const IF of [100, 50, 10, 200]) {
      const c = longTailCounts({ nMax: 500, numClasses: 100, imbFactor: IF, profile: "exp" });
      expect(c).toEqual(C100[IF]);
      expect(sum(c)).toBe(totals[IF]);
    }
    expect(longTailCounts({ nMax: 500, numClasses: 100, imbFactor: 100, profile: "exp" })[99]).toBe(5);
  });

  it("Fashion-MNIST-LT default (n_max 5000, IF 1000) and proposed n_max 6000 rows", () => {
    const d = longTailCounts({ nMax: 5000, numClasses: 10, imbFactor: 1000, profile: "exp" });
    expect(d).toEqual([5000, 2320, 1077, 500, 232, 107, 50, 23, 10, 5]);
    expect(sum(d)).toBe(9324);
    const groups = shotGroups(d);
    expect(["many", "medium", "few"].map((g) => groups.filter((x) => x === g).length)).toEqual([6, 2, 2]);
    const p100 = longTailCounts({ nMax: 6000, numClasses: 10, imbFactor: 100, profile: "exp" });
    expect(p100).toEqual([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60]);
    expect(sum(p100)).toBe(14886);
    expect(sum(longTailCounts({ nMax: 6000, numClasses: 10, imbFactor: 10, profile: "exp" }))).toBe(24516);
  });

  it("Kang shot split of CIFAR-100-LT IF 100 is 35 / 35 / 30", () => {
    const g = shotGroups(C100[100]);
    expect(["many", "medium", "few"].map((x) => g.filter((y) => y === x).length)).toEqual([35, 35, 30]);
  });

  it("step profile: first ⌊C/2⌋ classes n_max, the rest int(n_max·f); odd C gives the extra class the tail count", () => {
    expect(longTailCounts({ nMax: 5000, numClasses: 10, imbFactor: 100, profile: "step" })).toEqual([
      5000, 5000, 5000, 5000, 5000, 50, 50, 50, 50, 50,
    ]);
    expect(longTailCounts({ nMax: 500, numClasses: 5, imbFactor: 10, profile: "step" })).toEqual([
      500, 500, 50, 50, 50,
    ]);
  });

  it("explains bad arguments", () => {
    expect(() => longTailCounts({ nMax: 500, numClasses: 100, imbFactor: 1000, profile: "exp" })).toThrow(
      /class \d+ would get 0 train images.*lower imbFactor or raise nMax/,
    );
    expect(() => longTailCounts({ nMax: 500, numClasses: 10, imbFactor: 0.5, profile: "exp" })).toThrow(
      /imbFactor must be/,
    );
    expect(() => longTailCounts({ nMax: 500, numClasses: 1, imbFactor: 10, profile: "exp" })).toThrow(
      /numClasses must be/,
    );
    expect(() => longTailCounts({ nMax: 500, numClasses: 10, imbFactor: 10, profile: "linear" as "exp" })).toThrow(
      /unknown profile 'linear'; valid profiles: exp, step/,
    );
  });
});

describe("selectLongTail (LDAM procedure)", () => {
  // labels 0,1,2,0,1,2,…: class lists are [0,3,…,27], [1,4,…], [2,5,…]. numpy (seed 0) shuffles them to:
  //   0: [6, 24, 12, 27, 3, 18, 21, 9, 0, 15]   1: [10, 16, 4, 7, 28, 25, 1, 19, 22, 13]   2: [8, 11, 26, 14, 17, 5, 2, 20, 29, 23]
  const labels = Int32Array.from({ length: 30 }, (_, i) => i % 3);

  it("matches numpy's per-class shuffles; val takes the next positions", () => {
    const sel = selectLongTail({ labels, numClasses: 3, counts: [6, 4, 2], seed: 0, valPerClass: 2 });
    expect(sel.train).toEqual([
      [6, 24, 12, 27, 3, 18],
      [10, 16, 4, 7],
      [8, 11],
    ]);
    expect(sel.val).toEqual([
      [21, 9],
      [28, 25],
      [26, 14],
    ]);
    const flat = flattenPerClass(sel.train);
    expect(Array.from(flat.labels)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
    expect(indicesSha256(sel.train)).toMatch(/^[0-9a-f]{64}$/);
    expect(indicesSha256(sel.train)).not.toBe(
      indicesSha256(selectLongTail({ labels, numClasses: 3, counts: [6, 4, 2], seed: 1, valPerClass: 2 }).train),
    );
  });

  it("errors when a class has too few images, naming the source", () => {
    expect(() =>
      selectLongTail({ labels, numClasses: 3, counts: [6, 4, 2], seed: 0, valPerClass: 5, source: "labels.gz" }),
    ).toThrow(/class 0 has 10 images in labels.gz but 6 train \+ 5 val are needed/);
    expect(() =>
      selectLongTail({ labels: Int32Array.from([0, 5]), numClasses: 3, counts: [1, 1, 1], seed: 0, valPerClass: 0 }),
    ).toThrow(/label 5 of image 1 is outside \[0, 3\)/);
  });
});
