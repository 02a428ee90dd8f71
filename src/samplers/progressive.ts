/**
 * Progressively-balanced sampling (the original ClassPrioritySampler with lam null; docs/ORIGINAL_CODE.md,
 * "Samplers"): for 0-based epoch e of E, λ = e/(E−1) and class j is drawn i.i.d. with p_j = (1−λ)·n_j/N + λ/C; the row is the next one from class j's cycling,
 * reshuffled iterator (without replacement within a pass; iterators persist across epochs).
 * E = 1 gives λ = 0 (instance-balanced) since there is no schedule to follow; epochs past E−1 keep
 * λ = 1. C counts only classes with training rows, so empty classes are never drawn.
 * E is the run's epoch count, or the sampler's own `scheduleEpochs` when given: the original ClassPrioritySampler
 * spaces λ over its `epochs` argument, λ_e = linspace(0, 1, epochs)[min(e, epochs−1)] (docs/ORIGINAL_CODE.md).
 */
import { Rng } from "../rng.js";
import {
  type BaseState,
  CategoricalSampler,
  type CycleState,
  CyclingIterator,
  checkArgs,
  checkState,
  rowsPerClass,
  toBatches,
} from "./common.js";
import type { BatchSampler, SamplerArgs } from "./types.js";

interface ProgressiveState extends BaseState {
  perClass: (CycleState | null)[];
}

/** λ for 0-based epoch e of E epochs. */
export function progressiveLambda(epoch: number, numEpochs: number): number {
  if (numEpochs <= 1) return 0;
  return Math.min(1, Math.max(0, epoch / (numEpochs - 1)));
}

export class ProgressiveSampler implements BatchSampler {
  readonly name = "progressive";
  private readonly rng: Rng;
  private readonly n: number;
  private readonly B: number;
  private readonly E: number;
  private readonly shuffle: boolean;
  private readonly counts: number[];
  private readonly present: number;
  private readonly perClass: (CyclingIterator | null)[];

  constructor(a: SamplerArgs) {
    checkArgs(this.name, a);
    if (!Number.isInteger(a.numEpochs) || a.numEpochs < 1)
      throw new Error(`progressive sampler: numEpochs must be a positive integer, got ${a.numEpochs}`);
    const E = a.scheduleEpochs ?? a.numEpochs;
    if (!Number.isInteger(E) || E < 1)
      throw new Error(
        `progressive sampler: the schedule length (training_opt.sampler.epochs) must be a positive integer, got ${a.scheduleEpochs}`,
      );
    this.rng = new Rng(a.seed);
    this.n = a.labels.length;
    this.B = a.batchSize;
    this.E = E;
    this.shuffle = a.shuffleInBatch ?? false;
    const rows = rowsPerClass(a.labels, a.numClasses);
    this.counts = rows.map((r) => r.length);
    this.present = this.counts.filter((c) => c > 0).length;
    this.perClass = rows.map((r) => (r.length > 0 ? new CyclingIterator(r) : null));
  }

  stepsPerEpoch(): number {
    return Math.floor(this.n / this.B);
  }

  classProbabilities(epoch: number): Float64Array {
    const lam = progressiveLambda(epoch, this.E);
    return Float64Array.from(this.counts, (c) => (c > 0 ? ((1 - lam) * c) / this.n + lam / this.present : 0));
  }

  epoch(epoch: number): Int32Array[] {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new Error(`progressive sampler: epoch must be an integer >= 0, got ${epoch}`);
    const cat = new CategoricalSampler(this.classProbabilities(epoch));
    const total = this.stepsPerEpoch() * this.B;
    const stream = new Int32Array(total);
    for (let t = 0; t < total; t++) stream[t] = this.perClass[cat.draw(this.rng)]!.next(this.rng);
    return toBatches(stream, this.B, this.shuffle, this.rng);
  }

  state(): ProgressiveState {
    return { sampler: this.name, rng: this.rng.state(), perClass: this.perClass.map((c) => (c ? c.state() : null)) };
  }

  setState(s: unknown): void {
    checkState(this.name, s);
    const st = s as ProgressiveState;
    if (!Array.isArray(st.perClass) || st.perClass.length !== this.perClass.length) {
      throw new Error(
        `progressive sampler: saved state has ${st.perClass?.length} classes, this data has ${this.perClass.length}`,
      );
    }
    this.perClass.forEach((c, j) => {
      if (c) c.setState(st.perClass[j] as CycleState, `progressive sampler (class ${j})`);
    });
    this.rng.setState(st.rng);
  }
}
