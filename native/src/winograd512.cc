// AVX-512 forms of the Winograd F(4x4, 3x3) kernels' inner functions (winograd.cc has the algorithm and the AVX2
// forms; winograd.h the layouts). A 16-lane vector holds 16 channels where the AVX2 form holds 8, and the GEMM
// blocks are 6 tiles (or channel rows) x 32 channels, or 12 x 16 where only one 16-channel panel is left (ResNet-8's
// 16-channel layers), instead of 6 x 16.
//
// Same bits as the AVX2 forms: each element goes through the same additions, multiplications and FMAs in the same
// order (the transforms are the same lane-wise formulas; every GEMM element is one FMA chain over channels or tiles
// in order); lanes beyond the channel count are loaded as zeros there and here (docs/DETERMINISM.md, "AVX2 and
// AVX-512"). Every function here is compiled for AVX-512F and is called only when g_kernelIsa says the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "block512.h"
#include "simd.h"
#include "winograd.h"

namespace ltr::wino {

namespace {

// Bᵀ applied to a column of 6 vectors (as btCol in winograd.cc).
LTR_AVX512 inline void btCol(const __m512* d, __m512* r) {
  const __m512 four = _mm512_set1_ps(4.f), five = _mm512_set1_ps(5.f), two = _mm512_set1_ps(2.f);
  const __m512 a = _mm512_add_ps(d[1], d[2]), b = _mm512_add_ps(d[3], d[4]);
  const __m512 c = _mm512_sub_ps(d[1], d[2]), e = _mm512_sub_ps(d[4], d[3]);
  const __m512 f = _mm512_sub_ps(d[4], d[2]), g = _mm512_sub_ps(d[3], d[1]);
  r[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
  r[1] = _mm512_fnmadd_ps(four, a, b);
  r[2] = _mm512_fmadd_ps(four, c, e);
  r[3] = _mm512_fmadd_ps(two, g, f);
  r[4] = _mm512_fnmadd_ps(two, g, f);
  r[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

// Aᵀ applied to 6 vectors -> 4 (as atCol).
LTR_AVX512 inline void atCol(const __m512* m, __m512* o) {
  const __m512 two = _mm512_set1_ps(2.f), four = _mm512_set1_ps(4.f), eight = _mm512_set1_ps(8.f);
  const __m512 a = _mm512_add_ps(m[1], m[2]), b = _mm512_sub_ps(m[1], m[2]);
  const __m512 c = _mm512_add_ps(m[3], m[4]), d = _mm512_sub_ps(m[3], m[4]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], a), c);
  o[1] = _mm512_fmadd_ps(two, d, b);
  o[2] = _mm512_fmadd_ps(four, c, a);
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d, b), m[5]);
}

// A applied to 4 vectors -> 6 (as aCol).
LTR_AVX512 inline void aCol(const __m512* y, __m512* z) {
  const __m512 two = _mm512_set1_ps(2.f), four = _mm512_set1_ps(4.f), eight = _mm512_set1_ps(8.f);
  const __m512 p = _mm512_add_ps(y[0], y[2]), q = _mm512_add_ps(y[1], y[3]);
  const __m512 r = _mm512_fmadd_ps(four, y[2], y[0]), t = _mm512_fmadd_ps(eight, y[3], _mm512_mul_ps(two, y[1]));
  z[0] = y[0];
  z[1] = _mm512_add_ps(p, q);
  z[2] = _mm512_sub_ps(p, q);
  z[3] = _mm512_add_ps(r, t);
  z[4] = _mm512_sub_ps(r, t);
  z[5] = y[3];
}

// R rows x P panels of 16 channels: acc[i][p] += sum over j < n of a[i * aStride + j * aStep] * b[j * bStep + 16p].
// With aStep 1 the rows are tiles and j runs over channels (tileGemm); with aStep = the row length they are channels
// and j runs over tiles (the filter gradient). One FMA chain per element, j in order.
template <int R, int P>
LTR_AVX512 inline void fmaBlock(const float* a, int64_t aStride, int64_t aStep, const float* b, int64_t bStep, int n,
                                __m512 (&acc)[R][P]) {
  for (int j = 0; j < n; ++j) {
    __m512 w[P];
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) w[p] = _mm512_loadu_ps(b + 16 * p);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      const __m512 v = _mm512_set1_ps(a[i * aStride]);
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) acc[i][p] = _mm512_fmadd_ps(v, w[p], acc[i][p]);
    }
    a += aStep;
    b += bStep;
  }
}

// M rows tt .. tt+R, panels kb .. kb+P of one position (tileGemm's block).
template <int R, int P>
LTR_AVX512 inline void gemmBlock(const float* v0, const float* u, int Cp, int Kp, float* m) {
  __m512 acc[R][P];
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) acc[i][p] = _mm512_setzero_ps();
  fmaBlock<R, P>(v0, Cp, 1, u, Kp, Cp, acc);
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) _mm512_storeu_ps(m + int64_t(i) * Kp + 16 * p, acc[i][p]);
}

