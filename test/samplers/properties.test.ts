/**
 * Properties every sampler must have whatever its implementation: every row of every class can be drawn, the
 * random orders are drawn afresh (per class, per pass over the classes, per epoch), and the in-batch shuffle
 * really reorders a batch. Each is checked on the stream a training run would see (fixed seeds, so deterministic).
 */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { samplers } from "../../src/samplers/registry.js";
import type { SamplerArgs } from "../../src/samplers/types.js";
import { buildSampler } from "../../src/train/build.js";

/** Labels with class counts `counts`, classes interleaved so rows are not sorted by class. */
function makeLabels(counts: number[]): Int32Array {
  const out: number[] = [];
  const left = counts.slice();
  while (left.some((c) => c > 0)) left.forEach((c, j) => c > 0 && (out.push(j), left[j]--));
  return Int32Array.from(out);
}

const COUNTS = [30, 12, 5, 2, 0]; // class 4 has no rows
const labels = makeLabels(COUNTS);
const N = labels.length; // 49
const rowsOf = (j: number) => Array.from(labels.keys()).filter((i) => labels[i] === j);
const args = (over: Partial<SamplerArgs> = {}): SamplerArgs => ({
  labels,
  numClasses: 5,
  batchSize: 7,
  seed: 11,
  numEpochs: 40,
  q: 0.5,
  ...over,
});

/** The rows a sampler emits over epochs [0, epochs), in order. */
function stream(name: string, epochs: number, over: Partial<SamplerArgs> = {}): number[] {
  const s = samplers.get(name)(args(over));
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) for (const b of s.epoch(e)) out.push(...b);
  return out;
}

/** Consecutive passes of `n` rows of one class in a stream: pass k = its k-th block of n rows. */
function passes(rows: number[], n: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => rows.slice(k * n, (k + 1) * n).join(","));
}

describe("every row of every class is reachable", () => {
  const cases: [string, Partial<SamplerArgs>][] = [
    ["instance_balanced", {}],
    ["class_balanced", {}],
    ["class_balanced", { numSamplesCls: 3 }],
    ["square_root", {}],
    ["q_power", { q: 0 }],
    ["q_power", { q: 1 }],
    ["q_power", { q: -0.5 }],
    ["progressive", {}],
  ];
  it.each(cases)(
    "%s %o: over 40 epochs every row of every non-empty class is drawn, rows of the empty class never",
    (name, over) => {
      const drawn = new Set(stream(name, 40, over));
      for (let j = 0; j < COUNTS.length; j++) {
        const rows = rowsOf(j);
        const missing = rows.filter((r) => !drawn.has(r));
        expect(missing, `class ${j} (${rows.length} rows, last row ${rows.at(-1)}) rows never drawn`).toEqual([]);
      }
      expect(drawn.size).toBe(N);
    },
  );
});

