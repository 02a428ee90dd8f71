// Our own NHWC convolutions (HWIO filters, as tfjs stores them): a direct implicit-GEMM kernel for every shape and
// Winograd F(4x4, 3x3) for 3x3 stride-1 layers. Both are deterministic by construction: each output element is
// computed by one thread in an order fixed by the shape alone (never by the thread count or the CPU), and the
// reductions over the batch (filter gradients) run over a fixed set of partial sums added in a fixed order.
#pragma once
#include <cstdint>

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

// Direct kernels (conv_direct.cc). fwd: x, w -> y; bwdData: dy, w -> dx (dilation 1); bwdFilter: x, dy -> dw.
void directForward(const ConvShape& s, const float* x, const float* w, float* y);
void directBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void directBackwardFilter(const ConvShape& s, const float* x, const float* dy, float* dw);

// Winograd F(4x4, 3x3) (winograd.cc): 3x3 filters, stride 1, dilation 1, any padding.
bool winogradApplies(const ConvShape& s);
void winogradForward(const ConvShape& s, const float* x, const float* w, float* y);
void winogradBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void winogradBackwardFilter(const ConvShape& s, const float* x, const float* dy, float* dw);

}  // namespace ltr
