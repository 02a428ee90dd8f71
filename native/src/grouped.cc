// Direct forward kernel for grouped convolutions with 1, 2 or 4 channels per group (ResNeXt 32x4d's first stage).
//
// Why: oneDNN 2.6 has no jit kernel for NHWC grouped convolutions with fewer than 8 channels per group; it falls
// back to a per-group im2col + GEMM (~4 GFLOP/s), and the merged-group plan of conv.cc that avoids that doubles the
// FLOPs. Here a vector holds 8 consecutive output channels, i.e. 8/cg whole groups, whose inputs are exactly the
// same 8 channels of the input pixel: load those 8 once per tap and, for each i < cg, shuffle within 128-bit lanes
// so that lane l holds input channel (l − l % cg) + i of its group, then multiply-add the filter taps (AVX2 + FMA).
// A tile is up to 8 output pixels of one row; tiles whose taps all lie inside the row read their inputs at a fixed
// stride, the few border columns read a zero buffer for out-of-image taps. The summation order is fixed (taps in (kh,
// kw) order, then the cg inputs), so results do not depend on the thread count. For 8 and more channels per group
// oneDNN's jit kernel is as fast or faster (measured on ResNeXt-50's layers), so those shapes, and machines without
// AVX2/FMA, return false and go to oneDNN.
#include "grouped.h"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "common.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace ltr {

#if defined(__AVX2__) && defined(__FMA__)
namespace {

// Full unrolling of the tile loops (compile-time trip counts) lets the accumulators live in registers; without it
// GCC keeps them in a stack array and stores them back on every multiply-add.
#define LTR_UNROLL _Pragma("GCC unroll 16")

struct Geo {
  int N, H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, G, cg, og;
};

// Pointers to the input pixel of each of the T outputs for tap (ih row, kw), offset by `chan`; zeros outside.
template <int T>
inline void tapPointers(const Geo& g, const float* xrow, int ow0, int kw, int chan, const float* zeros,
                        const float** xp) {
  LTR_UNROLL
  for (int t = 0; t < T; ++t) {
    const int iw = (ow0 + t) * g.SW - g.PL + kw * g.DW;
    xp[t] = (iw >= 0 && iw < g.W) ? xrow + size_t(iw) * g.C + chan : zeros;
  }
}

// Lane l of the result holds xv[(l - l % CG) + I] (within each 128-bit half, as CG divides 4).
template <int CG, int I>
inline __m256 spread(__m256 xv) {
  if constexpr (CG == 1) {
    return xv;
  } else if constexpr (CG == 2) {
    return _mm256_permute_ps(xv, I == 0 ? _MM_SHUFFLE(2, 2, 0, 0) : _MM_SHUFFLE(3, 3, 1, 1));
  } else {
    return _mm256_permute_ps(xv, _MM_SHUFFLE(I, I, I, I));
  }
}

template <int T, int CG, int I>
inline void accumulateA(const __m256* xv, const float* wp, int OC, __m256* acc) {
  if constexpr (I < CG) {
    const __m256 wv = _mm256_loadu_ps(wp + size_t(I) * OC);
    LTR_UNROLL
    for (int t = 0; t < T; ++t) acc[t] = _mm256_fmadd_ps(spread<CG, I>(xv[t]), wv, acc[t]);
    accumulateA<T, CG, I + 1>(xv, wp, OC, acc);
  }
}

// Scheme A: T pixels x 1 vector of 8 output channels from ob (8/CG groups, inputs = the same 8 channels).
template <int T, int CG, bool Interior>
void tileA(const Geo& g, const float* x, const float* w, float* y, const float* zeros, int n, int oh, int ow0, int ob) {
  const size_t xstride = size_t(g.SW) * g.C;
  __m256 acc[T];
  LTR_UNROLL
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int kh = 0; kh < g.KH; ++kh) {
    const int ih = oh * g.SH - g.PT + kh * g.DH;
    if (ih < 0 || ih >= g.H) continue;
    const float* xrow = x + (size_t(n) * g.H + ih) * size_t(g.W) * g.C;
    for (int kw = 0; kw < g.KW; ++kw) {
      __m256 xv[T];
      if constexpr (Interior) {
        const float* x0 = xrow + size_t(ow0 * g.SW - g.PL + kw * g.DW) * g.C + ob;
        LTR_UNROLL
        for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x0 + t * xstride);
      } else {
        const float* xp[T];
        tapPointers<T>(g, xrow, ow0, kw, ob, zeros, xp);
        LTR_UNROLL
        for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(xp[t]);
      }
      accumulateA<T, CG, 0>(xv, w + size_t(kh * g.KW + kw) * CG * g.OC + ob, g.OC, acc);
    }
  }
  float* yp = y + ((size_t(n) * g.OH + oh) * g.OW + ow0) * g.OC + ob;
  LTR_UNROLL
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(yp + size_t(t) * g.OC, acc[t]);
}

