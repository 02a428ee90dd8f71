// Winograd F(4x4, 3x3) convolutions for 3x3, stride-1 layers (the bulk of a CIFAR-style ResNet): each 4x4 output
// tile costs 36 multiply-adds per (input, output) channel pair instead of 144 (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). With V = Bᵀ d B (input tile d, 6x6) and U = G g Gᵀ (filter g, 3x3):
//   forward           Y  = Aᵀ [ Σ_c U ⊙ V ] A                      (per 4x4 output tile)
//   input gradient    the forward transform applied to dy with the filters rotated by 180° and transposed
//   filter gradient   dg = Gᵀ [ Σ_tiles V ⊙ (A dY Aᵀ) ] G            (dY: a 4x4 tile of the output gradient)
// The element-wise products summed over channels (or tiles) are 36 small GEMMs, computed here with an AVX2 block of
// 6 tiles x 16 channels; winograd512.cc has the AVX-512 forms of the transforms and GEMMs (same bits).
//
// Determinism: a forward output tile is computed by one thread in a fixed order (transform, channels in order,
// transform back). The filter gradient sums tiles in a fixed number of contiguous partial ranges (a function of the
// shape only), added in range order, then applies Gᵀ·G in double.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"
#include "conv_own.h"
#include "simd.h"
#include "winograd.h"

namespace ltr {

using namespace wino;

namespace {

// G (6x3), the filter transform.
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

// Bᵀ applied to a column of 6 vectors (in place into r).
inline void btCol(const __m256* d, __m256* r) {
  const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f), two = _mm256_set1_ps(2.f);
  const __m256 a = _mm256_add_ps(d[1], d[2]), b = _mm256_add_ps(d[3], d[4]);
  const __m256 c = _mm256_sub_ps(d[1], d[2]), e = _mm256_sub_ps(d[4], d[3]);
  const __m256 f = _mm256_sub_ps(d[4], d[2]), g = _mm256_sub_ps(d[3], d[1]);
  r[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  r[1] = _mm256_fnmadd_ps(four, a, b);
  r[2] = _mm256_fmadd_ps(four, c, e);
  r[3] = _mm256_fmadd_ps(two, g, f);
  r[4] = _mm256_fnmadd_ps(two, g, f);
  r[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

// Aᵀ applied to 6 vectors -> 4.
inline void atCol(const __m256* m, __m256* o) {
  const __m256 two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f), eight = _mm256_set1_ps(8.f);
  const __m256 a = _mm256_add_ps(m[1], m[2]), b = _mm256_sub_ps(m[1], m[2]);
  const __m256 c = _mm256_add_ps(m[3], m[4]), d = _mm256_sub_ps(m[3], m[4]);
  o[0] = _mm256_add_ps(_mm256_add_ps(m[0], a), c);
  o[1] = _mm256_fmadd_ps(two, d, b);
  o[2] = _mm256_fmadd_ps(four, c, a);
  o[3] = _mm256_add_ps(_mm256_fmadd_ps(eight, d, b), m[5]);
}

// A applied to 4 vectors -> 6 (the output-gradient transform A dY Aᵀ, one direction).
inline void aCol(const __m256* y, __m256* z) {
  const __m256 two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f), eight = _mm256_set1_ps(8.f);
  const __m256 p = _mm256_add_ps(y[0], y[2]), q = _mm256_add_ps(y[1], y[3]);
  const __m256 r = _mm256_fmadd_ps(four, y[2], y[0]), t = _mm256_fmadd_ps(eight, y[3], _mm256_mul_ps(two, y[1]));
  z[0] = y[0];
  z[1] = _mm256_add_ps(p, q);
  z[2] = _mm256_sub_ps(p, q);
  z[3] = _mm256_add_ps(r, t);
  z[4] = _mm256_sub_ps(r, t);
  z[5] = y[3];
}

// V[pos][tt][0..Cp) = Bᵀ d Bfor tiles t0 .. t0+nt of `g` (input x with C channels); rows tt >= nt are zeroed.
void inputTransform(const Grid& g, const float* x, int64_t t0, int nt, int TB, int Cp, float* V) {
  const int CV = Cp / 8;
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
      const int lanes = std::min(8, g.C - cv * 8);
      __m256 d[IN][IN];
      for (int i = 0; i < IN; ++i) {
        const int ih = ih0 + i;
        for (int j = 0; j < IN; ++j) {
          const int iw = iw0 + j;
          if (inside || (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)) {
            const float* p = x + ((int64_t(n) * g.H + ih) * g.W + iw) * g.C + cv * 8;
            d[i][j] = lanes == 8 ? _mm256_loadu_ps(p) : loadN(p, lanes);
          } else {
            d[i][j] = _mm256_setzero_ps();
          }
        }
      }
      // Columns first (Bᵀ d), then rows ((Bᵀ d) B).
      __m256 col[IN], tmp[IN][IN], res[IN];
      for (int j = 0; j < IN; ++j) {
        for (int i = 0; i < IN; ++i) col[i] = d[i][j];
        btCol(col, res);
        for (int i = 0; i < IN; ++i) tmp[i][j] = res[i];
      }
      for (int i = 0; i < IN; ++i) {
        btCol(tmp[i], res);
        for (int j = 0; j < IN; ++j) _mm256_store_ps(V + (i * IN + j) * posStride + int64_t(tt) * Cp + cv * 8, res[j]);
      }
    }
  }
}

