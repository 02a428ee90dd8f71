// Convolutions through oneDNN: NHWC activations, HWIO filters as tfjs stores them, one cached plan per shape.
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "grouped.h"
#include "ops.h"

namespace ltr {

dnnl::engine& eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& strm() {
  static dnnl::stream s(eng());
  return s;
}

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// One cached plan per (kind, shape, groups): primitive descriptors are comparatively costly to create and a training
// step reuses a handful of shapes thousands of times.
struct ConvPlan {
  dnnl::primitive prim;
  memory::desc actA, actB;  // the activation-side descriptors (NHWC) used as user memory
  memory::desc wInternal;   // weights layout chosen by oneDNN
  memory::desc wUser;       // HWIO
  bool needReorder = false;
  std::unique_ptr<memory> wMem;  // internal weights buffer (when a reorder is needed)
  dnnl::reorder reorder;         // HWIO -> internal (kinds 0, 1) or internal -> HWIO (kind 2)
  std::string impl;              // oneDNN's implementation name, e.g. "jit:avx2" or "x64:gemm:jit"
  // Forward only: the plan computes `merge` adjacent groups as one group of merge·C/G channels whose filter is
  // block-diagonal (zeros between the merged groups); `wMerged` holds that expanded filter. See mergedForwardPlan.
  int merge = 1;
  std::vector<float> wMerged;
};

std::map<std::vector<int>, std::unique_ptr<ConvPlan>> g_convCache;

// p holds 18 integers: the 17 of the `conv` entry point, then the group count G (1 = ordinary convolution).
std::unique_ptr<ConvPlan> buildPlan(int kind, const int* p) {
  const int N = p[0], H = p[1], W = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6], KH = p[7], KW = p[8];
  const memory::dims strides{p[9], p[10]}, dil{p[11] - 1, p[12] - 1}, padL{p[13], p[14]}, padR{p[15], p[16]};
  memory::desc src({N, C, H, W}, dt::f32, tag::nhwc);
  memory::desc dst({N, OC, OH, OW}, dt::f32, tag::nhwc);
  const int G = p[17];
  // Grouped weights: oneDNN's dims are [G, OC/G, C/G, KH, KW]. tfjs stores a grouped filter as [KH, KW, C/G, OC]
  // with output channel g·(OC/G) + j, which is oneDNN's `hwigo` order (h, w, i, g, o from outer to inner).
  const memory::dims wDims = G == 1 ? memory::dims{OC, C, KH, KW} : memory::dims{G, OC / G, C / G, KH, KW};
  memory::desc wAny(wDims, dt::f32, tag::any);
  memory::desc wUser(wDims, dt::f32, G == 1 ? tag::hwio : tag::hwigo);

  auto plan = std::make_unique<ConvPlan>();
  plan->wUser = wUser;
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wAny,
                                     dst, strides, dil, padL, padR);
  dnnl::convolution_forward::primitive_desc fpd(fd, eng());
  if (kind == 0) {
    plan->prim = dnnl::convolution_forward(fpd);
    plan->wInternal = fpd.weights_desc();
    plan->impl = fpd.impl_info_str();
  } else if (kind == 1) {
    dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, src, wAny, dst, strides, dil, padL,
                                             padR);
    dnnl::convolution_backward_data::primitive_desc bpd(bd, eng(), fpd);
    plan->prim = dnnl::convolution_backward_data(bpd);
    plan->wInternal = bpd.weights_desc();
    plan->impl = bpd.impl_info_str();
  } else {
    dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, src, wAny, dst, strides, dil, padL,
                                                padR);
    dnnl::convolution_backward_weights::primitive_desc wpd(wd, eng(), fpd);
    plan->prim = dnnl::convolution_backward_weights(wpd);
    plan->wInternal = wpd.diff_weights_desc();
    plan->impl = wpd.impl_info_str();
  }
  plan->actA = src;
  plan->actB = dst;
  plan->needReorder = plan->wInternal != wUser;
  if (plan->needReorder) {
    plan->wMem = std::make_unique<memory>(plan->wInternal, eng());
    plan->reorder = kind == 2 ? dnnl::reorder(dnnl::reorder::primitive_desc(eng(), plan->wInternal, eng(), wUser))
                              : dnnl::reorder(dnnl::reorder::primitive_desc(eng(), wUser, eng(), plan->wInternal));
  }
  return plan;
}

