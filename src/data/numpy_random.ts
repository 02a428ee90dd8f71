/**
 * A bit-exact port of the parts of numpy's legacy `RandomState` (MT19937) that the long-tailed
 * subset selection of LDAM-DRW / BBN / BagofTricks / MiSLAS / RIDE uses: integer seeding,
 * raw 32-bit outputs and `shuffle` of a 1-d array.
 *
 * Why a port: those codebases pick the n_c images of class c with `np.random.seed(0)` followed by
 * one `np.random.shuffle` per class; reproducing their exact subsets needs the same bit stream.
 * Verified against numpy (`np.random.seed(0); np.random.shuffle(np.arange(n))`), see
 * test/data/numpy_random.test.ts.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Serialisable state: the 624-word key and the read position (numpy's `get_state()[1:3]`). */
export interface NumpyRandomStateSnapshot {
  key: number[];
  pos: number;
}

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  /** @param seed integer in [0, 2^32), as accepted by `np.random.seed(int)`. */
  constructor(seed: number) {
    this.seed(seed);
  }

  /** numpy `mt19937_seed` (Matsumoto-Nishimura `init_genrand`): Knuth's 1812433253 recurrence. */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`NumpyRandomState: seed must be an integer in [0, 2^32 - 1] (numpy's rule), got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev mod 2^32 without losing bits: Math.imul is exact modulo 2^32.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  /** Regenerate the 624-word block (the MT19937 "twist"). */
  private twist(): void {
    const mt = this.mt;
    let y: number;
    let k = 0;
    for (; k < N - M; k++) {
      y = (mt[k] & UPPER_MASK) | (mt[k + 1] & LOWER_MASK);
      mt[k] = mt[k + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; k < N - 1; k++) {
      y = (mt[k] & UPPER_MASK) | (mt[k + 1] & LOWER_MASK);
      mt[k] = mt[k + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** Next raw 32-bit output (standard MT19937 tempering), as an unsigned number. */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Uniform integer in [0, max] by numpy's `random_interval`: mask to the smallest 2^k - 1 >= max
   * and redraw until the masked value is <= max (so the number of draws varies). max < 2^32 only.
   */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) {
      throw new Error(`NumpyRandomState.interval: max must be an integer in [0, 2^32 - 1], got ${max}`);
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0;
    while (v > max);
    return v;
  }

  /** In-place `RandomState.shuffle` of a 1-d array: for i = n-1 … 1 swap a[i] with a[interval(i)]. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** Full state, for debugging or exact resumption. */
  snapshot(): NumpyRandomStateSnapshot {
    return { key: Array.from(this.mt), pos: this.pos };
  }

  restore(s: NumpyRandomStateSnapshot): void {
    if (!s || !Array.isArray(s.key) || s.key.length !== N || !(s.pos >= 0 && s.pos <= N)) {
      throw new Error(`NumpyRandomState.restore: expected {key: 624 uint32 words, pos in [0, 624]}`);
    }
    this.mt.set(s.key);
    this.pos = s.pos;
  }
}
