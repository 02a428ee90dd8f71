import { describe, expect, it } from "vitest";
import { progressiveLambda } from "../../src/samplers/progressive.js";
import { samplers } from "../../src/samplers/registry.js";
import type { BatchSampler, SamplerArgs } from "../../src/samplers/types.js";

/** Labels with class counts `counts` (class j rows interleaved so rows are not sorted by class). */
function makeLabels(counts: number[]): Int32Array {
  const out: number[] = [];
  const left = counts.slice();
  while (left.some((c) => c > 0)) left.forEach((c, j) => c > 0 && (out.push(j), left[j]--));
  return Int32Array.from(out);
}

const COUNTS = [500, 200, 80, 20, 0]; // class 4 is empty: no sampler may ever draw it
const labels = makeLabels(COUNTS);
const N = labels.length; // 800
const args = (over: Partial<SamplerArgs> = {}): SamplerArgs => ({
  labels,
  numClasses: 5,
  batchSize: 32,
  seed: 1,
  numEpochs: 10,
  q: 0.5,
  ...over,
});
const make = (name: string, over: Partial<SamplerArgs> = {}) => samplers.get(name)(args(over));
const NAMES = ["instance_balanced", "class_balanced", "square_root", "q_power", "progressive"];

function classFreq(batches: Int32Array[], lab: Int32Array, C: number): number[] {
  const f = new Array<number>(C).fill(0);
  for (const b of batches) for (const i of b) f[lab[i]]++;
  return f;
}

/** Pearson chi-square of observed counts against probabilities p (classes with p = 0 must be empty). */
function chiSquare(obs: number[], p: ArrayLike<number>): number {
  const n = obs.reduce((a, b) => a + b, 0);
  let x2 = 0;
  obs.forEach((o, j) => {
    if (p[j] === 0) expect(o).toBe(0);
    else x2 += (o - n * p[j]) ** 2 / (n * p[j]);
  });
  return x2;
}
// chi-square critical value, 3 degrees of freedom (4 non-empty classes), p = 0.001
const CHI2_3DF = 16.27;

function epochs(s: BatchSampler, from: number, to: number): Int32Array[][] {
  const out: Int32Array[][] = [];
  for (let e = from; e < to; e++) out.push(s.epoch(e));
  return out;
}

