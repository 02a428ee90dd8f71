// Convolutions through oneDNN: NHWC activations, HWIO filters as tfjs stores them, one cached plan per shape.
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "common.h"
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

// One cached plan per (kind, shape): primitive descriptors are comparatively costly to create and a training step
// reuses a handful of shapes thousands of times.
struct ConvPlan {
  dnnl::primitive prim;
  memory::desc actA, actB;     // the activation-side descriptors (NHWC) used as user memory
  memory::desc wInternal;      // weights layout chosen by oneDNN
  memory::desc wUser;          // HWIO
  bool needReorder = false;
  std::unique_ptr<memory> wMem;  // internal weights buffer (when a reorder is needed)
  dnnl::reorder reorder;         // HWIO -> internal (kinds 0, 1) or internal -> HWIO (kind 2)
};

std::map<std::vector<int>, std::unique_ptr<ConvPlan>> g_convCache;

ConvPlan& convPlan(int kind, const int* p) {
  std::vector<int> key(p, p + 17);
  key.push_back(kind);
  auto it = g_convCache.find(key);
  if (it != g_convCache.end()) return *it->second;

  const int N = p[0], H = p[1], W = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6], KH = p[7], KW = p[8];
  const memory::dims strides{p[9], p[10]}, dil{p[11] - 1, p[12] - 1}, padL{p[13], p[14]}, padR{p[15], p[16]};
  memory::desc src({N, C, H, W}, dt::f32, tag::nhwc);
  memory::desc dst({N, OC, OH, OW}, dt::f32, tag::nhwc);
  memory::desc wAny({OC, C, KH, KW}, dt::f32, tag::any);
  memory::desc wUser({OC, C, KH, KW}, dt::f32, tag::hwio);

  auto plan = std::make_unique<ConvPlan>();
  plan->wUser = wUser;
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wAny,
                                     dst, strides, dil, padL, padR);
  dnnl::convolution_forward::primitive_desc fpd(fd, eng());
  if (kind == 0) {
    plan->prim = dnnl::convolution_forward(fpd);
    plan->wInternal = fpd.weights_desc();
  } else if (kind == 1) {
    dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, src, wAny, dst, strides, dil, padL,
                                             padR);
    dnnl::convolution_backward_data::primitive_desc bpd(bd, eng(), fpd);
    plan->prim = dnnl::convolution_backward_data(bpd);
    plan->wInternal = bpd.weights_desc();
  } else {
    dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, src, wAny, dst, strides, dil, padL,
                                                padR);
    dnnl::convolution_backward_weights::primitive_desc wpd(wd, eng(), fpd);
    plan->prim = dnnl::convolution_backward_weights(wpd);
    plan->wInternal = wpd.diff_weights_desc();
  }
  plan->actA = src;
  plan->actB = dst;
  plan->needReorder = plan->wInternal != wUser;
  if (plan->needReorder) {
    plan->wMem = std::make_unique<memory>(plan->wInternal, eng());
    plan->reorder = kind == 2 ? dnnl::reorder(dnnl::reorder::primitive_desc(eng(), plan->wInternal, eng(), wUser))
                              : dnnl::reorder(dnnl::reorder::primitive_desc(eng(), wUser, eng(), plan->wInternal));
  }
  auto& ref = *plan;
  g_convCache.emplace(std::move(key), std::move(plan));
  return ref;
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
  const int* p = a.arr<int32_t>(1, &lp);
  if (lp != 17) throw ArgError{"conv params must have 17 entries"};
  if (kind < 0 || kind > 2) throw ArgError{"conv kind must be 0, 1 or 2"};
  size_t l2, l3, l4;
  float* in1 = a.arr<float>(2, &l2);
  float* in2 = a.arr<float>(3, &l3);
  float* out = a.arr<float>(4, &l4);
  const size_t xN = size_t(p[0]) * p[1] * p[2] * p[3], yN = size_t(p[0]) * p[4] * p[5] * p[6],
               wN = size_t(p[7]) * p[8] * p[3] * p[6];
  const size_t want1 = kind == 1 ? yN : xN, want2 = kind == 0 ? wN : (kind == 1 ? wN : yN),
               wantOut = kind == 0 ? yN : (kind == 1 ? xN : wN);
  if (l2 < want1 || l3 < want2 || l4 < wantOut) throw ArgError{"conv views are smaller than the shape implies"};

  // 1x1, unpadded filter gradient: dW[C,OC] = Xs^T · dY with Xs the strided subsample of x. oneDNN 2.6.3's
  // jit_1x1 backward-weights kernel returns wrong values for strided NHWC inputs (found by the tests), and a
  // gather + one GEMM is as fast for these small layers.
  if (kind == 2 && p[7] == 1 && p[8] == 1 && p[13] == 0 && p[14] == 0 && p[15] >= 0 && p[16] >= 0) {
    const int N = p[0], H = p[1], W = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6], SH = p[9], SW = p[10];
    const int64_t P = int64_t(N) * OH * OW;
    const float* xs = in1;
    std::vector<float> gathered;
    if (SH != 1 || SW != 1 || OH != H || OW != W) {
      gathered.resize(size_t(P) * C);
#pragma omp parallel for schedule(static) if (P * C >= kParallelMin)
      for (int64_t q = 0; q < P; ++q) {
        const int64_t n = q / (int64_t(OH) * OW), r = q % (int64_t(OH) * OW), oh = r / OW, ow = r % OW;
        std::memcpy(gathered.data() + q * C, in1 + ((n * H + oh * SH) * W + ow * SW) * C, sizeof(float) * C);
      }
      xs = gathered.data();
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, P, 1.0f, xs, C, in2, OC, 0.0f, out, OC);
    return;
  }
  ConvPlan& plan = convPlan(kind, p);
  auto& s = strm();
  if (kind == 0) {
    memory x(plan.actA, eng(), in1), w(plan.wUser, eng(), in2), y(plan.actB, eng(), out);
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
