/**
 * JS im2col / col2im for NHWC convolutions, working directly on wasm-heap `Float32Array`s.
 *
 * `im2colT` writes the patch matrix already transposed, [kh·kw·Cin, N·OH·OW], so the filter gradient is
 * one untransposed GEMM `colT · dy` (XNNPACK) that lands directly in TF's [kh, kw, Cin, Cout] layout.
 * `col2imAdd` scatters a [N·OH·OW, kh·kw·Cin] column matrix back into an NHWC image (input gradient).
 */

/** Geometry of one NHWC convolution (dilation 1), as computed by `backend_util.computeConv2DInfo`. */
export interface ConvGeometry {
  /** Batch size N. */
  batch: number;
  /** Input height H and width W. */
  inHeight: number;
  inWidth: number;
  /** Input channels Cin. */
  inChannels: number;
  /** Output height OH and width OW. */
  outHeight: number;
  outWidth: number;
  /** Filter height kh and width kw. */
  filterHeight: number;
  filterWidth: number;
  /** Strides. */
  strideHeight: number;
  strideWidth: number;
  /** Zero padding before the first row / column (TF's top / left). */
  padTop: number;
  padLeft: number;
}

/** Range of output columns ox in [0, OW) whose input column ox*sw - pL + kx lies inside [0, W). */
function validRange(k: number, pad: number, stride: number, inSize: number, outSize: number): [number, number] {
  // ox*s - pad + k >= 0  <=>  ox >= (pad - k) / s ;  ox*s - pad + k <= inSize-1
  const lo = Math.max(0, Math.ceil((pad - k) / stride));
  const hi = Math.min(outSize, Math.floor((inSize - 1 + pad - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Fill `colT` ([kh·kw·Cin, N·OH·OW], every element written) from the NHWC image `x`.
 * Loop order: per tap (ky, kx) and output row (n, oy), copy channel by channel. The input row segment
 * (OW·Cin floats) stays in L1 across the Cin passes and each pass writes one contiguous run. Two orders
 * measured slower: per (tap, channel) over the whole image strides through x kh·kw·Cin times (~3×), and
 * per pixel scattering Cin values into Cin rows thrashes the cache when N·OH·OW is a power of two (~3×).
 */
export function im2colT(x: Float32Array, colT: Float32Array, g: ConvGeometry): void {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, padTop: PT, padLeft: PL } = g;
  const M = N * OH * OW;
  const rowStrideX = W * C;
  const stepX = SW * C;
  for (let ky = 0; ky < KH; ky++) {
    for (let kx = 0; kx < KW; kx++) {
      const [oxLo, oxHi] = validRange(kx, PL, SW, W, OW);
      const rowBase = (ky * KW + kx) * C * M; // colT offset of channel 0 of this tap
      let m = 0;
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < OH; oy++, m += OW) {
          const iy = oy * SH - PT + ky;
          if (iy < 0 || iy >= H) {
            for (let c = 0; c < C; c++) colT.fill(0, rowBase + c * M + m, rowBase + c * M + m + OW);
            continue;
          }
          if (oxLo > 0 || oxHi < OW) {
            for (let c = 0; c < C; c++) {
              const o = rowBase + c * M + m;
              colT.fill(0, o, o + oxLo);
              colT.fill(0, o + oxHi, o + OW);
            }
          }
          const xRow = n * H * rowStrideX + iy * rowStrideX + (oxLo * SW - PL + kx) * C;
          for (let c = 0; c < C; c++) {
            let o = rowBase + c * M + m + oxLo;
            let xi = xRow + c;
            for (let ox = oxLo; ox < oxHi; ox++, xi += stepX) colT[o++] = x[xi];
          }
        }
      }
    }
  }
}

/** dx (NHWC, zero-initialised here) = sum of the column matrix `cols` ([N·OH·OW, kh·kw·Cin]) over patches. */
export function col2im(cols: Float32Array, dx: Float32Array, g: ConvGeometry): void {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, padTop: PT, padLeft: PL } = g;
  const K = KH * KW * C;
  dx.fill(0);
  let m = 0;
  for (let n = 0; n < N; n++) {
    const imgBase = n * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, m++) {
        const colBase = m * K;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * SH - PT + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * SW - PL + kx;
            if (ix < 0 || ix >= W) continue;
            const d = imgBase + (iy * W + ix) * C;
            const s = colBase + (ky * KW + kx) * C;
            for (let c = 0; c < C; c++) dx[d + c] += cols[s + c];
          }
        }
      }
    }
  }
}
