/**
 * Class-balanced sampling (docs/ARCHITECTURE.md, "Samplers"; OLTR's ClassAwareSampler): a cycling, reshuffled class order;
 * every class visit emits `numSamplesCls` consecutive rows from that class's own cycling, reshuffled
 * iterator. All iterators persist across epochs; a run cut off by the end of an epoch is dropped
 * (each epoch starts with a fresh class visit, like the reference's per-epoch generator).
 */
import { Rng } from "../rng.js";
import {
  type BaseState,
  type CycleState,
  CyclingIterator,
  checkArgs,
  checkState,
  rowsPerClass,
  toBatches,
} from "./common.js";
import type { BatchSampler, SamplerArgs } from "./types.js";

interface ClassBalancedState extends BaseState {
  classes: CycleState;
  perClass: (CycleState | null)[];
}

export class ClassBalancedSampler implements BatchSampler {
  readonly name = "class_balanced";
  private readonly rng: Rng;
  private readonly n: number;
  private readonly B: number;
  private readonly k: number;
  private readonly shuffle: boolean;
  private readonly classIter: CyclingIterator;
  private readonly perClass: (CyclingIterator | null)[];
  private readonly p: Float64Array;

  constructor(a: SamplerArgs) {
    checkArgs(this.name, a);
    const k = a.numSamplesCls ?? 4;
    if (!Number.isInteger(k) || k < 1)
      throw new Error(`class_balanced sampler: numSamplesCls must be a positive integer, got ${k}`);
    this.rng = new Rng(a.seed);
    this.n = a.labels.length;
    this.B = a.batchSize;
    this.k = k;
    this.shuffle = a.shuffleInBatch ?? false;
    const rows = rowsPerClass(a.labels, a.numClasses);
    // classes without training rows cannot be visited; they get probability 0
    const present = rows.map((r, j) => (r.length > 0 ? j : -1)).filter((j) => j >= 0);
    this.classIter = new CyclingIterator(present);
    this.perClass = rows.map((r) => (r.length > 0 ? new CyclingIterator(r) : null));
    this.p = new Float64Array(a.numClasses);
    for (const j of present) this.p[j] = 1 / present.length;
  }

  stepsPerEpoch(): number {
    return Math.floor(this.n / this.B);
  }

  epoch(_epoch: number): Int32Array[] {
    const total = this.stepsPerEpoch() * this.B;
    const stream = new Int32Array(total);
    let it: CyclingIterator | null = null;
    for (let t = 0; t < total; t++) {
      if (t % this.k === 0) it = this.perClass[this.classIter.next(this.rng)];
      stream[t] = it!.next(this.rng);
    }
    return toBatches(stream, this.B, this.shuffle, this.rng);
  }

  classProbabilities(_epoch: number): Float64Array {
    return this.p.slice();
  }

  state(): ClassBalancedState {
    return {
      sampler: this.name,
      rng: this.rng.state(),
      classes: this.classIter.state(),
      perClass: this.perClass.map((c) => (c ? c.state() : null)),
    };
  }

  setState(s: unknown): void {
    checkState(this.name, s);
    const st = s as ClassBalancedState;
    if (!Array.isArray(st.perClass) || st.perClass.length !== this.perClass.length) {
      throw new Error(
        `class_balanced sampler: saved state has ${st.perClass?.length} classes, this data has ${this.perClass.length}`,
      );
    }
    this.classIter.setState(st.classes, "class_balanced sampler (class order)");
    this.perClass.forEach((c, j) => {
      if (c) c.setState(st.perClass[j] as CycleState, `class_balanced sampler (class ${j})`);
    });
    this.rng.setState(st.rng);
  }
}
