// The N-API entry of our own convolutions (conv_direct.cc, winograd.cc): argument checks and the choice between
// the direct and the Winograd kernel. The kernel files themselves know nothing of N-API.
#include "common.h"
#include "conv_own.h"
#include "ops.h"

namespace ltr {

// Auto choice: Winograd where it applies and its transformed filters (36 x C x K floats) stay small enough to be
// reused from cache across tiles. Above 128 x 128 channel pairs (ResNet-50's 14x14 and 7x7 stages) every tile
// streams megabytes of transformed filters and the direct kernel is 2-5x faster (docs/PERFORMANCE.md, "ImageNet
// shapes"). The choice depends on the shape alone, so results stay machine-independent (docs/DETERMINISM.md).
bool winogradPreferred(const ConvShape& s) { return winogradApplies(s) && int64_t(s.C) * s.K <= 128 * 128; }

// convOwn(kind, p: Int32Array(17), a, b, out, algo): our convolutions. kind 0 forward (x, w -> y), 1 input gradient
// (dy, w -> dx), 2 filter gradient (x, dy -> dw); algo 0 auto (winogradPreferred), 1 direct, 2 Winograd.
napi_value ConvOwn(napi_env env, napi_callback_info info) {
  return guarded(env, "convOwn", [&]() {
    Args a(env, info);
    const int kind = static_cast<int>(a.i64(0));
    size_t lp;
    const int* p = a.arr<int32_t>(1, &lp);
    if (lp != 17) throw ArgError{"conv params must have 17 entries"};
    if (kind < 0 || kind > 2) throw ArgError{"conv kind must be 0, 1 or 2"};
    const ConvShape s(p);
    for (int i = 0; i < 13; ++i)
      if (p[i] < 1) throw ArgError{"conv sizes, strides and dilations must be >= 1"};
    for (int i = 13; i < 17; ++i)
      if (p[i] < 0) throw ArgError{"conv pads must be >= 0"};
    const int algo = a.argc > 5 ? static_cast<int>(a.i64(5)) : 0;
    size_t l2, l3, l4;
    const float* in1 = a.arr<float>(2, &l2);
    const float* in2 = a.arr<float>(3, &l3);
    float* out = a.arr<float>(4, &l4);
    const size_t xN = size_t(s.N) * s.H * s.W * s.C, yN = size_t(s.N) * s.OH * s.OW * s.K,
                 wN = size_t(s.KH) * s.KW * s.C * s.K;
    const size_t want1 = kind == 1 ? yN : xN, want2 = kind == 2 ? yN : wN,
                 wantOut = kind == 0   ? yN
                           : kind == 1 ? xN
                                       : wN;
    if (l2 < want1 || l3 < want2 || l4 < wantOut) throw ArgError{"conv views are smaller than the shape implies"};
    if (kind == 1 && (s.DH != 1 || s.DW != 1)) throw ArgError{"the input gradient supports dilation 1 only"};
    const bool wino = algo == 2 || (algo == 0 && winogradPreferred(s));
    if (algo == 2 && !winogradApplies(s))
      throw ArgError{"Winograd needs a 3x3 filter, stride 1, dilation 1 and >= 8 channels"};
    if (kind == 0)
      wino ? winogradForward(s, in1, in2, out) : directForward(s, in1, in2, out);
    else if (kind == 1)
      wino ? winogradBackwardData(s, in1, in2, out) : directBackwardData(s, in1, in2, out);
    else
      wino ? winogradBackwardFilter(s, in1, in2, out) : directBackwardFilter(s, in1, in2, out);
    return undef(env);
  });
}

}  // namespace ltr