// M[pos][tt][kb*16 ..] = sum over c < Cp of V[pos][tt][c] * U[pos][c][kb*16 ..], for tt < TB (a multiple of 6).
void tileGemm(const float* V, const float* U, int TB, int Cp, int Kp, float* M) {
  const int KB = Kp / 16;
  for (int pos = 0; pos < NPOS; ++pos) {
    const float* Vp = V + int64_t(pos) * TB * Cp;
    const float* Up = U + int64_t(pos) * Cp * Kp;
    float* Mp = M + int64_t(pos) * TB * Kp;
    for (int tt = 0; tt < TB; tt += MR) {
      const float* v0 = Vp + int64_t(tt) * Cp;
      for (int kb = 0; kb < KB; ++kb) {
        const float* u = Up + kb * 16;
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        for (int c = 0; c < Cp; ++c) {
          const __m256 w0 = _mm256_load_ps(u + int64_t(c) * Kp), w1 = _mm256_load_ps(u + int64_t(c) * Kp + 8);
          __m256 b;
          b = _mm256_broadcast_ss(v0 + c);
          a00 = _mm256_fmadd_ps(b, w0, a00);
          a01 = _mm256_fmadd_ps(b, w1, a01);
          b = _mm256_broadcast_ss(v0 + Cp + c);
          a10 = _mm256_fmadd_ps(b, w0, a10);
          a11 = _mm256_fmadd_ps(b, w1, a11);
          b = _mm256_broadcast_ss(v0 + 2 * Cp + c);
          a20 = _mm256_fmadd_ps(b, w0, a20);
          a21 = _mm256_fmadd_ps(b, w1, a21);
          b = _mm256_broadcast_ss(v0 + 3 * Cp + c);
          a30 = _mm256_fmadd_ps(b, w0, a30);
          a31 = _mm256_fmadd_ps(b, w1, a31);
          b = _mm256_broadcast_ss(v0 + 4 * Cp + c);
          a40 = _mm256_fmadd_ps(b, w0, a40);
          a41 = _mm256_fmadd_ps(b, w1, a41);
          b = _mm256_broadcast_ss(v0 + 5 * Cp + c);
          a50 = _mm256_fmadd_ps(b, w0, a50);
          a51 = _mm256_fmadd_ps(b, w1, a51);
        }
        float* m = Mp + int64_t(tt) * Kp + kb * 16;
        _mm256_store_ps(m, a00);
        _mm256_store_ps(m + 8, a01);
        m += Kp;
        _mm256_store_ps(m, a10);
        _mm256_store_ps(m + 8, a11);
        m += Kp;
        _mm256_store_ps(m, a20);
        _mm256_store_ps(m + 8, a21);
        m += Kp;
        _mm256_store_ps(m, a30);
        _mm256_store_ps(m + 8, a31);
        m += Kp;
        _mm256_store_ps(m, a40);
        _mm256_store_ps(m + 8, a41);
        m += Kp;
        _mm256_store_ps(m, a50);
        _mm256_store_ps(m + 8, a51);
      }
    }
  }
}

