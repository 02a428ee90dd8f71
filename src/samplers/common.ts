/** Pieces shared by the samplers: argument checks, per-class row lists, cycling iterators, batching. */
import { Rng, type RngState } from "../rng.js";
import type { BatchSampler, SamplerArgs } from "./types.js";

/** Validate the common arguments; `name` prefixes every message. */
export function checkArgs(name: string, a: SamplerArgs): void {
  if (!(a.labels instanceof Int32Array)) throw new Error(`${name} sampler: labels must be an Int32Array`);
  if (!Number.isInteger(a.numClasses) || a.numClasses < 1)
    throw new Error(`${name} sampler: numClasses must be a positive integer, got ${a.numClasses}`);
  if (!Number.isInteger(a.batchSize) || a.batchSize < 1)
    throw new Error(`${name} sampler: batchSize must be a positive integer, got ${a.batchSize}`);
  if (!Number.isInteger(a.seed)) throw new Error(`${name} sampler: seed must be an integer, got ${a.seed}`);
  if (a.labels.length === 0) throw new Error(`${name} sampler: no training labels`);
  for (let i = 0; i < a.labels.length; i++) {
    const y = a.labels[i];
    if (y < 0 || y >= a.numClasses)
      throw new Error(`${name} sampler: label ${y} of row ${i} is outside [0, ${a.numClasses})`);
  }
}

/** Ascending row indices of every class (empty classes get empty arrays). */
export function rowsPerClass(labels: Int32Array, numClasses: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (const y of labels) counts[y]++;
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) out[labels[i]][fill[labels[i]]++] = i;
  return out;
}

/** Serialised {@link CyclingIterator}. */
export interface CycleState {
  order: number[];
  pos: number;
}

/**
 * Endless iterator over a fixed set of items, reshuffled at the start of every pass (the first
 * pass included), i.e. OLTR's RandomCycleIter: without replacement within a pass.
 */
export class CyclingIterator {
  private order: Int32Array;
  private pos: number;

  constructor(items: ArrayLike<number>) {
    if (items.length === 0) throw new Error("CyclingIterator: no items");
    this.order = Int32Array.from(items);
    this.pos = this.order.length; // forces a shuffle on the first next()
  }

  next(rng: Rng): number {
    if (this.pos >= this.order.length) {
      rng.shuffle(this.order);
      this.pos = 0;
    }
    return this.order[this.pos++];
  }

  state(): CycleState {
    return { order: Array.from(this.order), pos: this.pos };
  }

  setState(s: CycleState, where: string): void {
    if (
      !s ||
      !Array.isArray(s.order) ||
      s.order.length !== this.order.length ||
      !(s.pos >= 0 && s.pos <= s.order.length)
    ) {
      throw new Error(`${where}: saved iterator state does not match this data (expected ${this.order.length} items)`);
    }
    this.order = Int32Array.from(s.order);
    this.pos = s.pos;
  }
}

/** Cut a stream of steps·B indices into `steps` batches, optionally shuffling each. */
export function toBatches(stream: Int32Array, batchSize: number, shuffle: boolean, rng: Rng): Int32Array[] {
  const steps = Math.floor(stream.length / batchSize);
  const out: Int32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const b = stream.slice(s * batchSize, (s + 1) * batchSize);
    if (shuffle) rng.shuffle(b);
    out.push(b);
  }
  return out;
}

/** Categorical draws over classes by inverse CDF (binary search); zero-weight classes are never drawn. */
export class CategoricalSampler {
  private readonly cdf: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cdf = new Float64Array(weights.length);
    let s = 0;
    for (let j = 0; j < weights.length; j++) {
      const w = weights[j];
      if (!(w >= 0) || !Number.isFinite(w))
        throw new Error(`CategoricalSampler: weight ${w} of class ${j} is not a finite number >= 0`);
      s += w;
      this.cdf[j] = s;
    }
    if (!(s > 0)) throw new Error("CategoricalSampler: all weights are zero");
  }

  draw(rng: Rng): number {
    const cdf = this.cdf;
    const u = rng.next() * cdf[cdf.length - 1];
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cdf[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Normalise weights to probabilities. */
export function normalise(w: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let j = 0; j < w.length; j++) s += w[j];
  const p = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) p[j] = w[j] / s;
  return p;
}

/** Base state every sampler stores: its name (checked on restore) and its Rng words. */
export interface BaseState {
  sampler: string;
  rng: RngState;
}

/** Check a state object's shape and owner before restoring it. */
export function checkState(name: string, s: unknown): asserts s is BaseState {
  const st = s as Partial<BaseState> | null;
  if (!st || typeof st !== "object" || st.sampler !== name || !Array.isArray(st.rng) || st.rng.length !== 4) {
    const got =
      st && typeof st === "object" && "sampler" in st ? `'${String(st.sampler)}'` : JSON.stringify(s)?.slice(0, 60);
    throw new Error(
      `${name} sampler: cannot restore a state saved by ${got}; resume with the sampler the run was started with`,
    );
  }
}

/**
 * A sampler whose class distribution p is fixed and whose only state is its Rng (instance-balanced, q-power):
 * ⌊N/B⌋ steps per epoch, p as the class probabilities of every epoch, the Rng words as the saved state.
 * Subclasses set `p` in their constructor and draw the epochs.
 */
export abstract class FixedDistributionSampler implements BatchSampler {
  protected readonly rng: Rng;
  protected readonly n: number;
  protected readonly B: number;
  protected abstract readonly p: Float64Array;

  /** @param name registry name, used in state and errors (checked here, before any subclass check). */
  constructor(
    readonly name: string,
    a: SamplerArgs,
  ) {
    checkArgs(name, a);
    this.rng = new Rng(a.seed);
    this.n = a.labels.length;
    this.B = a.batchSize;
  }

  abstract epoch(epoch: number): Int32Array[];

  stepsPerEpoch(): number {
    return Math.floor(this.n / this.B);
  }

  classProbabilities(_epoch: number): Float64Array {
    return this.p.slice();
  }

  state(): BaseState {
    return { sampler: this.name, rng: this.rng.state() };
  }

  setState(s: unknown): void {
    checkState(this.name, s);
    this.rng.setState(s.rng);
  }
}
