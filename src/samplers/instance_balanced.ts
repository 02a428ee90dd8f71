/** Instance-balanced sampling (docs/ARCHITECTURE.md, "Samplers"): a fresh uniform permutation of all rows every epoch. */
import { FixedDistributionSampler, normalise, toBatches } from "./common.js";
import type { SamplerArgs } from "./types.js";

export class InstanceBalancedSampler extends FixedDistributionSampler {
  protected readonly p: Float64Array;

  constructor(a: SamplerArgs) {
    super("instance_balanced", a);
    const counts = new Float64Array(a.numClasses);
    for (const y of a.labels) counts[y]++;
    this.p = normalise(counts);
  }

  epoch(_epoch: number): Int32Array[] {
    // a permutation is already uniformly ordered: no in-batch shuffle needed
    return toBatches(this.rng.permutation(this.n), this.B, false, this.rng);
  }
}