// y tiles t0 .. t0+nt = Aᵀ M A, clipped to the OH x OW output with K channels (through `ep` when given).
void outputTransform(const Grid& g, const float* M, int64_t t0, int nt, int TB, int Kp, int K, float* y,
                     const Epilogue* ep) {
  const int64_t posStride = int64_t(TB) * Kp;
  const int KV = (K + 7) / 8;
  for (int tt = 0; tt < nt; ++tt) {
    int n, th, tw;
    g.locate(t0 + tt, &n, &th, &tw);
    const int oh0 = th * TILE, ow0 = tw * TILE;
    const int rows = std::min(TILE, g.OH - oh0), cols = std::min(TILE, g.OW - ow0);
    for (int kv = 0; kv < KV; ++kv) {
      const int lanes = std::min(8, K - kv * 8);
      __m256 tmp[TILE][IN], col[IN], res[TILE];
      for (int j = 0; j < IN; ++j) {
        for (int i = 0; i < IN; ++i) col[i] = _mm256_load_ps(M + (i * IN + j) * posStride + int64_t(tt) * Kp + kv * 8);
        atCol(col, res);
        for (int i = 0; i < TILE; ++i) tmp[i][j] = res[i];
      }
      __m256 ek, eb;
      if (ep) {
        ek = _mm256_loadu_ps(ep->k + kv * 8);
        eb = _mm256_loadu_ps(ep->b + kv * 8);
      }
      for (int i = 0; i < rows; ++i) {
        atCol(tmp[i], res);
        float* o = y + ((int64_t(n) * g.OH + oh0 + i) * g.OW + ow0) * K + kv * 8;
        if (ep) {
          const float* r = ep->residual ? ep->residual + (o - y) : nullptr;
          for (int j = 0; j < cols; ++j)
            res[j] = applyEpilogue(res[j], ek, eb, r ? r + int64_t(j) * K : nullptr, lanes, ep->relu);
        }
        for (int j = 0; j < cols; ++j) {
          if (lanes == 8)
            _mm256_storeu_ps(o + int64_t(j) * K, res[j]);
          else
            storeN(o + int64_t(j) * K, res[j], lanes);
        }
      }
    }
  }
}

// Tiles per block so that one block's V and M (36 x TB x (Cp + Kp) floats) stay in a core's L2.
int tilesPerBlock(int Cp, int Kp) {
  const int tb = (384 * 1024) / (NPOS * 4 * (Cp + Kp));
  return std::max(MR, std::min(96, tb / MR * MR));
}