bool isGemm(const ConvPlan& plan) { return plan.impl.find("gemm") != std::string::npos; }

// oneDNN 2.6's direct (jit) grouped forward kernels need channels per group in multiples of the SIMD block (8);
// with fewer (ResNeXt-50 32x4d's first stage has 4) it falls back to a per-group im2col + GEMM at ~4 GFLOP/s,
// several times slower than the jit kernel, while its backward kernels pad the groups themselves. So when the
// forward plan is a GEMM one, merge m adjacent groups into one of m·C/G channels with a block-diagonal filter: m
// times the FLOPs, but on the jit kernel. Output channel o keeps its index (o = g·OCg + j = g'·m·OCg + j'), so
// only the filter changes.
std::unique_ptr<ConvPlan> mergedForwardPlan(const int* p) {
  const int G = p[17], cg = p[3] / G, og = p[6] / G;
  for (int m = 2; m <= 8; m *= 2) {
    if (G % m != 0 || (cg * m) % 8 != 0 || (og * m) % 8 != 0) continue;
    int q[18];
    std::memcpy(q, p, sizeof q);
    q[17] = G / m;
    auto alt = buildPlan(0, q);
    if (isGemm(*alt)) continue;
    alt->merge = m;
    alt->wMerged.assign(size_t(p[7]) * p[8] * cg * m * p[6], 0.0f);
    return alt;
  }
  return nullptr;
}

ConvPlan& convPlan(int kind, const int* p) {
  std::vector<int> key(p, p + 18);
  key.push_back(kind);
  auto it = g_convCache.find(key);
  if (it != g_convCache.end()) return *it->second;
  auto plan = buildPlan(kind, p);
  if (kind == 0 && p[17] > 1 && isGemm(*plan)) {
    if (auto alt = mergedForwardPlan(p)) plan = std::move(alt);
  }
  auto& ref = *plan;
  g_convCache.emplace(std::move(key), std::move(plan));
  return ref;
}

// The block-diagonal filter of a merged plan: [KH, KW, m·cg, OC] from the grouped [KH, KW, cg, OC]; input row
// s·cg + i of merged group g' feeds output o only when o belongs to original group g'·m + s.
void expandMergedFilter(const ConvPlan& plan, const int* p, const float* w, float* out) {
  const int G = p[17], cg = p[3] / G, og = p[6] / G, OC = p[6], taps = p[7] * p[8], m = plan.merge;
  const int mc = m * cg;
  for (int t = 0; t < taps; ++t) {
    for (int ip = 0; ip < mc; ++ip) {
      const int s = ip / cg, i = ip % cg;
      const float* src = w + (size_t(t) * cg + i) * OC;
      float* dst = out + (size_t(t) * mc + ip) * OC;
      for (int o = 0; o < OC; ++o) dst[o] = (o % (og * m)) / og == s ? src[o] : 0.0f;
    }
  }
}

void convImpl(napi_env env, napi_callback_info info);

// oneDNN errors are reported with their library named.
napi_value Conv(napi_env env, napi_callback_info info) {
  return guarded(env, "conv", [&]() {
    try {
      convImpl(env, info);
    } catch (const dnnl::error& e) {
      throw ArgError{std::string("oneDNN: ") + e.what()};
    }
    return undef(env);
  });
}

