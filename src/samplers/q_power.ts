/**
 * q-power sampling (spec §8.3): each row of the epoch is drawn i.i.d. — class j with probability
 * n_j^q / Σ n_i^q, then a uniformly random row of that class (with replacement). q = ½ is the
 * paper's square-root sampler (classifier-balancing draws examples with weight ∝ n_j^{−½}, which
 * is the same distribution); q = 1 is i.i.d. instance sampling, q = 0 i.i.d. class-balanced.
 */
import { Rng } from "../rng.js";
import { CategoricalSampler, checkArgs, checkState, normalise, rowsPerClass, toBatches, type BaseState } from "./common.js";
import type { BatchSampler, SamplerArgs } from "./types.js";

export class QPowerSampler implements BatchSampler {
  readonly name: string;
  private readonly rng: Rng;
  private readonly n: number;
  private readonly B: number;
  private readonly shuffle: boolean;
  private readonly rows: Int32Array[];
  private readonly cat: CategoricalSampler;
  private readonly p: Float64Array;

  /** @param name registry name ("q_power" or "square_root"), used in state and errors. */
  constructor(a: SamplerArgs, q: number | undefined, name = "q_power") {
    this.name = name;
    checkArgs(name, a);
    if (q === undefined || !Number.isFinite(q)) {
      throw new Error(`${name} sampler: q must be a finite number (p_j ∝ n_j^q; set training_opt.sampler.q), got ${q}`);
    }
    this.rng = new Rng(a.seed);
    this.n = a.labels.length;
    this.B = a.batchSize;
    this.shuffle = a.shuffleInBatch ?? false;
    this.rows = rowsPerClass(a.labels, a.numClasses);
    // an empty class gets weight 0 whatever q is (0^q is 1 or ∞ for q <= 0)
    const w = this.rows.map((r) => (r.length > 0 ? Math.pow(r.length, q) : 0));
    this.cat = new CategoricalSampler(w);
    this.p = normalise(w);
  }

  stepsPerEpoch(): number {
    return Math.floor(this.n / this.B);
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
