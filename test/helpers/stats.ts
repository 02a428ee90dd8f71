/** Small statistical checks for initialisations: Kolmogorov–Smirnov against a uniform law, moments, correlation. */
import { expect } from "vitest";

/** Kolmogorov–Smirnov statistic of a sample against U(lo, hi). */
export function ksUniform(values: ArrayLike<number>, lo: number, hi: number): number {
  const x = Float64Array.from(values).sort();
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = Math.min(1, Math.max(0, (x[i] - lo) / (hi - lo)));
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** KS critical value at significance 0.001 (asymptotic: 1.95/√n). */
export const ks001 = (n: number): number => 1.95 / Math.sqrt(n);

/** Assert `v` is a sample of U(−bound, bound): KS, mean, variance b²/3, and a range that reaches the bound. */
export function expectUniform(v: ArrayLike<number>, bound: number, what: string): void {
  const n = v.length;
  const a = Array.from(v);
  expect(ksUniform(a, -bound, bound), `${what}: KS distance to U(±${bound.toFixed(4)})`).toBeLessThan(ks001(n));
  const mean = a.reduce((s, x) => s + x, 0) / n;
  const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  const sd = bound / Math.sqrt(3);
  expect(Math.abs(mean), `${what}: mean`).toBeLessThan((4 * sd) / Math.sqrt(n));
  expect(variance / (sd * sd), `${what}: variance / (b²/3)`).toBeGreaterThan(1 - 8 / Math.sqrt(n));
  expect(variance / (sd * sd), `${what}: variance / (b²/3)`).toBeLessThan(1 + 8 / Math.sqrt(n));
  expect(Math.max(...a.map(Math.abs)), `${what}: |v| ≤ bound`).toBeLessThanOrEqual(bound);
  expect(Math.max(...a), `${what}: max reaches the bound`).toBeGreaterThan(bound * (1 - 20 / n));
  expect(Math.min(...a), `${what}: min reaches −bound`).toBeLessThan(-bound * (1 - 20 / n));
}

/** Pearson correlation of two equally long samples (uncentred: weights are centred at 0 by construction). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`correlation: lengths ${a.length} and ${b.length}`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
