// AVX-512 form of the direct kernels' register block (conv_direct.cc, gconvBlock): 6 pixels x 32 channels, i.e. two
// of the 16-channel weight panels at once, one 16-lane vector per panel.
//
// Why: on CPUs with full-width AVX-512 units (AMD Zen 5, Intel server cores) one 16-lane FMA costs what one 8-lane
// FMA costs, so the same register block does twice the multiply-adds per cycle (measured on this project's Zen 5 VM:
// 215-223 GFLOP/s on one core in cache, against 108-112 for the AVX2 block; docs/PERFORMANCE.md).
//
// Same numbers as the AVX2 block: every output element is one FMA chain over taps, then channels, in the same order,
// starting from zero; the epilogue multiplies, adds, adds the residual and takes max(0, v) as applyEpilogue does.
// Which elements share a vector changes, no rounding does (docs/DETERMINISM.md, "AVX2 and AVX-512"). The file is
// compiled with the base x86-64-v3 flags; only the functions marked LTR_AVX512 use AVX-512F, and they are called only
// when g_kernelIsa says the CPU has it.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#define LTR_AVX512 __attribute__((target("avx512f")))

namespace ltr {

// Mask of the first n (0..16) lanes.
LTR_AVX512 inline __mmask16 lanes16(int n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// Loads and stores of mask m's lanes, unmasked when all 16 are wanted: masked accesses are slower on Zen 5 (measured:
// the Winograd output transform at 16 channels 1.3x slower with masked stores).
LTR_AVX512 inline __m512 loadM(__mmask16 m, const float* p) {
  return m == 0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
LTR_AVX512 inline void storeM(float* p, __mmask16 m, __m512 v) {
  if (m == 0xFFFF)
    _mm512_storeu_ps(p, v);
  else
    _mm512_mask_storeu_ps(p, m, v);
}

// v * k + b (+ residual) (max 0), rounded step by step like applyEpilogue (conv_own.h).
LTR_AVX512 inline __m512 applyEpilogue512(__m512 v, __m512 k, __m512 b, const float* r, __mmask16 m, bool relu) {
  v = _mm512_add_ps(_mm512_mul_ps(v, k), b);
  if (r) v = _mm512_add_ps(v, loadM(m, r));
  // max(0, v) with v second, as _mm256_max_ps(0, v): a NaN v and -0 stay as they are.
  if (relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
  return v;
}

// out[i][0..kvalid) (kvalid 1..32) = sum over taps t, then j < J, of src[t*6 + i][j] * panel(t)[j][0..32), where
// the panel's channels 0..15 are wt[t][j*16 + 0..15] and channels 16..31 are wt[t][next + j*16 + 0..15] (the next
// 16-channel panel of the packed filters). Epilogue arguments as for gconvBlock, for 32 channels.
LTR_AVX512 inline void gconvBlock512(int ntaps, const float* const* src, const float* const* wt, size_t next, int J,
                                     float* const* out, int nOut, int kvalid, const float* ek, const float* eb,
                                     const float* const* res, bool relu) {
  constexpr int MR = 6;
  __m512 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int t = 0; t < ntaps; ++t) {
    const float* w = wt[t];
    const float* s0 = src[t * MR + 0];
    const float* s1 = src[t * MR + 1];
    const float* s2 = src[t * MR + 2];
    const float* s3 = src[t * MR + 3];
    const float* s4 = src[t * MR + 4];
    const float* s5 = src[t * MR + 5];
    for (int j = 0; j < J; ++j) {
      const __m512 w0 = _mm512_load_ps(w + j * 16), w1 = _mm512_load_ps(w + next + j * 16);
      __m512 b;
      b = _mm512_set1_ps(s0[j]);
      acc[0][0] = _mm512_fmadd_ps(b, w0, acc[0][0]);
      acc[0][1] = _mm512_fmadd_ps(b, w1, acc[0][1]);
      b = _mm512_set1_ps(s1[j]);
      acc[1][0] = _mm512_fmadd_ps(b, w0, acc[1][0]);
      acc[1][1] = _mm512_fmadd_ps(b, w1, acc[1][1]);
      b = _mm512_set1_ps(s2[j]);
      acc[2][0] = _mm512_fmadd_ps(b, w0, acc[2][0]);
      acc[2][1] = _mm512_fmadd_ps(b, w1, acc[2][1]);
      b = _mm512_set1_ps(s3[j]);
      acc[3][0] = _mm512_fmadd_ps(b, w0, acc[3][0]);
      acc[3][1] = _mm512_fmadd_ps(b, w1, acc[3][1]);
      b = _mm512_set1_ps(s4[j]);
      acc[4][0] = _mm512_fmadd_ps(b, w0, acc[4][0]);
      acc[4][1] = _mm512_fmadd_ps(b, w1, acc[4][1]);
      b = _mm512_set1_ps(s5[j]);
      acc[5][0] = _mm512_fmadd_ps(b, w0, acc[5][0]);
      acc[5][1] = _mm512_fmadd_ps(b, w1, acc[5][1]);
    }
  }
  const __mmask16 m0 = lanes16(kvalid), m1 = lanes16(kvalid - 16);
  if (ek) {
    const __m512 k0 = loadM(m0, ek), k1 = loadM(m1, ek + 16);
    const __m512 b0 = loadM(m0, eb), b1 = loadM(m1, eb + 16);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const float* r = res && i < nOut ? res[i] : nullptr;
      acc[i][0] = applyEpilogue512(acc[i][0], k0, b0, r, m0, relu);
      acc[i][1] = applyEpilogue512(acc[i][1], k1, b1, r ? r + 16 : nullptr, m1, relu);
    }
  }
  // Constant indices only, so the accumulators stay in registers; the rows of a partial block are masked off.
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i < nOut) {
      storeM(out[i], m0, acc[i][0]);
      storeM(out[i] + 16, m1, acc[i][1]);
    }
  }
}