// The Winograd convolution of x [N, H, W, C] with transformed filters U [36][Cp][Kp] into y [N, OH, OW, K].
void winoConv(const Grid& g, int K, const float* x, const float* U, int Cp, int Kp, float* y,
              const Epilogue* ep = nullptr) {
  const int TB = tilesPerBlock(Cp, Kp);
  const int64_t nb = (g.T + TB - 1) / TB;
  const double work = double(g.T) * NPOS * Cp * Kp;
  const int nt = work < 2e5 ? 1 : g_threads;
  const bool wide = g_kernelIsa == kIsaAvx512;  // the AVX-512 forms (winograd512.cc): same bits, twice the width
  // Blocks handed out in shrinking runs (common.h, "Work sharing"); each block's tiles are computed by one thread.
#pragma omp parallel for schedule(guided) num_threads(nt)
  for (int64_t b = 0; b < nb; ++b) {
    float* V = scratch(0, size_t(NPOS) * TB * Cp);
    float* M = scratch(1, size_t(NPOS) * TB * Kp);
    const int64_t t0 = b * TB;
    const int cnt = int(std::min<int64_t>(TB, g.T - t0));
    if (wide) {
      inputTransform512(g, x, t0, cnt, TB, Cp, V);
      tileGemm512(V, U, TB, Cp, Kp, M);
      outputTransform512(g, M, t0, cnt, TB, Kp, K, y, ep);
    } else {
      inputTransform(g, x, t0, cnt, TB, Cp, V);
      tileGemm(V, U, TB, Cp, Kp, M);
      outputTransform(g, M, t0, cnt, TB, Kp, K, y, ep);
    }
  }
}

// U[pos][ci][co] = (G f Gᵀ)[pos] for the 3x3 filter f(i, j) = get(i, j, ci, co), in double, rounded once; zero for
// the padding channels ci >= CI, co >= CO. The rows of one input channel are independent of the others, so wide
// layers split the input channels across threads (at 64 x 64 channels this is ~10% of a forward convolution).
template <typename F>
void filterTransform(int CI, int CO, int Cp, int Kp, float* U, F get) {
  const int nt = int64_t(CI) * CO >= 1024 ? g_threads : 1;
#pragma omp parallel for schedule(guided) num_threads(nt)
  for (int ci = 0; ci < Cp; ++ci) {
    for (int pos = 0; pos < NPOS; ++pos) std::memset(U + (size_t(pos) * Cp + ci) * Kp, 0, sizeof(float) * Kp);
    if (ci >= CI) continue;
    for (int co = 0; co < CO; ++co) {
      double f[3][3], t[6][3];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) f[i][j] = get(i, j, ci, co);
      for (int a = 0; a < 6; ++a)
        for (int j = 0; j < 3; ++j) t[a][j] = kG[a][0] * f[0][j] + kG[a][1] * f[1][j] + kG[a][2] * f[2][j];
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 6; ++b)
          U[(size_t(a * 6 + b) * Cp + ci) * Kp + co] =
              float(t[a][0] * kG[b][0] + t[a][1] * kG[b][1] + t[a][2] * kG[b][2]);
    }
  }
}

AlignedBuf g_U, g_parts;

}  // namespace

bool winogradApplies(const ConvShape& s) {
  return s.KH == 3 && s.KW == 3 && s.SH == 1 && s.SW == 1 && s.DH == 1 && s.DW == 1 && s.C >= 8 && s.K >= 8 &&
         s.PT <= 2 && s.PL <= 2 && s.PB <= 2 && s.PR <= 2;
}

void winogradForward(const ConvShape& s, const float* x, const float* w, float* y, const Epilogue* ep) {
  const int Cp = roundUp(s.C, 8), Kp = roundUp(s.K, 16);
  float* U = g_U.get(size_t(NPOS) * Cp * Kp);
  filterTransform(s.C, s.K, Cp, Kp, U,
                  [&](int i, int j, int c, int k) { return double(w[((i * 3 + j) * size_t(s.C) + c) * s.K + k]); });
  winoConv(Grid(s.N, s.H, s.W, s.C, s.OH, s.OW, s.PT, s.PL), s.K, x, U, Cp, Kp, y, ep);
}

// dx = the stride-1 convolution of dy (K channels) with f'(i, j, k, c) = w(2-i, 2-j, c, k) and pads (2-PT, 2-PL).
void winogradBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  const int Cp = roundUp(s.K, 8), Kp = roundUp(s.C, 16);
  float* U = g_U.get(size_t(NPOS) * Cp * Kp);
  filterTransform(s.K, s.C, Cp, Kp, U, [&](int i, int j, int k, int c) {
    return double(w[(((2 - i) * 3 + (2 - j)) * size_t(s.C) + c) * s.K + k]);
  });
  winoConv(Grid(s.N, s.OH, s.OW, s.K, s.H, s.W, 2 - s.PT, 2 - s.PL), s.C, dy, U, Cp, Kp, dx);
}

