// The N-API entry of our own convolutions (conv_direct.cc, winograd.cc): argument checks and the choice between
// the direct and the Winograd kernel. The kernel files themselves know nothing of N-API.
#include <vector>

#include "batchnorm.h"
#include "common.h"
#include "conv_own.h"
#include "ops.h"

namespace ltr {

// Auto choice: Winograd where it applies and its transformed filters (36 x C x K floats) stay small enough to be
// reused from cache across tiles. Above 128 x 128 channel pairs (ResNet-50's 14x14 and 7x7 stages) every tile
// streams megabytes of transformed filters and the direct kernel is 2-5x faster (docs/PERFORMANCE.md, "ImageNet
// shapes"). The choice depends on the shape alone, so results stay machine-independent (docs/DETERMINISM.md).
bool winogradPreferred(const ConvShape& s) { return winogradApplies(s) && int64_t(s.C) * s.K <= 128 * 128; }

// The 17 conv params at argument i, checked (sizes, strides and dilations >= 1, pads >= 0).
static ConvShape convShapeArg(const Args& a, size_t i) {
  size_t lp;
  const int* p = a.arr<int32_t>(i, &lp);
  if (lp != 17) throw ArgError{"conv params must have 17 entries"};
  for (int j = 0; j < 13; ++j)
    if (p[j] < 1) throw ArgError{"conv sizes, strides and dilations must be >= 1"};
  for (int j = 13; j < 17; ++j)
    if (p[j] < 0) throw ArgError{"conv pads must be >= 0"};
  return ConvShape(p);
}

// convOwn(kind, p: Int32Array(17), a, b, out, algo): our convolutions. kind 0 forward (x, w -> y), 1 input gradient
// (dy, w -> dx), 2 filter gradient (x, dy -> dw); algo 0 auto (winogradPreferred), 1 direct, 2 Winograd.
napi_value ConvOwn(napi_env env, napi_callback_info info) {
  return guarded(env, "convOwn", [&]() {
    Args a(env, info);
    const int kind = static_cast<int>(a.i64(0));
    if (kind < 0 || kind > 2) throw ArgError{"conv kind must be 0, 1 or 2"};
    const ConvShape s = convShapeArg(a, 1);
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

// convBnEval(p: Int32Array(17), x, w, out, mean, var, offset, scale, eps, residual|null, relu): the inference tail
// relu?(bn(conv(x, w)) + residual?) in one pass, the batch norm folded into the forward convolution's stores
// (Epilogue, conv_own.h), with the same algorithm choice as convOwn's auto. The statistics have K entries.
// Bit-identical to convOwn (forward), then batchNorm with the same residual and ReLU.
napi_value ConvBnEval(napi_env env, napi_callback_info info) {
  return guarded(env, "convBnEval", [&]() {
    Args a(env, info);
    const ConvShape s = convShapeArg(a, 0);
    size_t lx, lw, lo, lr = 0;
    const float* x = a.arr<float>(1, &lx);
    const float* w = a.arr<float>(2, &lw);
    float* out = a.arr<float>(3, &lo);
    const Chan mean = chanArg(a, 4, s.K, false, "mean"), var = chanArg(a, 5, s.K, false, "variance");
    const Chan off = chanArg(a, 6, s.K, false, "offset"), sc = chanArg(a, 7, s.K, false, "scale");
    const float eps = static_cast<float>(a.f64(8));
    const float* res = a.arr<float>(9, &lr, true);
    const bool relu = a.i64(10) != 0;
    const size_t xN = size_t(s.N) * s.H * s.W * s.C, yN = size_t(s.N) * s.OH * s.OW * s.K,
                 wN = size_t(s.KH) * s.KW * s.C * s.K;
    if (lx < xN || lw < wN || lo < yN || (res && lr < yN))
      throw ArgError{"convBnEval views are smaller than the shape implies"};
    const size_t kp = (size_t(s.K) + 15) / 16 * 16;
    std::vector<float> k(kp, 0.f), b(kp, 0.f);
    foldBatchNorm(s.K, mean, var, off, sc, eps, k.data(), b.data());
    const Epilogue ep{k.data(), b.data(), res, relu};
    winogradPreferred(s) ? winogradForward(s, x, w, out, &ep) : directForward(s, x, w, out, &ep);
    return undef(env);
  });
}

}  // namespace ltr