// P[c0 .. c0+R][kb*16 .. +16P] += sum over tt < nt of V[tt][c] * D[tt][k] (accumulateRows' block).
template <int R, int P>
LTR_AVX512 inline void accumulateRows(const float* V, const float* D, int nt, int Cp, int Kp, int c0, int kb,
                                      float* Pp) {
  __m512 acc[R][P];
  float* base = Pp + int64_t(c0) * Kp + kb * 16;
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) acc[i][p] = _mm512_loadu_ps(base + int64_t(i) * Kp + 16 * p);
  fmaBlock<R, P>(V + c0, 1, Cp, D + kb * 16, Kp, nt, acc);
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) _mm512_storeu_ps(base + int64_t(i) * Kp + 16 * p, acc[i][p]);
}

// The rows c0 .. c0+rb (rb <= R) of a block, R a compile-time count (withRows, simd.h).
template <int P, int R>
LTR_AVX512 void accumulateTail(int rb, const float* V, const float* D, int nt, int Cp, int Kp, int c0, int kb,
                               float* Pp) {
  withRows<R>(rb, [&](auto n) { accumulateRows<decltype(n)::value, P>(V, D, nt, Cp, Kp, c0, kb, Pp); });
}

}  // namespace

LTR_AVX512 void inputTransform512(const Grid& g, const float* x, int64_t t0, int nt, int TB, int Cp, float* V) {
  const int CV = (Cp + 15) / 16;
  const int64_t posStride = int64_t(TB) * Cp;
  for (int tt = 0; tt < TB; ++tt) {
    if (tt >= nt) {
      for (int pos = 0; pos < NPOS; ++pos) std::memset(V + pos * posStride + int64_t(tt) * Cp, 0, sizeof(float) * Cp);
      continue;
    }
    int n, th, tw;
    g.locate(t0 + tt, &n, &th, &tw);
    const int ih0 = th * TILE - g.PT, iw0 = tw * TILE - g.PL;
    const bool inside = ih0 >= 0 && iw0 >= 0 && ih0 + IN <= g.H && iw0 + IN <= g.W;
    for (int cv = 0; cv < CV; ++cv) {
      const __mmask16 in = lanes16(g.C - cv * 16), out = lanes16(Cp - cv * 16);
      __m512 d[IN][IN];
      for (int i = 0; i < IN; ++i) {
        const int ih = ih0 + i;
        for (int j = 0; j < IN; ++j) {
          const int iw = iw0 + j;
          if (inside || (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W))
            d[i][j] = loadM(in, x + ((int64_t(n) * g.H + ih) * g.W + iw) * g.C + cv * 16);
          else
            d[i][j] = _mm512_setzero_ps();
        }
      }
      __m512 col[IN], tmp[IN][IN], res[IN];
      for (int j = 0; j < IN; ++j) {
        for (int i = 0; i < IN; ++i) col[i] = d[i][j];
        btCol(col, res);
        for (int i = 0; i < IN; ++i) tmp[i][j] = res[i];
      }
      for (int i = 0; i < IN; ++i) {
        btCol(tmp[i], res);
        for (int j = 0; j < IN; ++j) storeM(V + (i * IN + j) * posStride + int64_t(tt) * Cp + cv * 16, out, res[j]);
      }
    }
  }
}

LTR_AVX512 void tileGemm512(const float* V, const float* U, int TB, int Cp, int Kp, float* M) {
  const int KB = Kp / 16;
  for (int pos = 0; pos < NPOS; ++pos) {
    const float* Vp = V + int64_t(pos) * TB * Cp;
    const float* Up = U + int64_t(pos) * Cp * Kp;
    float* Mp = M + int64_t(pos) * TB * Kp;
    // Pairs of panels, 6 tiles at a time.
    for (int tt = 0; tt < TB; tt += MR)
      for (int kb = 0; kb + 1 < KB; kb += 2)
        gemmBlock<MR, 2>(Vp + int64_t(tt) * Cp, Up + kb * 16, Cp, Kp, Mp + int64_t(tt) * Kp + kb * 16);
    // The last single panel: 12 tiles at a time (12 independent chains), 6 for a remainder.
    if (KB % 2) {
      const int kb = KB - 1;
      int tt = 0;
      for (; tt + 2 * MR <= TB; tt += 2 * MR)
        gemmBlock<2 * MR, 1>(Vp + int64_t(tt) * Cp, Up + kb * 16, Cp, Kp, Mp + int64_t(tt) * Kp + kb * 16);
      for (; tt < TB; tt += MR)
        gemmBlock<MR, 1>(Vp + int64_t(tt) * Cp, Up + kb * 16, Cp, Kp, Mp + int64_t(tt) * Kp + kb * 16);
    }
  }
}

