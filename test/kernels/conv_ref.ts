/**
 * Float64 reference convolutions on plain arrays (NHWC activations, HWIO filters, explicit pads), the ground truth
 * for the native direct and Winograd kernels.
 */
export interface RefShape {
  N: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  K: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  DH: number;
  DW: number;
  PT: number;
  PL: number;
  PB: number;
  PR: number;
}

/** A shape from input/filter sizes, strides, dilations and pads (output size by the usual floor formula). */
export function refShape(
  x: [number, number, number, number],
  f: [number, number, number, number],
  s: [number, number],
  pads: [number, number, number, number],
  d: [number, number] = [1, 1],
): RefShape {
  const [N, H, W, C] = x;
  const [KH, KW, , K] = f;
  const [PT, PL, PB, PR] = pads;
  const OH = Math.floor((H + PT + PB - ((KH - 1) * d[0] + 1)) / s[0]) + 1;
  const OW = Math.floor((W + PL + PR - ((KW - 1) * d[1] + 1)) / s[1]) + 1;
  return { N, H, W, C, OH, OW, K, KH, KW, SH: s[0], SW: s[1], DH: d[0], DW: d[1], PT, PL, PB, PR };
}

export function params(s: RefShape): Int32Array {
  return Int32Array.from([
    s.N,
    s.H,
    s.W,
    s.C,
    s.OH,
    s.OW,
    s.K,
    s.KH,
    s.KW,
    s.SH,
    s.SW,
    s.DH,
    s.DW,
    s.PT,
    s.PL,
    s.PB,
    s.PR,
  ]);
}

/** Visit every (output pixel, tap) pair whose input pixel lies inside x. */
function each(s: RefShape, fn: (xi: number, yi: number, wi: number) => void): void {
  for (let n = 0; n < s.N; n++)
    for (let oh = 0; oh < s.OH; oh++)
      for (let ow = 0; ow < s.OW; ow++)
        for (let kh = 0; kh < s.KH; kh++) {
          const ih = oh * s.SH - s.PT + kh * s.DH;
          if (ih < 0 || ih >= s.H) continue;
          for (let kw = 0; kw < s.KW; kw++) {
            const iw = ow * s.SW - s.PL + kw * s.DW;
            if (iw < 0 || iw >= s.W) continue;
            fn(((n * s.H + ih) * s.W + iw) * s.C, ((n * s.OH + oh) * s.OW + ow) * s.K, (kh * s.KW + kw) * s.C * s.K);
          }
        }
}

export function refForward(s: RefShape, x: Float32Array, w: Float32Array): Float64Array {
  const y = new Float64Array(s.N * s.OH * s.OW * s.K);
  each(s, (xi, yi, wi) => {
    for (let c = 0; c < s.C; c++) for (let k = 0; k < s.K; k++) y[yi + k] += x[xi + c] * w[wi + c * s.K + k];
  });
  return y;
}

export function refBackwardData(s: RefShape, dy: Float32Array, w: Float32Array): Float64Array {
  const dx = new Float64Array(s.N * s.H * s.W * s.C);
  each(s, (xi, yi, wi) => {
    for (let c = 0; c < s.C; c++) for (let k = 0; k < s.K; k++) dx[xi + c] += dy[yi + k] * w[wi + c * s.K + k];
  });
  return dx;
}

export function refBackwardFilter(s: RefShape, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(s.KH * s.KW * s.C * s.K);
  each(s, (xi, yi, wi) => {
    for (let c = 0; c < s.C; c++) for (let k = 0; k < s.K; k++) dw[wi + c * s.K + k] += x[xi + c] * dy[yi + k];
  });
  return dw;
}
