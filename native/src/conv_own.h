// Our own NHWC convolutions (HWIO filters, as tfjs stores them): a direct implicit-GEMM kernel for every shape and
// Winograd F(4x4, 3x3) for 3x3 stride-1 layers. Both are deterministic by construction: each output element is
// computed by one thread in an order fixed by the shape alone (never by the thread count or the CPU), and the
// reductions over the batch (filter gradients) run over a fixed set of partial sums added in a fixed order.
#pragma once
#include <cstdint>

#include "simd.h"

namespace ltr {

// The geometry of one convolution, as the JS side sends it (17 integers, see convParams in src/kernels/native/conv.ts).
struct ConvShape {
  int N, H, W, C, OH, OW, K, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR;
  explicit ConvShape(const int* p)
      : N(p[0]),
        H(p[1]),
        W(p[2]),
        C(p[3]),
        OH(p[4]),
        OW(p[5]),
        K(p[6]),
        KH(p[7]),
        KW(p[8]),
        SH(p[9]),
        SW(p[10]),
        DH(p[11]),
        DW(p[12]),
        PT(p[13]),
        PL(p[14]),
        PB(p[15]),
        PR(p[16]) {}
};

// What an inference forward convolution applies to each output value before storing it: inference batch norm
// folded into v * k[c] + b[c] (foldBatchNorm, batchnorm.cc), then optionally + residual and a ReLU, each step rounded
// to float as the separate batchNorm kernel rounds it, so the result is bit-identical to conv, then batchNorm.
// k and b hold a multiple of 16 entries (zero beyond K); residual is [N, OH, OW, K] like y, or null.
struct Epilogue {
  const float* k;
  const float* b;
  const float* residual;
  bool relu;
};

// v * k + b (a multiply, then an add: no fused multiply-add), + r, then max(0, v): NaN stays NaN and -0 stays -0,
// exactly as the scalar `relu && v < 0 ? 0 : v` of the batchNorm kernel (max_ps returns its second operand on NaN or
// equality).
inline __m256 applyEpilogue(__m256 v, __m256 k, __m256 b, const float* r, int lanes, bool relu) {
  v = _mm256_add_ps(_mm256_mul_ps(v, k), b);
  if (r) v = _mm256_add_ps(v, loadN(r, lanes));
  if (relu) v = _mm256_max_ps(_mm256_setzero_ps(), v);
  return v;
}

// Direct kernels (conv_direct.cc). fwd: x, w -> y (with an optional epilogue); bwdData: dy, w -> dx (dilation 1);
// bwdFilter: x, dy -> dw.
void directForward(const ConvShape& s, const float* x, const float* w, float* y, const Epilogue* ep = nullptr);
void directBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void directBackwardFilter(const ConvShape& s, const float* x, const float* dy, float* dw);

// Winograd F(4x4, 3x3) (winograd.cc): 3x3 filters, stride 1, dilation 1, any padding.
bool winogradApplies(const ConvShape& s);
void winogradForward(const ConvShape& s, const float* x, const float* w, float* y, const Epilogue* ep = nullptr);
void winogradBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void winogradBackwardFilter(const ConvShape& s, const float* x, const float* dy, float* dw);

}  // namespace ltr