void convImpl(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int kind = static_cast<int>(a.i64(0));
  size_t lp;
  const int* given = a.arr<int32_t>(1, &lp);
  if (lp != 17 && lp != 18) throw ArgError{"conv params must have 17 entries (18 with the group count)"};
  if (kind < 0 || kind > 2) throw ArgError{"conv kind must be 0, 1 or 2"};
  int p[18];
  std::memcpy(p, given, sizeof(int) * lp);
  if (lp == 17) p[17] = 1;
  const int G = p[17];
  if (G < 1 || p[3] % G != 0 || p[6] % G != 0) {
    throw ArgError{"conv groups=" + std::to_string(G) + " must be >= 1 and divide both channel counts (C=" +
                   std::to_string(p[3]) + ", OC=" + std::to_string(p[6]) + ")"};
  }
  size_t l2, l3, l4;
  float* in1 = a.arr<float>(2, &l2);
  float* in2 = a.arr<float>(3, &l3);
  float* out = a.arr<float>(4, &l4);
  const size_t xN = size_t(p[0]) * p[1] * p[2] * p[3], yN = size_t(p[0]) * p[4] * p[5] * p[6],
               wN = size_t(p[7]) * p[8] * (p[3] / G) * p[6];
  const size_t want1 = kind == 1 ? yN : xN, want2 = kind == 0 ? wN : (kind == 1 ? wN : yN),
               wantOut = kind == 0 ? yN : (kind == 1 ? xN : wN);
  if (l2 < want1 || l3 < want2 || l4 < wantOut) throw ArgError{"conv views are smaller than the shape implies"};

  // 1x1, unpadded filter gradient: dW[C,OC] = Xs^T · dY with Xs the strided subsample of x. oneDNN 2.6.3's
  // jit_1x1 backward-weights kernel returns wrong values for strided NHWC inputs (found by the tests), and a
  // gather + one GEMM is as fast for these small layers.
  if (kind == 2 && G == 1 && p[7] == 1 && p[8] == 1 && p[13] == 0 && p[14] == 0 && p[15] >= 0 && p[16] >= 0) {
    const int N = p[0], H = p[1], W = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6], SH = p[9], SW = p[10];
    const int64_t P = int64_t(N) * OH * OW;
    const float* xs = in1;
    std::vector<float> gathered;
    if (SH != 1 || SW != 1 || OH != H || OW != W) {
      gathered.resize(size_t(P) * C);
#pragma omp parallel for schedule(guided, chunkRows(C)) if (P * C >= kParallelMin)
      for (int64_t q = 0; q < P; ++q) {
        const int64_t n = q / (int64_t(OH) * OW), r = q % (int64_t(OH) * OW), oh = r / OW, ow = r % OW;
        std::memcpy(gathered.data() + q * C, in1 + ((n * H + oh * SH) * W + ow * SW) * C, sizeof(float) * C);
      }
      xs = gathered.data();
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, P, 1.0f, xs, C, in2, OC, 0.0f, out, OC);
    return;
  }
  // Grouped forward with few channels per group: our direct kernel where it applies (native/src/grouped.cc).
  if (kind == 0 && G > 1 && groupedForwardDirect(p, in1, in2, out)) return;
  ConvPlan& plan = convPlan(kind, p);
  auto& s = strm();
  if (kind == 0) {
    float* wData = in2;
    if (plan.merge > 1) {
      expandMergedFilter(plan, p, in2, plan.wMerged.data());
      wData = plan.wMerged.data();
    }
    memory x(plan.actA, eng(), in1), w(plan.wUser, eng(), wData), y(plan.actB, eng(), out);
    memory* wUse = &w;
    if (plan.needReorder) {
      plan.reorder.execute(s, w, *plan.wMem);
      wUse = plan.wMem.get();
    }
    plan.prim.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, *wUse}, {DNNL_ARG_DST, y}});
  } else if (kind == 1) {
    memory dy(plan.actB, eng(), in1), w(plan.wUser, eng(), in2), dx(plan.actA, eng(), out);
    memory* wUse = &w;
    if (plan.needReorder) {
      plan.reorder.execute(s, w, *plan.wMem);
      wUse = plan.wMem.get();
    }
    plan.prim.execute(s, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, *wUse}, {DNNL_ARG_DIFF_SRC, dx}});
  } else {
    memory x(plan.actA, eng(), in1), dy(plan.actB, eng(), in2), dw(plan.wUser, eng(), out);
    memory* dwUse = plan.needReorder ? plan.wMem.get() : &dw;
    plan.prim.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, *dwUse}});
    if (plan.needReorder) plan.reorder.execute(s, *plan.wMem, dw);
  }
  s.wait();
}

}  // namespace ltr