namespace {

// D[pos][tt][0..Kp) = A dY Aᵀ for the 4x4 output-gradient tiles t0 .. t0+nt (zero outside OH x OW and beyond nt).
void gradTransform(const Grid& g, int K, const float* dy, int64_t t0, int nt, int TB, int Kp, float* D) {
  const int KV = Kp / 8;
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
      const int lanes = std::min(8, K - kv * 8);
      __m256 d[TILE][TILE];
      for (int i = 0; i < TILE; ++i)
        for (int j = 0; j < TILE; ++j) {
          if (lanes > 0 && oh0 + i < g.OH && ow0 + j < g.OW) {
            const float* p = dy + ((int64_t(n) * g.OH + oh0 + i) * g.OW + ow0 + j) * K + kv * 8;
            d[i][j] = lanes == 8 ? _mm256_loadu_ps(p) : loadN(p, lanes);
          } else {
            d[i][j] = _mm256_setzero_ps();
          }
        }
      __m256 col[TILE], res[IN], tmp[IN][TILE];
      for (int j = 0; j < TILE; ++j) {
        for (int i = 0; i < TILE; ++i) col[i] = d[i][j];
        aCol(col, res);
        for (int i = 0; i < IN; ++i) tmp[i][j] = res[i];
      }
      for (int i = 0; i < IN; ++i) {
        aCol(tmp[i], res);
        for (int j = 0; j < IN; ++j) _mm256_store_ps(D + (i * IN + j) * posStride + int64_t(tt) * Kp + kv * 8, res[j]);
      }
    }
  }
}

// P[pos][c][kb*16 ..] += sum over tt < nt of V[pos][tt][c] * D[pos][tt][kb*16 ..] for c in [c0, c0 + RB).
template <int RB>
void accumulateRows(const float* V, const float* D, int nt, int Cp, int Kp, int c0, int kb, float* P) {
  // Every loop over the accumulators is unrolled (constant indices): otherwise GCC keeps them in memory and the
  // inner loop stores them on every iteration (measured: the filter gradient 1.5x slower).
  __m256 acc[RB][2];
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) {
    acc[i][0] = _mm256_load_ps(P + int64_t(c0 + i) * Kp + kb * 16);
    acc[i][1] = _mm256_load_ps(P + int64_t(c0 + i) * Kp + kb * 16 + 8);
  }
  const float* v = V + c0;
  const float* d = D + kb * 16;
  for (int tt = 0; tt < nt; ++tt) {
    const __m256 d0 = _mm256_load_ps(d), d1 = _mm256_load_ps(d + 8);
#pragma GCC unroll 6
    for (int i = 0; i < RB; ++i) {
      const __m256 b = _mm256_broadcast_ss(v + i);
      acc[i][0] = _mm256_fmadd_ps(b, d0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(b, d1, acc[i][1]);
    }
    v += Cp;
    d += Kp;
  }
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) {
    _mm256_store_ps(P + int64_t(c0 + i) * Kp + kb * 16, acc[i][0]);
    _mm256_store_ps(P + int64_t(c0 + i) * Kp + kb * 16 + 8, acc[i][1]);
  }
}

void accumulateBlock(const float* V, const float* D, int nt, int TB, int C, int Cp, int Kp, float* P) {
  const int KB = Kp / 16;
  for (int pos = 0; pos < NPOS; ++pos) {
    const float* Vp = V + int64_t(pos) * TB * Cp;
    const float* Dp = D + int64_t(pos) * TB * Kp;
    float* Pp = P + int64_t(pos) * Cp * Kp;
    for (int c0 = 0; c0 < C; c0 += MR) {
      const int rb = std::min(MR, C - c0);
      for (int kb = 0; kb < KB; ++kb) {
        withRows<MR>(rb, [&](auto R) { accumulateRows<decltype(R)::value>(Vp, Dp, nt, Cp, Kp, c0, kb, Pp); });
      }
    }
  }
}

}  // namespace

