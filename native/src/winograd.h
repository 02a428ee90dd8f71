// Internals shared by the Winograd F(4x4, 3x3) kernels (winograd.cc) and their AVX-512 forms (winograd512.cc):
// the tile grid, the buffer layouts, and the AVX-512 functions winograd.cc calls when g_kernelIsa is kIsaAvx512.
//
// Layouts (per block of TB tiles): V[pos][tt][Cp] transformed input tiles, D[pos][tt][Kp] transformed output-gradient
// tiles, U[pos][Cp][Kp] transformed filters, M[pos][tt][Kp] the per-position products, P[pos][Cp][Kp] filter-gradient
// partial sums; Cp is a multiple of 8, Kp of 16.
#pragma once
#include <cstdint>

#include "conv_own.h"

namespace ltr::wino {

constexpr int TILE = 4, IN = 6, NPOS = 36, MR = 6;

inline int roundUp(int v, int m) { return (v + m - 1) / m * m; }

// The tile grid of a convolution output: tiles of 4x4 output pixels, numbered (n, th, tw) row-major.
struct Grid {
  int N, H, W, C, OH, OW, PT, PL, TH, TW;
  int64_t T;
  Grid(int n, int h, int w, int c, int oh, int ow, int pt, int pl)
      : N(n), H(h), W(w), C(c), OH(oh), OW(ow), PT(pt), PL(pl), TH((oh + 3) / 4), TW((ow + 3) / 4) {
    T = int64_t(N) * TH * TW;
  }
  void locate(int64_t t, int* n, int* th, int* tw) const {
    *n = int(t / (int64_t(TH) * TW));
    const int64_t r = t % (int64_t(TH) * TW);
    *th = int(r / TW);
    *tw = int(r % TW);
  }
};

// AVX-512 forms (winograd512.cc) of winograd.cc's inputTransform, tileGemm, outputTransform, gradTransform and
// accumulateBlock: same arguments, same bits (every element goes through the same operations in the same order).
void inputTransform512(const Grid& g, const float* x, int64_t t0, int nt, int TB, int Cp, float* V);
void tileGemm512(const float* V, const float* U, int TB, int Cp, int Kp, float* M);
void outputTransform512(const Grid& g, const float* M, int64_t t0, int nt, int TB, int Kp, int K, float* y,
                        const Epilogue* ep);
void gradTransform512(const Grid& g, int K, const float* dy, int64_t t0, int nt, int TB, int Kp, float* D);
void accumulateBlock512(const float* V, const float* D, int nt, int TB, int C, int Cp, int Kp, float* P);

}  // namespace ltr::wino
