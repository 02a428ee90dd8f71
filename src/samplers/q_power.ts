/**
 * q-power sampling (docs/ARCHITECTURE.md, "Samplers"): each row of the epoch is drawn i.i.d. — class j with probability
 * n_j^q / Σ n_i^q, then a uniformly random row of that class (with replacement). q = ½ is the
 * paper's square-root sampler (classifier-balancing draws examples with weight ∝ n_j^{−½}, which
 * is the same distribution); q = 1 is i.i.d. instance sampling, q = 0 i.i.d. class-balanced.
 */
import { CategoricalSampler, FixedDistributionSampler, normalise, rowsPerClass, toBatches } from "./common.js";
import type { SamplerArgs } from "./types.js";

export class QPowerSampler extends FixedDistributionSampler {
  private readonly shuffle: boolean;
  private readonly rows: Int32Array[];
  private readonly cat: CategoricalSampler;
  protected readonly p: Float64Array;

  /** @param name registry name ("q_power" or "square_root"), used in state and errors. */
  constructor(a: SamplerArgs, q: number | undefined, name = "q_power") {
    super(name, a);
    if (q === undefined || !Number.isFinite(q)) {
      throw new Error(`${name} sampler: q must be a finite number (p_j ∝ n_j^q; set training_opt.sampler.q), got ${q}`);
    }
    this.shuffle = a.shuffleInBatch ?? false;
    this.rows = rowsPerClass(a.labels, a.numClasses);
    // an empty class gets weight 0 whatever q is (0^q is 1 or ∞ for q <= 0)
    const w = this.rows.map((r) => (r.length > 0 ? Math.pow(r.length, q) : 0));
    this.cat = new CategoricalSampler(w);
    this.p = normalise(w);
  }

  epoch(_epoch: number): Int32Array[] {
    const total = this.stepsPerEpoch() * this.B;
    const stream = new Int32Array(total);
    for (let t = 0; t < total; t++) {
      const r = this.rows[this.cat.draw(this.rng)];
      stream[t] = r[this.rng.int(r.length)];
    }
    return toBatches(stream, this.B, this.shuffle, this.rng);
  }
}