describe("all samplers", () => {
  it.each(NAMES)("%s: ⌊N/B⌋ full batches of valid rows, deterministic per seed, resumable", (name) => {
    const s = make(name);
    expect(s.name).toBe(name);
    expect(s.stepsPerEpoch()).toBe(25);
    const e0 = s.epoch(0);
    expect(e0).toHaveLength(25);
    for (const b of e0) {
      expect(b).toHaveLength(32);
      for (const i of b) expect(i >= 0 && i < N && labels[i] !== 4).toBe(true);
    }
    // same seed -> same stream; different seed -> different
    const a = make(name);
    const b = make(name);
    expect(epochs(a, 0, 3)).toEqual(epochs(b, 0, 3));
    expect(epochs(make(name, { seed: 2 }), 0, 1)).not.toEqual(epochs(make(name), 0, 1));
    // resume: state between epochs, through JSON, into a fresh sampler
    const orig = make(name);
    epochs(orig, 0, 2);
    const saved = JSON.parse(JSON.stringify(orig.state()));
    const rest = epochs(orig, 2, 5);
    const resumed = make(name);
    resumed.setState(saved);
    expect(epochs(resumed, 2, 5)).toEqual(rest);
    // a sampler refuses another sampler's state
    const other = NAMES.find((n) => n !== name)!;
    expect(() => make(other).setState(saved)).toThrow(/cannot restore a state saved by/);
    // class probabilities sum to 1 and give nothing to the empty class
    const p = s.classProbabilities(3);
    expect(p.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    expect(p[4]).toBe(0);
  });

  it("a batch larger than the data gives zero steps; bad arguments are explained", () => {
    expect(make("class_balanced", { batchSize: 1000 }).epoch(0)).toEqual([]);
    expect(() => make("instance_balanced", { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => make("q_power", { q: undefined })).toThrow(/q_power sampler: q must be a finite number/);
    expect(() => make("class_balanced", { labels: Int32Array.from([0, 7]) })).toThrow(
      /label 7 of row 1 is outside \[0, 5\)/,
    );
    expect(() => samplers.get("balanced")).toThrow(
      /unknown sampler 'balanced'; valid samplers: class_balanced, instance_balanced, progressive, q_power, square_root/,
    );
  });
});

describe("instance_balanced", () => {
  it("each epoch is a prefix of a permutation (no repeats) with n_j/N frequencies", () => {
    const s = make("instance_balanced");
    const e = s.epoch(0).flatMap((b) => Array.from(b));
    expect(new Set(e).size).toBe(800);
    expect(Array.from(s.classProbabilities(0))).toEqual([0.625, 0.25, 0.1, 0.025, 0]);
  });
});

describe("class_balanced", () => {
  it("visits emit 4 consecutive rows of one class; class order and per-class rows cycle without replacement", () => {
    const s = make("class_balanced", { shuffleInBatch: false });
    const stream = s.epoch(0).flatMap((b) => Array.from(b)); // 800 rows = 200 visits
    const visits: number[] = [];
    for (let t = 0; t < stream.length; t += 4) {
      const c = labels[stream[t]];
      for (let u = 1; u < 4; u++) expect(labels[stream[t + u]]).toBe(c);
      visits.push(c);
    }
    // every pass over the 4 non-empty classes visits each exactly once
    for (let v = 0; v < visits.length; v += 4) expect(visits.slice(v, v + 4).sort()).toEqual([0, 1, 2, 3]);
    // class 3 (20 rows): its first 20 emitted rows are all distinct, and so are the next 20
    const c3 = stream.filter((i) => labels[i] === 3);
    expect(new Set(c3.slice(0, 20)).size).toBe(20);
    expect(new Set(c3.slice(20, 40)).size).toBe(20);
  });

  it("numSamplesCls and in-batch shuffle; uniform class frequencies", () => {
    const s = make("class_balanced", { numSamplesCls: 2, shuffleInBatch: false });
    const st = s.epoch(0).flatMap((b) => Array.from(b));
    expect(labels[st[0]]).toBe(labels[st[1]]);
    const sh = make("class_balanced", { shuffleInBatch: true });
    const f = classFreq(epochs(sh, 0, 4).flat(), labels, 5);
    expect(f).toEqual([800, 800, 800, 800, 0]); // exactly balanced: 3200 rows = 800 visits = 200 passes
    expect(Array.from(sh.classProbabilities(0))).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
  });
});

describe("square_root and q_power", () => {
  it("square_root draws classes ∝ √n_j (chi-square, fixed seed)", () => {
    const s = make("square_root");
    const p = s.classProbabilities(0);
    const r = COUNTS.map(Math.sqrt);
    const tot = r.reduce((a, b) => a + b, 0);
    r.forEach((x, j) => expect(p[j]).toBeCloseTo(x / tot, 12));
    expect(chiSquare(classFreq(epochs(s, 0, 40).flat(), labels, 5), p)).toBeLessThan(CHI2_3DF);
  });

  it("q = 0 is i.i.d. class-balanced, q = 1 i.i.d. instance-balanced", () => {
    for (const q of [0, 1]) {
      const s = make("q_power", { q });
      const p = s.classProbabilities(0);
      if (q === 0) expect(Array.from(p)).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
      else expect(Array.from(p)).toEqual([0.625, 0.25, 0.1, 0.025, 0]);
      expect(chiSquare(classFreq(epochs(s, 0, 40).flat(), labels, 5), p)).toBeLessThan(CHI2_3DF);
    }
  });
});

describe("progressive", () => {
  it("λ = e/(E−1); E = 1 gives λ = 0; later epochs stay at 1", () => {
    expect(progressiveLambda(0, 90)).toBe(0);
    expect(progressiveLambda(89, 90)).toBe(1);
    expect(progressiveLambda(45, 91)).toBe(0.5);
    expect(progressiveLambda(0, 1)).toBe(0);
    expect(progressiveLambda(5, 3)).toBe(1);
  });

  it("p_j = (1−λ)·n_j/N + λ/C, from instance- to class-balanced", () => {
    const s = make("progressive", { numEpochs: 5 });
    expect(Array.from(s.classProbabilities(0))).toEqual([0.625, 0.25, 0.1, 0.025, 0]);
    expect(Array.from(s.classProbabilities(4))).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
    const mid = s.classProbabilities(2);
    [0.4375, 0.25, 0.175, 0.1375, 0].forEach((v, j) => expect(mid[j]).toBeCloseTo(v, 12));
    expect(Array.from(make("progressive", { numEpochs: 1 }).classProbabilities(0))).toEqual([
      0.625, 0.25, 0.1, 0.025, 0,
    ]);
  });

  it("frequencies follow the schedule at the first, middle and last epoch (chi-square)", () => {
    const big = makeLabels([5000, 2000, 800, 200]);
    const s = samplers.get("progressive")({ labels: big, numClasses: 4, batchSize: 100, seed: 3, numEpochs: 3 });
    for (let e = 0; e < 3; e++) {
      const x2 = chiSquare(classFreq(s.epoch(e), big, 4), s.classProbabilities(e));
      expect(x2).toBeLessThan(CHI2_3DF);
    }
  });

  it("rows of a class come from its cycling iterator (no repeats within a pass)", () => {
    const s = make("progressive", { numEpochs: 2 });
    const stream = epochs(s, 0, 2)
      .flat()
      .flatMap((b) => Array.from(b));
    const c3 = stream.filter((i) => labels[i] === 3);
    expect(c3.length).toBeGreaterThan(40);
    expect(new Set(c3.slice(0, 20)).size).toBe(20);
    expect(new Set(c3.slice(20, 40)).size).toBe(20);
  });
});
