/**
 * The statistics behind the reproduction's findings (docs/STATISTICS.md): mean and sample standard deviation,
 * Student-t quantiles computed from the t distribution itself (any degrees of freedom, not a table), t intervals of
 * a mean over seeds (one sample, paired differences, Welch for two independent samples), a seeded percentile
 * bootstrap of a paired difference, and the three-way verdict read from an interval.
 *
 * Everything is deterministic: no clock, no Math.random (the bootstrap draws from the project's seeded Rng).
 */
import { Rng } from "../rng.js";

export function mean(xs: readonly number[]): number {
  if (!xs.length) throw new Error("mean: no values");
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (divisor n − 1); 0 for a single value. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-15). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 20000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return h;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b), 0 ≤ x ≤ 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` > 0 degrees of freedom (df need not be an integer: Welch). */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`tCdf: df must be > 0, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom, by bisection on {@link tCdf} to the last bit that
 * changes the CDF (about 1e-12 relative). tQuantile(0.975, 2) = 4.3027, tQuantile(0.975, 4) = 2.7764.
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`tQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new Error(`tQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e12) return Infinity;
  }
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A two-sided interval of an estimate; `null` bounds when it cannot be computed (fewer than 2 values). */
export interface Interval {
  /** The point estimate (a mean, or a difference of means). */
  estimate: number;
  lo: number | null;
  hi: number | null;
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** How it was computed, in words ("t, 5 seeds", "paired t, 5 seeds", "Welch t, 3 + 3 seeds", "bootstrap ..."). */
  method: string;
  /** Values it rests on (seeds, or pairs of seeds). */
  n: number;
}

/** t interval of the mean of `xs` (one value per seed). */
export function tInterval(xs: readonly number[], level = 0.95, what = "t"): Interval {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { estimate: m, lo: null, hi: null, level, method: `${what}, ${n} seed`, n };
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sampleSd(xs) / Math.sqrt(n));
  return { estimate: m, lo: m - half, hi: m + half, level, method: `${what}, ${n} seeds`, n };
}

/**
 * Paired t interval of mean(a − b): `a` and `b` are keyed by seed, and only seeds present in both count (two
 * numbers that share a stage-1 run, e.g. cRT and Joint on the same representation).
 */
export function pairedInterval(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, level = 0.95): Interval {
  const d: number[] = [];
  for (const [seed, x] of [...a.entries()].sort((p, q) => p[0] - q[0])) {
    const y = b.get(seed);
    if (y !== undefined) d.push(x - y);
  }
  if (!d.length) return { estimate: NaN, lo: null, hi: null, level, method: "paired t, no common seed", n: 0 };
  return tInterval(d, level, "paired t");
}

/**
 * Welch t interval of mean(a) − mean(b) for two independent samples (different stage-1 runs: different samplers).
 * Degrees of freedom by Welch–Satterthwaite; with zero spread in both samples the interval is the point.
 */
export function welchInterval(a: readonly number[], b: readonly number[], level = 0.95): Interval {
  const est = a.length && b.length ? mean(a) - mean(b) : NaN;
  const method = `Welch t, ${a.length} + ${b.length} seeds`;
  if (a.length < 2 || b.length < 2)
    return { estimate: est, lo: null, hi: null, level, method, n: Math.min(a.length, b.length) };
  const va = sampleSd(a) ** 2 / a.length;
  const vb = sampleSd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { estimate: est, lo: est, hi: est, level, method, n: Math.min(a.length, b.length) };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const half = tQuantile(1 - (1 - level) / 2, df) * se;
  return { estimate: est, lo: est - half, hi: est + half, level, method, n: Math.min(a.length, b.length) };
}

/** Options of {@link pairedBootstrap}. */
export interface BootstrapOpts {
  /** Resamples (default 2000). */
  reps?: number;
  /** Seed of the resampling stream (default 0): the same seed gives the same interval. */
  seed?: number;
  level?: number;
}