describe("random orders are drawn afresh", () => {
  it("instance_balanced: each epoch a permutation without repeats, a different one every epoch", () => {
    const s = samplers.get("instance_balanced")(args());
    const epochs = Array.from({ length: 6 }, (_, e) => s.epoch(e).flatMap((b) => Array.from(b)));
    for (const e of epochs) expect(new Set(e).size).toBe(e.length);
    const distinct = new Set(epochs.map((e) => e.join(",")));
    expect(distinct.size).toBe(6);
    // not merely rotated or shifted: the first batches differ too
    expect(new Set(epochs.map((e) => e.slice(0, 7).join(","))).size).toBe(6);
  });

  it.each(["class_balanced", "progressive"])(
    "%s: each class's rows cycle without replacement, in a new order every pass",
    (name) => {
      const rows = stream(name, 40, { shuffleInBatch: false });
      for (const j of [0, 1, 2]) {
        const n = COUNTS[j];
        const mine = rows.filter((r) => labels[r] === j);
        const k = Math.min(8, Math.floor(mine.length / n));
        expect(k).toBeGreaterThanOrEqual(5);
        const ps = passes(mine, n, k);
        // each pass holds every row of the class exactly once ...
        for (const p of ps)
          expect(
            p
              .split(",")
              .map(Number)
              .sort((a, b) => a - b),
          ).toEqual(rowsOf(j));
        // ... in an order of its own: 30 and 12 rows never repeat an order by chance; 5 rows not all k times
        if (n >= 12) expect(new Set(ps).size).toBe(k);
        else expect(new Set(ps).size).toBeGreaterThan(1);
      }
    },
  );

  it("class_balanced: the class order is reshuffled after every pass over the classes", () => {
    // Batches of 28 = 7 whole visits of 4 per epoch, so no visit is cut at an epoch's end and visits line up.
    const k = 4;
    const rows = stream("class_balanced", 25, { shuffleInBatch: false, numSamplesCls: k, batchSize: 28 });
    const visits: number[] = [];
    for (let t = 0; t + k <= rows.length; t += k) visits.push(labels[rows[t]]);
    const present = 4; // classes 0..3
    const orders: string[] = [];
    for (let v = 0; v + present <= visits.length; v += present) {
      const pass = visits.slice(v, v + present);
      expect([...pass].sort()).toEqual([0, 1, 2, 3]); // every class once per pass
      orders.push(pass.join(","));
    }
    expect(orders.length).toBeGreaterThanOrEqual(40);
    expect(new Set(orders).size).toBeGreaterThanOrEqual(10); // of the 24 possible orders
  });
});

/** Fraction of adjacent pairs inside batches whose rows share a class. */
function sameClassAdjacent(batches: Int32Array[]): number {
  let same = 0;
  let pairs = 0;
  for (const b of batches) {
    for (let i = 1; i < b.length; i++) {
      pairs++;
      if (labels[b[i]] === labels[b[i - 1]]) same++;
    }
  }
  return same / pairs;
}

describe("the in-batch shuffle reorders each batch", () => {
  // Class-balanced batches arrive as runs of numSamplesCls same-class rows; a shuffled batch of 28 rows (7 visits
  // of 4) has ~20% same-class neighbours, an unshuffled one at least 3/4.
  const cb = (shuffleInBatch: boolean) => samplers.get("class_balanced")(args({ batchSize: 28, shuffleInBatch }));

  it("class_balanced with shuffleInBatch: runs of one class are broken up; the class mix per batch is unchanged", () => {
    const plain = Array.from({ length: 10 }, (_, e) => cb(false).epoch(e)).flat();
    const shuffled = Array.from({ length: 10 }, (_, e) => cb(true).epoch(e)).flat();
    expect(sameClassAdjacent(plain)).toBeGreaterThanOrEqual(0.75);
    expect(sameClassAdjacent(shuffled)).toBeLessThan(0.45);
    // a shuffled batch is still 7 whole visits of 4: every class count a multiple of 4
    for (const b of shuffled) {
      const per = new Map<number, number>();
      for (const r of b) per.set(labels[r], (per.get(labels[r]) ?? 0) + 1);
      for (const c of per.values()) expect(c % 4).toBe(0);
    }
  });

  it("the config's `shuffle` reaches the sampler a run builds (buildSampler)", () => {
    const ds = { train: { labels }, numClasses: 5 } as unknown as Dataset;
    const build = (shuffle: boolean) =>
      buildSampler(
        resolveConfig(
          {
            shuffle,
            training_opt: {
              dataset: "FashionMNIST_LT",
              num_classes: 5,
              batch_size: 28,
              num_epochs: 10,
              sampler: { type: "class_balanced", num_samples_cls: 4 },
            },
          },
          "shuffle.yaml",
        ).config,
        ds,
      );
    const epochs = (s: ReturnType<typeof build>) => Array.from({ length: 10 }, (_, e) => s.epoch(e)).flat();
    expect(sameClassAdjacent(epochs(build(false)))).toBeGreaterThanOrEqual(0.75);
    expect(sameClassAdjacent(epochs(build(true)))).toBeLessThan(0.45);
  });
});