void winogradBackwardFilter(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const int C = s.C, K = s.K, Cp = roundUp(C, 8), Kp = roundUp(K, 16);
  const Grid g(s.N, s.H, s.W, C, s.OH, s.OW, s.PT, s.PL);
  // Tiles transformed before each pass of the per-position GEMMs: many (the reduction over tiles is long, and each
  // partial sum P[pos] is loaded and stored once per pass), within about 4 MB of transformed tiles per thread.
  const int TB = tilesPerBlock(Cp, Kp);
  // Contiguous tile ranges, each summed into its own partial; the ranges depend on the tile count only.
  const int G = int(std::max<int64_t>(1, std::min<int64_t>(4, g.T / (4 * TB))));
  const size_t partSize = size_t(NPOS) * Cp * Kp;
  float* parts = g_parts.get(size_t(G) * partSize);
  const double work = double(g.T) * NPOS * Cp * Kp;
  const int nt = work < 2e5 ? 1 : std::min(g_threads, G);
  const bool wide = g_kernelIsa == kIsaAvx512;
  // Ranges handed out as threads are free (common.h, "Work sharing"); each range is summed by one thread, which also
  // zeroes its partial (in parallel, instead of one serial memset of all G partials).
#pragma omp parallel for schedule(guided) num_threads(nt)
  for (int r = 0; r < G; ++r) {
    float* V = scratch(0, size_t(NPOS) * TB * Cp);
    float* D = scratch(1, size_t(NPOS) * TB * Kp);
    float* P = parts + size_t(r) * partSize;
    std::memset(P, 0, sizeof(float) * partSize);
    const int64_t r0 = g.T * r / G, r1 = g.T * (r + 1) / G;
    for (int64_t t0 = r0; t0 < r1; t0 += TB) {
      const int cnt = int(std::min<int64_t>(TB, r1 - t0));
      if (wide) {
        inputTransform512(g, x, t0, cnt, TB, Cp, V);
        gradTransform512(g, K, dy, t0, cnt, TB, Kp, D);
        accumulateBlock512(V, D, cnt, TB, C, Cp, Kp, P);
      } else {
        inputTransform(g, x, t0, cnt, TB, Cp, V);
        gradTransform(g, K, dy, t0, cnt, TB, Kp, D);
        accumulateBlock(V, D, cnt, TB, C, Cp, Kp, P);
      }
    }
  }
  // Partials in range order, then dw(i, j) = Σ_{a,b} G[a][i] dU[a][b] G[b][j] in double.
  const int nt2 = double(C) * K < 4096 ? 1 : g_threads;
#pragma omp parallel for schedule(guided) num_threads(nt2)
  for (int c = 0; c < C; ++c) {
    for (int k = 0; k < K; ++k) {
      double du[6][6];
      for (int pos = 0; pos < NPOS; ++pos) {
        float acc = parts[(size_t(pos) * Cp + c) * Kp + k];
        for (int r = 1; r < G; ++r) acc += parts[size_t(r) * partSize + (size_t(pos) * Cp + c) * Kp + k];
        du[pos / 6][pos % 6] = acc;
      }
      double t[3][6];
      for (int i = 0; i < 3; ++i)
        for (int b = 0; b < 6; ++b) {
          double v = 0;
          for (int a = 0; a < 6; ++a) v += kG[a][i] * du[a][b];
          t[i][b] = v;
        }
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          double v = 0;
          for (int b = 0; b < 6; ++b) v += t[i][b] * kG[b][j];
          dw[((i * 3 + j) * size_t(C) + c) * K + k] = float(v);
        }
    }
  }
}

}  // namespace ltr