using TileFn = void (*)(const Geo&, const float*, const float*, float*, const float*, int, int, int, int);

// tiles[r] computes r output pixels (r = 1..TMAX): `Interior` for columns whose taps all lie inside the row.
template <int CG, bool Interior, int... Ts>
std::vector<TileFn> tablesA(std::integer_sequence<int, Ts...>) {
  return {nullptr, &tileA<Ts + 1, CG, Interior>...};
}

}  // namespace

bool groupedForwardDirect(const int* p, const float* x, const float* w, float* y) {
  // LTR_GROUPED_DIRECT=0 sends every grouped forward to oneDNN (for comparisons); read once.
  static const bool enabled = [] {
    const char* v = std::getenv("LTR_GROUPED_DIRECT");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  if (!enabled) return false;
  Geo g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[17], 0, 0};
  if (g.G < 2) return false;
  g.cg = g.C / g.G;
  g.og = g.OC / g.G;
  // 1, 2 or 4 channels per group in and out, 8 output channels per vector.
  if (g.cg != g.og || !(g.og == 1 || g.og == 2 || g.og == 4) || g.OC % 8 != 0) return false;
  constexpr int TMAX = 8;
  using Seq = std::make_integer_sequence<int, TMAX>;
  static const std::vector<TileFn> e1 = tablesA<1, false>(Seq{}), e2 = tablesA<2, false>(Seq{}),
                                   e4 = tablesA<4, false>(Seq{});
  static const std::vector<TileFn> i1 = tablesA<1, true>(Seq{}), i2 = tablesA<2, true>(Seq{}),
                                   i4 = tablesA<4, true>(Seq{});
  const std::vector<TileFn>& edge = g.og == 4 ? e4 : g.og == 2 ? e2 : e1;
  const std::vector<TileFn>& inner = g.og == 4 ? i4 : g.og == 2 ? i2 : i1;
  // Output columns [owLo, owHi) have every tap inside the row: ow·SW − PL ≥ 0 and ow·SW − PL + (KW−1)·DW < W.
  const int lastIn = g.W - 1 - (g.KW - 1) * g.DW + g.PL;
  const int owHi = std::min(g.OW, lastIn >= 0 ? lastIn / g.SW + 1 : 0);
  const int owLo = std::min(owHi, (g.PL + g.SW - 1) / g.SW);
  std::vector<float> zeros(size_t(g.C) + 8, 0.0f);
  const int64_t rows = int64_t(g.N) * g.OH;
  const int64_t work = rows * g.OW * g.OC * int64_t(g.KH) * g.KW * g.cg;
  // Columns [from, to) in tiles of at most TMAX from one table.
  auto span = [&](const std::vector<TileFn>& tiles, int from, int to, int n, int oh, int ob) {
    for (int ow0 = from; ow0 < to; ow0 += TMAX)
      tiles[std::min(TMAX, to - ow0)](g, x, w, y, zeros.data(), n, oh, ow0, ob);
  };
#pragma omp parallel for schedule(static) if (work >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int n = int(r / g.OH), oh = int(r % g.OH);
    for (int ob = 0; ob < g.OC; ob += 8) {
      span(edge, 0, owLo, n, oh, ob);
      span(inner, owLo, owHi, n, oh, ob);
      span(edge, owHi, g.OW, n, oh, ob);
    }
  }
  return true;
}

#else

bool groupedForwardDirect(const int*, const float*, const float*, float*) { return false; }

#endif

}  // namespace ltr