/**
 * Percentile bootstrap of mean(a_i − b_i) over paired items (test images: a_i, b_i are 1/0 for two classifiers'
 * correctness on image i). Items are resampled with replacement, the same draw for both, `reps` times.
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, o: BootstrapOpts = {}): Interval {
  const n = a.length;
  if (b.length !== n) throw new Error(`pairedBootstrap: ${n} values against ${b.length}`);
  if (!n) throw new Error("pairedBootstrap: no values");
  const reps = o.reps ?? 2000;
  const level = o.level ?? 0.95;
  const d = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = a[i] - b[i];
    sum += d[i];
  }
  const rng = new Rng(o.seed ?? 0);
  const stats = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    stats[r] = s / n;
  }
  stats.sort();
  const q = (p: number) => {
    // Type-7 quantile (linear interpolation between order statistics), as numpy's default.
    const h = (reps - 1) * p;
    const i = Math.floor(h);
    return i + 1 < reps ? stats[i] + (h - i) * (stats[i + 1] - stats[i]) : stats[i];
  };
  const alpha = (1 - level) / 2;
  return {
    estimate: sum / n,
    lo: q(alpha),
    hi: q(1 - alpha),
    level,
    method: `paired bootstrap over ${n} items, ${reps} resamples, seed ${o.seed ?? 0}`,
    n,
  };
}

export type Verdict = "holds" | "does not hold" | "inconclusive";

/**
 * The verdict of a claim "the quantity is above `threshold`" (side "above") or "below" it: **holds** when the
 * interval lies wholly on the claimed side (strictly), **does not hold** when wholly on the other side (the
 * threshold included), **inconclusive** otherwise, and whenever the interval could not be computed.
 */
export function verdict(iv: Interval, side: "above" | "below", threshold = 0): Verdict {
  if (iv.lo === null || iv.hi === null || !Number.isFinite(iv.lo) || !Number.isFinite(iv.hi)) return "inconclusive";
  if (side === "above") return iv.lo > threshold ? "holds" : iv.hi <= threshold ? "does not hold" : "inconclusive";
  return iv.hi < threshold ? "holds" : iv.lo >= threshold ? "does not hold" : "inconclusive";
}

/** The verdict of "the quantity lies strictly between lo and hi": outside means wholly at or beyond one end. */
export function verdictBetween(iv: Interval, lo: number, hi: number): Verdict {
  if (iv.lo === null || iv.hi === null || !Number.isFinite(iv.lo) || !Number.isFinite(iv.hi)) return "inconclusive";
  if (iv.lo > lo && iv.hi < hi) return "holds";
  if (iv.hi <= lo || iv.lo >= hi) return "does not hold";
  return "inconclusive";
}

/** "Every part holds": holds when all hold, does not hold when any does not, inconclusive otherwise. */
export function allOf(vs: readonly Verdict[]): Verdict {
  if (!vs.length) return "inconclusive";
  if (vs.some((v) => v === "does not hold")) return "does not hold";
  return vs.every((v) => v === "holds") ? "holds" : "inconclusive";
}

/** "At least one part holds": holds when any holds, does not hold when all do not, inconclusive otherwise. */
export function anyOf(vs: readonly Verdict[]): Verdict {
  if (!vs.length) return "inconclusive";
  if (vs.some((v) => v === "holds")) return "holds";
  return vs.every((v) => v === "does not hold") ? "does not hold" : "inconclusive";
}

/** "+3.1 [+1.2, +5.0]" (or "+3.1 [no interval: 1 seed]"), `digits` decimals, signed when `signed`. */
export function formatInterval(iv: Interval, digits = 1, signed = true): string {
  const f = (x: number) =>
    (signed && x > 0 ? "+" : "") +
    (Object.is(Math.round(x * 10 ** digits), -0) ? (0).toFixed(digits) : x.toFixed(digits));
  if (!Number.isFinite(iv.estimate)) return "n/a";
  if (iv.lo === null || iv.hi === null)
    return `${f(iv.estimate)} [no interval: ${iv.n} ${iv.n === 1 ? "seed" : "seeds"}]`;
  return `${f(iv.estimate)} [${f(iv.lo)}, ${f(iv.hi)}]`;
}
