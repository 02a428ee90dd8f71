/**
 * The fixture generator of scripts/fixtures/make_torch_goldens.py, re-implemented here (see that script's docstring):
 * the PyTorch goldens are computed from tensors filled by this generator, so the tests rebuild the same tensors
 * without committing megabytes of weights. Independent of the library's Rng on purpose.
 */

/** n values of the LCG s ← 1664525·s + 1013904223 (mod 2^32), each s/2^31 − 1 rounded to float32. */
export function lcgUniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** 32-bit FNV-1a of an ASCII key. */
export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The generated values of one state-dict tensor, in PyTorch's layout (conv: [out, in, k, k]) and C order. */
export function fixtureTensor(key: string, torchShape: number[]): Float32Array {
  const n = torchShape.reduce((a, b) => a * b, 1);
  const v = lcgUniform(n, fnv1a(key));
  const out = new Float32Array(n);
  let f: (x: number) => number;
  if (key.endsWith("running_mean")) f = (x) => 0.1 * x;
  else if (key.endsWith("running_var")) f = (x) => 1 + 0.5 * x;
  else if (torchShape.length === 4) {
    const scale = Math.sqrt(6 / (torchShape[2] * torchShape[3] * torchShape[0]));
    f = (x) => x * scale;
  } else if (key.endsWith(".weight")) f = (x) => 1 + 0.25 * x;
  else f = (x) => 0.1 * x;
  for (let i = 0; i < n; i++) out[i] = f(v[i]);
  return out;
}

/** PyTorch conv weight [out, in, kh, kw] → ours (tfjs NHWC filters) [kh, kw, in, out]. */
export function torchConvToNhwc(w: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = w[((a * i + b) * kh + y) * kw + x];
  return out;
}

/** NCHW → NHWC. */
export function nchwToNhwc(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let q = 0; q < w; q++) out[((b * h + y) * w + q) * c + ch] = x[((b * c + ch) * h + y) * w + q];
  return out;
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 1e-12;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}