LTR_AVX512 void outputTransform512(const Grid& g, const float* M, int64_t t0, int nt, int TB, int Kp, int K, float* y,
                                   const Epilogue* ep) {
  const int64_t posStride = int64_t(TB) * Kp;
  const int KV = (K + 15) / 16;
  for (int tt = 0; tt < nt; ++tt) {
    int n, th, tw;
    g.locate(t0 + tt, &n, &th, &tw);
    const int oh0 = th * TILE, ow0 = tw * TILE;
    const int rows = std::min(TILE, g.OH - oh0), cols = std::min(TILE, g.OW - ow0);
    for (int kv = 0; kv < KV; ++kv) {
      const __mmask16 m = lanes16(K - kv * 16);
      __m512 tmp[TILE][IN], col[IN], res[TILE];
      for (int j = 0; j < IN; ++j) {
        for (int i = 0; i < IN; ++i)
          col[i] = _mm512_loadu_ps(M + (i * IN + j) * posStride + int64_t(tt) * Kp + kv * 16);
        atCol(col, res);
        for (int i = 0; i < TILE; ++i) tmp[i][j] = res[i];
      }
      __m512 ek = _mm512_setzero_ps(), eb = ek;
      if (ep) {
        ek = loadM(m, ep->k + kv * 16);
        eb = loadM(m, ep->b + kv * 16);
      }
      for (int i = 0; i < rows; ++i) {
        atCol(tmp[i], res);
        float* o = y + ((int64_t(n) * g.OH + oh0 + i) * g.OW + ow0) * K + kv * 16;
        if (ep) {
          const float* r = ep->residual ? ep->residual + (o - y) : nullptr;
          for (int j = 0; j < cols; ++j)
            res[j] = applyEpilogue512(res[j], ek, eb, r ? r + int64_t(j) * K : nullptr, m, ep->relu);
        }
        for (int j = 0; j < cols; ++j) storeM(o + int64_t(j) * K, m, res[j]);
      }
    }
  }
}

LTR_AVX512 void gradTransform512(const Grid& g, int K, const float* dy, int64_t t0, int nt, int TB, int Kp, float* D) {
  const int KV = Kp / 16;
  const int64_t posStride = int64_t(TB) * Kp;
  for (int tt = 0; tt < TB; ++tt) {
    if (tt >= nt) {
      for (int pos = 0; pos < NPOS; ++pos) std::memset(D + pos * posStride + int64_t(tt) * Kp, 0, sizeof(float) * Kp);
      continue;
    }
    int n, th, tw;
    g.locate(t0 + tt, &n, &th, &tw);
    const int oh0 = th * TILE, ow0 = tw * TILE;
    for (int kv = 0; kv < KV; ++kv) {
      const __mmask16 m = lanes16(K - kv * 16);
      __m512 d[TILE][TILE];
      for (int i = 0; i < TILE; ++i)
        for (int j = 0; j < TILE; ++j) {
          if (oh0 + i < g.OH && ow0 + j < g.OW)
            d[i][j] = loadM(m, dy + ((int64_t(n) * g.OH + oh0 + i) * g.OW + ow0 + j) * K + kv * 16);
          else
            d[i][j] = _mm512_setzero_ps();
        }
      __m512 col[TILE], res[IN], tmp[IN][TILE];
      for (int j = 0; j < TILE; ++j) {
        for (int i = 0; i < TILE; ++i) col[i] = d[i][j];
        aCol(col, res);
        for (int i = 0; i < IN; ++i) tmp[i][j] = res[i];
      }
      for (int i = 0; i < IN; ++i) {
        aCol(tmp[i], res);
        for (int j = 0; j < IN; ++j)
          _mm512_storeu_ps(D + (i * IN + j) * posStride + int64_t(tt) * Kp + kv * 16, res[j]);
      }
    }
  }
}

LTR_AVX512 void accumulateBlock512(const float* V, const float* D, int nt, int TB, int C, int Cp, int Kp, float* P) {
  const int KB = Kp / 16;
  for (int pos = 0; pos < NPOS; ++pos) {
    const float* Vp = V + int64_t(pos) * TB * Cp;
    const float* Dp = D + int64_t(pos) * TB * Kp;
    float* Pp = P + int64_t(pos) * Cp * Kp;
    // Pairs of panels, 6 channel rows at a time; the last single panel, 12 rows at a time.
    for (int c0 = 0; c0 < C; c0 += MR) {
      const int rb = std::min(MR, C - c0);
      for (int kb = 0; kb + 1 < KB; kb += 2) accumulateTail<2, MR>(rb, Vp, Dp, nt, Cp, Kp, c0, kb, Pp);
    }
    if (KB % 2)
      for (int c0 = 0; c0 < C; c0 += 2 * MR)
        accumulateTail<1, 2 * MR>(std::min(2 * MR, C - c0), Vp, Dp, nt, Cp, Kp, c0, KB - 1, Pp);
  }
}

}  // namespace ltr::wino