// The same for a single 16-channel panel (layers with 16 channels, or the last of an odd number of panels): 6 pixels
// x 16 channels, one 16-lane vector per pixel where the AVX2 block (gconvBlock) needs two 8-lane ones. kvalid 1..16.
// Six accumulators keep the FMA units about three-quarters busy, against half for the AVX2 block's twelve 8-lane ones.
LTR_AVX512 inline void gconvBlock512One(int ntaps, const float* const* src, const float* const* wt, int J,
                                        float* const* out, int nOut, int kvalid, const float* ek, const float* eb,
                                        const float* const* res, bool relu) {
  constexpr int MR = 6;
  __m512 acc[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i] = _mm512_setzero_ps();
  for (int t = 0; t < ntaps; ++t) {
    const float* w = wt[t];
    const float* const* px = src + t * MR;  // the block's 6 pixel rows for this tap
    for (int j = 0; j < J; ++j) {
      const __m512 w0 = _mm512_load_ps(w + j * 16);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(px[i][j]), w0, acc[i]);
    }
  }
  const __mmask16 m0 = lanes16(kvalid);
  if (ek) {
    const __m512 k0 = loadM(m0, ek), b0 = loadM(m0, eb);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i)
      acc[i] = applyEpilogue512(acc[i], k0, b0, res && i < nOut ? res[i] : nullptr, m0, relu);
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
    if (i < nOut) storeM(out[i], m0, acc[i]);
}

// The filter gradient's block (conv_direct.cc, wgradRun) for 32 output channels: acc rows i < RB x two 16-channel
// panels, accumulated over `rows` x `cols` pixels into the partial sums at part (row i at part + i * partStride);
// kvalid (1..32) channels of dy are read, the others count as zeros. One FMA chain per element, pixels in order.
template <int RB>
LTR_AVX512 void wgradRun512(const float* base, int64_t colStep, int64_t rowStep, int rows, int cols, const int* off,
                            const float* dyp, int K, float* part, int64_t partStride, int kvalid) {
  __m512 acc[RB][2];
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) {
    acc[i][0] = _mm512_loadu_ps(part + i * partStride);
    acc[i][1] = _mm512_loadu_ps(part + i * partStride + 16);
  }
  int o[RB];
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) o[i] = off[i];
  const __mmask16 m0 = lanes16(kvalid), m1 = lanes16(kvalid - 16);
  for (int r = 0; r < rows; ++r) {
    const float* b = base + r * rowStep;
    for (int p = 0; p < cols; ++p) {
      const __m512 d0 = loadM(m0, dyp), d1 = loadM(m1, dyp + 16);
#pragma GCC unroll 6
      for (int i = 0; i < RB; ++i) {
        const __m512 v = _mm512_set1_ps(b[o[i]]);
        acc[i][0] = _mm512_fmadd_ps(v, d0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(v, d1, acc[i][1]);
      }
      b += colStep;
      dyp += K;
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) {
    _mm512_storeu_ps(part + i * partStride, acc[i][0]);
    _mm512_storeu_ps(part + i * partStride + 16, acc[i][1]);
  }
}

}  // namespace ltr
