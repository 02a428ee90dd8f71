/** Instance-balanced sampling (spec §8.1): a fresh uniform permutation of all rows every epoch. */
import { Rng } from "../rng.js";
import { checkArgs, checkState, normalise, toBatches, type BaseState } from "./common.js";
import type { BatchSampler, SamplerArgs } from "./types.js";

export class InstanceBalancedSampler implements BatchSampler {
  readonly name = "instance_balanced";
  private readonly rng: Rng;
  private readonly n: number;
  private readonly B: number;
  private readonly p: Float64Array;

  constructor(a: SamplerArgs) {
    checkArgs(this.name, a);
    this.rng = new Rng(a.seed);
    this.n = a.labels.length;
    this.B = a.batchSize;
    const counts = new Float64Array(a.numClasses);
    for (const y of a.labels) counts[y]++;
    this.p = normalise(counts);
  }

  stepsPerEpoch(): number {
    return Math.floor(this.n / this.B);
  }

  epoch(_epoch: number): Int32Array[] {
    // a permutation is already uniformly ordered: no in-batch shuffle needed
    return toBatches(this.rng.permutation(this.n), this.B, false, this.rng);
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
