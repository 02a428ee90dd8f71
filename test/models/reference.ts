/**
 * Plain-JS reference implementations with PyTorch semantics, used to check the tfjs layers.
 * Deliberately naive loops: obviously correct, only run on tiny shapes.
 */

/** Grouped NHWC conv with symmetric zero padding `pad`, weight [k,k,inC/groups,outC]. */
export function refConv2d(
  x: Float32Array,
  xShape: [number, number, number, number],
  w: Float32Array,
  k: number,
  outC: number,
  stride: number,
  pad: number,
  groups: number,
): { data: Float64Array; shape: [number, number, number, number] } {
  const [n, h, wd, inC] = xShape;
  const wi = inC / groups;
  const wo = outC / groups;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(n * oh * ow * outC);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < oh; r++)
      for (let c = 0; c < ow; c++)
        for (let o = 0; o < outC; o++) {
          const g = Math.floor(o / wo);
          let s = 0;
          for (let kh = 0; kh < k; kh++)
            for (let kw = 0; kw < k; kw++) {
              const y = r * stride - pad + kh;
              const xx = c * stride - pad + kw;
              if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
              for (let i = 0; i < wi; i++) {
                s += x[((b * h + y) * wd + xx) * inC + g * wi + i] * w[((kh * k + kw) * wi + i) * outC + o];
              }
            }
          out[((b * oh + r) * ow + c) * outC + o] = s;
        }
  return { data: out, shape: [n, oh, ow, outC] };
}

/** PyTorch MaxPool2d(k, stride, padding) on NHWC: padded cells never win (implicit −∞). */
export function refMaxPool(
  x: Float32Array,
  xShape: [number, number, number, number],
  k: number,
  stride: number,
  pad: number,
): Float64Array {
  const [n, h, wd, ch] = xShape;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(n * oh * ow * ch);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < oh; r++)
      for (let c = 0; c < ow; c++)
        for (let q = 0; q < ch; q++) {
          let m = -Infinity;
          for (let kh = 0; kh < k; kh++)
            for (let kw = 0; kw < k; kw++) {
              const y = r * stride - pad + kh;
              const xx = c * stride - pad + kw;
              if (y >= 0 && y < h && xx >= 0 && xx < wd) m = Math.max(m, x[((b * h + y) * wd + xx) * ch + q]);
            }
          out[((b * oh + r) * ow + c) * ch + q] = m;
        }
  return out;
}

/** Largest |a_i − b_i| / (atol + |b_i|)-style check: returns the max absolute difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Deterministic test data in [-1, 1) from a tiny LCG (independent of the library's Rng). */
export function testData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}
