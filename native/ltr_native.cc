// ltr_native: CPU kernels for the tfjs wasm backend, operating zero-copy on Float32Array views of the wasm heap.
//
// Why native: the tfjs wasm backend is single-threaded 128-bit SIMD and has no fast convolution gradients; the
// machine has AVX-512 and oneDNN / OpenBLAS are installed. Every entry point takes typed-array views that the JS
// side obtained from `backend.typedArrayFromHeap(...)` *after* allocating all outputs (heap growth detaches views),
// so nothing is copied in or out.
//
// Entry points (all synchronous; arguments are validated on the JS side, which knows tensor shapes):
//   setThreads(n)                      OpenMP (oneDNN + our loops) and OpenBLAS thread counts
//   info()                             { dnnl: "2.6.3", openblas: "...", threads }
//   sgemm(batch, ta, tb, M, N, K, A, strideA, B, strideB, C, strideC)   row-major C = op(A)·op(B); stride 0 broadcasts
//   conv(kind, p: Int32Array(17), a, b, out)   oneDNN NHWC convolution; kind 0 fwd(x,w)->y, 1 bwd-data(dy,w)->dx,
//                                      2 bwd-weights(x,dy)->dw; p = N,H,W,C,OH,OW,OC,KH,KW,SH,SW,DH,DW,PT,PL,PB,PR
//   binary(op, R, C, a, aMode, b, bMode, out)   out[R,C] = a (op) b; mode 0 full, 1 row vector [C], 2 column [R], 3 scalar
//   unary(op, x, out, alpha)           element-wise unary
//   reduce(op, O, Rd, I, x, out)       out[O,I] = reduce over the middle axis of x[O,Rd,I]
//   batchNorm(R, C, x, mean, var, offset|null, scale|null, eps, out)  per-channel (last axis) normalisation; the
//                                      statistics have C entries or 1 (broadcast)
//   bnGrad(R, C, x, dy, mean, var, scale|null, eps, dx, dMean, dVar, dScale, dOffset)  all five FusedBatchNorm
//                                      input gradients in two passes (any output may be null)
//   bnMoments(R, C, x, mean, var)      training-mode batch statistics (biased variance), two passes
//   bnTrainGrad(R, C, x, dy, mean, var, scale|null, eps, dx, dScale, dOffset)   training-mode BN gradient through
//                                      the batch statistics, two passes
//   sqDiffGrad(R, C, a, b, bMode, dy, da, db|null)   gradient of (a - b)^2 for a full, b broadcast by bMode
//   argMaxRows(R, C, x, out: Int32Array)   row-wise arg-max
//   segmentSum(N, D, K, x, ids: Int32Array, out)   UnsortedSegmentSum over rows
//   softmaxXentGrad(R, C, z, labels: Int32Array, bias|null, dBias|null) -> [lossSum, correct]   z (+ bias) ->
//                                      mean-CE gradient in place; dBias = column sums of that gradient
//   sgdMomentum(param, grad, v, lr, momentum, weightDecay)   PyTorch SGD step with coupled weight decay, in place
//   scaledArgMax(R, C, T, logits, scales[T*C], out: Int32Array, outStride)   out[t*outStride + i] = argmax_j L[i,j]*s[t,j]
//   classSums64(N, D, K, x, ids: Int32Array, sums: Float64Array)   sums[k] += rows of x with id k, in row order
//   normalizeRows(R, D, x, mean|null)   x[i] = (x[i] - mean) / ||x[i] - mean||, in place (zero rows stay zero)
#include <node_api.h>
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------------------------
// N-API helpers
// ---------------------------------------------------------------------------------------------------------------

struct ArgError {
  std::string msg;
};

#define NAPI_OK(call)                                          \
  do {                                                         \
    if ((call) != napi_ok) throw ArgError{"N-API call failed: " #call}; \
  } while (0)

struct Args {
  napi_env env;
  size_t argc = 16;
  napi_value argv[16];
  Args(napi_env e, napi_callback_info info) : env(e) { NAPI_OK(napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr)); }

  napi_value at(size_t i) const {
    if (i >= argc) throw ArgError{"missing argument #" + std::to_string(i)};
    return argv[i];
  }
  int64_t i64(size_t i) const {
    int64_t v;
    if (napi_get_value_int64(env, at(i), &v) != napi_ok) throw ArgError{"argument #" + std::to_string(i) + " must be a number"};
    return v;
  }
  double f64(size_t i) const {
    double v;
    if (napi_get_value_double(env, at(i), &v) != napi_ok) throw ArgError{"argument #" + std::to_string(i) + " must be a number"};
    return v;
  }
  bool isNull(size_t i) const {
    napi_valuetype t;
    NAPI_OK(napi_typeof(env, at(i), &t));
    return t == napi_null || t == napi_undefined;
  }
  // Pointer into a typed array (byte offset already applied by N-API) plus its element count.
  template <typename T>
  T* arr(size_t i, size_t* len = nullptr, bool nullable = false) const {
    if (nullable && isNull(i)) {
      if (len) *len = 0;
      return nullptr;
    }
    bool is;
    NAPI_OK(napi_is_typedarray(env, at(i), &is));
    if (!is) throw ArgError{"argument #" + std::to_string(i) + " must be a typed array"};
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t off;
    NAPI_OK(napi_get_typedarray_info(env, at(i), &type, &length, &data, &ab, &off));
    const napi_typedarray_type want = std::is_same<T, float>::value    ? napi_float32_array
                                      : std::is_same<T, double>::value ? napi_float64_array
                                                                       : napi_int32_array;
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value || std::is_same<T, int32_t>::value,
                  "typed arrays of float, double or int32 only");
    if (type != want) {
      const char* name = want == napi_float32_array ? "a Float32Array" : want == napi_float64_array ? "a Float64Array" : "an Int32Array";
      throw ArgError{"argument #" + std::to_string(i) + " must be " + name};
    }
    if (len) *len = length;
    return static_cast<T*>(data);
  }
};

napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Wrap a C++ body so that argument errors and oneDNN errors become JS exceptions instead of aborting Node.
template <typename F>
napi_value guarded(napi_env env, const char* name, F&& body) {
  try {
    return body();
  } catch (const ArgError& e) {
    napi_throw_error(env, nullptr, (std::string("ltr_native.") + name + ": " + e.msg).c_str());
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("ltr_native.") + name + ": oneDNN: " + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string("ltr_native.") + name + ": " + e.what()).c_str());
  }
  return nullptr;
}

int g_threads = 2;

// Loops below this many elements run on one thread: the OpenMP fork/join (~2-5 us) outweighs the work.
constexpr int64_t kParallelMin = 1 << 15;

// ---------------------------------------------------------------------------------------------------------------
// Threads / info
// ---------------------------------------------------------------------------------------------------------------

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, "setThreads", [&]() {
    Args a(env, info);
    int n = static_cast<int>(a.i64(0));
    if (n < 1) throw ArgError{"thread count must be >= 1, got " + std::to_string(n)};
    g_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return undef(env);
  });
}

napi_value Info(napi_env env, napi_callback_info info) {
  return guarded(env, "info", [&]() {
    napi_value obj, v;
    NAPI_OK(napi_create_object(env, &obj));
    const dnnl_version_t* ver = dnnl_version();
    std::string d = std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch);
    NAPI_OK(napi_create_string_utf8(env, d.c_str(), NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, obj, "dnnl", v));
    const char* cfg = openblas_get_config();
    NAPI_OK(napi_create_string_utf8(env, cfg ? cfg : "unknown", NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, obj, "openblas", v));
    NAPI_OK(napi_create_int32(env, g_threads, &v));
    NAPI_OK(napi_set_named_property(env, obj, "threads", v));
    return obj;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// GEMM (OpenBLAS)
// ---------------------------------------------------------------------------------------------------------------

napi_value Sgemm(napi_env env, napi_callback_info info) {
  return guarded(env, "sgemm", [&]() {
    Args a(env, info);
    const int64_t batch = a.i64(0);
    const bool ta = a.i64(1) != 0, tb = a.i64(2) != 0;
    const int64_t M = a.i64(3), N = a.i64(4), K = a.i64(5);
    size_t la, lb, lc;
    const float* A = a.arr<float>(6, &la);
    const int64_t sA = a.i64(7);
    const float* B = a.arr<float>(8, &lb);
    const int64_t sB = a.i64(9);
    float* C = a.arr<float>(10, &lc);
    const int64_t sC = a.i64(11);
    // Bounds: the last batch's operands must lie inside the views (a wrong shape must throw, not corrupt the heap).
    if (static_cast<int64_t>(la) < sA * (batch - 1) + M * K || static_cast<int64_t>(lb) < sB * (batch - 1) + K * N ||
        static_cast<int64_t>(lc) < sC * (batch - 1) + M * N)
      throw ArgError{"operand views are smaller than batch/M/N/K imply"};
    const int lda = ta ? M : K, ldb = tb ? K : N;
    for (int64_t i = 0; i < batch; ++i) {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f,
                  A + i * sA, lda, B + i * sB, ldb, 0.0f, C + i * sC, N);
    }
    return undef(env);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Convolutions (oneDNN, NHWC activations, HWIO filters as tfjs stores them)
// ---------------------------------------------------------------------------------------------------------------

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

napi_value Conv(napi_env env, napi_callback_info info) {
  return guarded(env, "conv", [&]() {
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
      return undef(env);
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
    return undef(env);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Element-wise binary ops with the broadcasts a training step needs, viewed as [R, C]
// ---------------------------------------------------------------------------------------------------------------

enum BinOp { kAdd = 0, kSub, kMul, kDiv, kSqDiff, kMax, kMin, kReluGrad /* a * (b > 0) */, kPow };

template <int OP>
inline float binop(float x, float y) {
  if (OP == kAdd) return x + y;
  if (OP == kSub) return x - y;
  if (OP == kMul) return x * y;
  if (OP == kDiv) return x / y;
  if (OP == kSqDiff) return (x - y) * (x - y);
  // NaN must propagate everywhere (a diverged loss has to stay NaN so training can detect it).
  if (OP == kMax) return (x > y || x != x) ? x : y;
  if (OP == kMin) return (x < y || x != x) ? x : y;
  if (OP == kReluGrad) return y > 0.f ? x : (y != y ? y : 0.f);
  return y == 2.f ? x * x : std::pow(x, y);  // kPow (tf.norm squares through Pow)
}

// Offsets: element (i, j) of an operand in mode m lives at i*rowStride + j*colStep.
inline void modeStrides(int mode, int64_t C, int64_t* rs, int* cs) {
  switch (mode) {
    case 0: *rs = C; *cs = 1; break;  // full
    case 1: *rs = 0; *cs = 1; break;  // row vector [C]
    case 2: *rs = 1; *cs = 0; break;  // column vector [R]
    default: *rs = 0; *cs = 0; break; // scalar
  }
}

template <int OP, int CA, int CB>
void binaryKernel(int64_t R, int64_t C, const float* a, int64_t ra, const float* b, int64_t rb, float* out) {
  // Operands that are full or scalar need no row structure: one flat loop split across threads (this also keeps
  // R == 1 views, e.g. a whole tensor against a scalar, multi-threaded).
  const bool flatA = CA == 1 ? (ra == C || R == 1) : ra == 0;
  const bool flatB = CB == 1 ? (rb == C || R == 1) : rb == 0;
  if (flatA && flatB) {
    const int64_t n = R * C;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t k = 0; k < n; ++k) out[k] = binop<OP>(a[k * CA], b[k * CB]);
    return;
  }
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
  for (int64_t i = 0; i < R; ++i) {
    const float* ai = a + i * ra;
    const float* bi = b + i * rb;
    float* oi = out + i * C;
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) oi[j] = binop<OP>(ai[j * CA], bi[j * CB]);
  }
}

template <int OP>
void binaryDispatch(int64_t R, int64_t C, const float* a, int am, const float* b, int bm, float* out) {
  int64_t ra, rb;
  int ca, cb;
  modeStrides(am, C, &ra, &ca);
  modeStrides(bm, C, &rb, &cb);
  if (ca && cb) binaryKernel<OP, 1, 1>(R, C, a, ra, b, rb, out);
  else if (ca) binaryKernel<OP, 1, 0>(R, C, a, ra, b, rb, out);
  else if (cb) binaryKernel<OP, 0, 1>(R, C, a, ra, b, rb, out);
  else binaryKernel<OP, 0, 0>(R, C, a, ra, b, rb, out);
}

size_t modeLen(int mode, int64_t R, int64_t C) { return mode == 0 ? R * C : mode == 1 ? C : mode == 2 ? R : 1; }

napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, "binary", [&]() {
    Args a(env, info);
    const int op = static_cast<int>(a.i64(0));
    const int64_t R = a.i64(1), C = a.i64(2);
    size_t la, lb, lo;
    const float* A = a.arr<float>(3, &la);
    const int am = static_cast<int>(a.i64(4));
    const float* B = a.arr<float>(5, &lb);
    const int bm = static_cast<int>(a.i64(6));
    float* O = a.arr<float>(7, &lo);
    if (am < 0 || am > 3 || bm < 0 || bm > 3) throw ArgError{"broadcast mode must be 0..3"};
    if (la < modeLen(am, R, C) || lb < modeLen(bm, R, C) || lo < size_t(R * C))
      throw ArgError{"binary views are smaller than R/C and modes imply"};
    switch (op) {
      case kAdd: binaryDispatch<kAdd>(R, C, A, am, B, bm, O); break;
      case kSub: binaryDispatch<kSub>(R, C, A, am, B, bm, O); break;
      case kMul: binaryDispatch<kMul>(R, C, A, am, B, bm, O); break;
      case kDiv: binaryDispatch<kDiv>(R, C, A, am, B, bm, O); break;
      case kSqDiff: binaryDispatch<kSqDiff>(R, C, A, am, B, bm, O); break;
      case kMax: binaryDispatch<kMax>(R, C, A, am, B, bm, O); break;
      case kMin: binaryDispatch<kMin>(R, C, A, am, B, bm, O); break;
      case kReluGrad: binaryDispatch<kReluGrad>(R, C, A, am, B, bm, O); break;
      case kPow: binaryDispatch<kPow>(R, C, A, am, B, bm, O); break;
      default: throw ArgError{"unknown binary op " + std::to_string(op)};
    }
    return undef(env);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Element-wise unary ops
// ---------------------------------------------------------------------------------------------------------------

enum UnOp { kRelu = 0, kStep, kNeg, kSquare, kRsqrt, kSqrt, kExp, kLog, kScale /* x*alpha */, kRelu6, kAbs };

template <int OP>
void unaryKernel(int64_t n, const float* x, float* o, float alpha) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) {
    const float v = x[k];
    float r;
    if (OP == kRelu) r = v < 0.f ? 0.f : v;  // NaN stays NaN
    else if (OP == kStep) r = v > 0.f ? 1.f : (v != v ? v : alpha);  // tfjs step: NaN stays NaN, x<=0 -> alpha
    else if (OP == kNeg) r = -v;
    else if (OP == kSquare) r = v * v;
    else if (OP == kRsqrt) r = 1.f / std::sqrt(v);
    else if (OP == kSqrt) r = std::sqrt(v);
    else if (OP == kExp) r = std::exp(v);
    else if (OP == kLog) r = std::log(v);
    else if (OP == kScale) r = v * alpha;
    else if (OP == kRelu6) r = v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    else r = std::fabs(v);  // kAbs
    o[k] = r;
  }
}

napi_value Unary(napi_env env, napi_callback_info info) {
  return guarded(env, "unary", [&]() {
    Args a(env, info);
    const int op = static_cast<int>(a.i64(0));
    size_t lx, lo;
    const float* X = a.arr<float>(1, &lx);
    float* O = a.arr<float>(2, &lo);
    const float alpha = static_cast<float>(a.f64(3));
    if (lo < lx) throw ArgError{"unary output view is smaller than the input"};
    const int64_t n = static_cast<int64_t>(lx);
    switch (op) {
      case kRelu: unaryKernel<kRelu>(n, X, O, alpha); break;
      case kStep: unaryKernel<kStep>(n, X, O, alpha); break;
      case kNeg: unaryKernel<kNeg>(n, X, O, alpha); break;
      case kSquare: unaryKernel<kSquare>(n, X, O, alpha); break;
      case kRsqrt: unaryKernel<kRsqrt>(n, X, O, alpha); break;
      case kSqrt: unaryKernel<kSqrt>(n, X, O, alpha); break;
      case kExp: unaryKernel<kExp>(n, X, O, alpha); break;
      case kLog: unaryKernel<kLog>(n, X, O, alpha); break;
      case kScale: unaryKernel<kScale>(n, X, O, alpha); break;
      case kRelu6: unaryKernel<kRelu6>(n, X, O, alpha); break;
      case kAbs: unaryKernel<kAbs>(n, X, O, alpha); break;
      default: throw ArgError{"unknown unary op " + std::to_string(op)};
    }
    return undef(env);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reductions over the middle axis of [O, Rd, I]
// ---------------------------------------------------------------------------------------------------------------

enum RedOp { kSum = 0, kMean, kRMax, kRMin };

// Max/min step that lets NaN win (as tfjs's reductions do), so a NaN anywhere shows in the result.
inline float pick(bool isMax, float acc, float v) {
  if (v != v || acc != acc) return v != v ? v : acc;
  return isMax ? (v > acc ? v : acc) : (v < acc ? v : acc);
}

// Column reduction (O == 1, I large enough): each thread sums a block of rows into a private row, then the rows are
// combined. Summation is in double per column chunk for stability against fp32 drift over ~10^5 rows.
void reduceRows(int op, int64_t Rd, int64_t I, const float* x, float* out) {
  const int T = (Rd * I >= kParallelMin) ? g_threads : 1;
  std::vector<double> part(size_t(T) * I);
  std::vector<float> partMax(size_t(T) * I);
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = Rd * t / nt, r1 = Rd * (t + 1) / nt;
    double* acc = part.data() + size_t(t) * I;
    float* mx = partMax.data() + size_t(t) * I;
    if (op == kSum || op == kMean) {
      // Accumulate 8 rows at a time in float, flush into double: fast and accurate enough.
      std::vector<float> f(I, 0.f);
      int64_t r = r0;
      while (r < r1) {
        const int64_t e = std::min(r1, r + 64);
        std::fill(f.begin(), f.end(), 0.f);
        for (; r < e; ++r) {
          const float* row = x + r * I;
#pragma omp simd
          for (int64_t j = 0; j < I; ++j) f[j] += row[j];
        }
        for (int64_t j = 0; j < I; ++j) acc[j] += f[j];
      }
    } else {
      const bool isMax = op == kRMax;
      for (int64_t j = 0; j < I; ++j) mx[j] = isMax ? -INFINITY : INFINITY;
      for (int64_t r = r0; r < r1; ++r) {
        const float* row = x + r * I;
        for (int64_t j = 0; j < I; ++j) mx[j] = pick(isMax, mx[j], row[j]);
      }
    }
  }
  for (int64_t j = 0; j < I; ++j) {
    if (op == kSum || op == kMean) {
      double s = 0;
      for (int t = 0; t < T; ++t) s += part[size_t(t) * I + j];
      out[j] = static_cast<float>(op == kMean ? s / double(Rd) : s);
    } else {
      float m = partMax[j];
      for (int t = 1; t < T; ++t) m = pick(op == kRMax, m, partMax[size_t(t) * I + j]);
      if (Rd == 0) m = op == kRMax ? -INFINITY : INFINITY;
      out[j] = m;
    }
  }
}

napi_value Reduce(napi_env env, napi_callback_info info) {
  return guarded(env, "reduce", [&]() {
    Args a(env, info);
    const int op = static_cast<int>(a.i64(0));
    const int64_t O = a.i64(1), Rd = a.i64(2), I = a.i64(3);
    size_t lx, lo;
    const float* X = a.arr<float>(4, &lx);
    float* Out = a.arr<float>(5, &lo);
    if (op < 0 || op > 3) throw ArgError{"unknown reduce op " + std::to_string(op)};
    if (lx < size_t(O * Rd * I) || lo < size_t(O * I)) throw ArgError{"reduce views are smaller than O/Rd/I imply"};
    if (O == 1) {
      reduceRows(op, Rd, I, X, Out);
      return undef(env);
    }
    // General case: parallel over the outer axis; each outer slice is reduced row by row (contiguous reads),
    // e.g. global average pooling [N, H*W, C] or softmax row sums [B, K, 1].
#pragma omp parallel for schedule(static) if (O * Rd * I >= kParallelMin)
    for (int64_t o = 0; o < O; ++o) {
      const float* xo = X + o * Rd * I;
      float* out = Out + o * I;
      if (op == kSum || op == kMean) {
        std::vector<double> acc(I, 0.0);
        for (int64_t r = 0; r < Rd; ++r) {
          const float* row = xo + r * I;
          for (int64_t j = 0; j < I; ++j) acc[j] += row[j];
        }
        for (int64_t j = 0; j < I; ++j) out[j] = static_cast<float>(op == kMean ? acc[j] / double(Rd) : acc[j]);
      } else {
        const bool isMax = op == kRMax;
        for (int64_t j = 0; j < I; ++j) out[j] = isMax ? -INFINITY : INFINITY;
        for (int64_t r = 0; r < Rd; ++r) {
          const float* row = xo + r * I;
          for (int64_t j = 0; j < I; ++j) out[j] = pick(isMax, out[j], row[j]);
        }
      }
    }
    return undef(env);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Batch normalisation over the last axis (NHWC channels)
// ---------------------------------------------------------------------------------------------------------------

// Reads a per-channel statistic that has C entries or 1 (broadcast).
struct Chan {
  const float* p;
  bool one;
  float at(int64_t j) const { return one ? p[0] : p[j]; }
};

Chan chanArg(const Args& a, size_t i, int64_t C, bool nullable, const char* what) {
  size_t len;
  const float* p = a.arr<float>(i, &len, nullable);
  if (!p) return {nullptr, true};
  if (len != size_t(C) && len != 1) throw ArgError{std::string(what) + " must have C or 1 entries"};
  return {p, len == 1};
}

napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, "batchNorm", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, lo;
    const float* X = a.arr<float>(2, &lx);
    Chan mean = chanArg(a, 3, C, false, "mean"), var = chanArg(a, 4, C, false, "variance");
    Chan off = chanArg(a, 5, C, true, "offset"), sc = chanArg(a, 6, C, true, "scale");
    const float eps = static_cast<float>(a.f64(7));
    float* O = a.arr<float>(8, &lo);
    if (lx < size_t(R * C) || lo < size_t(R * C)) throw ArgError{"batchNorm views are smaller than R*C"};
    // Fold into y = x*k + b per channel.
    std::vector<float> k(C), b(C);
    for (int64_t j = 0; j < C; ++j) {
      const float inv = 1.f / std::sqrt(var.at(j) + eps);
      k[j] = inv * (sc.p ? sc.at(j) : 1.f);
      b[j] = (off.p ? off.at(j) : 0.f) - mean.at(j) * k[j];
    }
    const float* kp = k.data();
    const float* bp = b.data();
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* xi = X + i * C;
      float* oi = O + i * C;
#pragma omp simd
      for (int64_t j = 0; j < C; ++j) oi[j] = xi[j] * kp[j] + bp[j];
    }
    return undef(env);
  });
}

// Gradients of y = (x - mean) * rsqrt(var + eps) * scale + offset with respect to all five inputs, treating mean and
// var as independent inputs (exactly what tfjs's FusedBatchNorm gradient computes):
//   dx      = dy * scale * inv
//   dMean   = -sum(dy) * scale * inv
//   dVar    = -0.5 * scale * inv^3 * sum(dy * (x - mean))
//   dScale  = inv * sum(dy * (x - mean))
//   dOffset = sum(dy)
// Two sums per channel (sum dy, sum dy*(x-mean)) in one pass, then dx in a second pass.
// Per-channel Σ dy and Σ dy·(x − m) over the rows of x, dy [R, C] (float blocks of 64 rows flushed into per-thread
// double rows, then combined): the two sums every batch-norm gradient needs.
void channelGradSums(int64_t R, int64_t C, const float* X, const float* DY, const float* mp, double* sumDy, double* sumDyXm) {
  std::fill(sumDy, sumDy + C, 0.0);
  std::fill(sumDyXm, sumDyXm + C, 0.0);
  const int T = (R * C >= kParallelMin) ? g_threads : 1;
  std::vector<double> p1(size_t(T) * C, 0.0), p2(size_t(T) * C, 0.0);
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = R * t / nt, r1 = R * (t + 1) / nt;
    std::vector<float> f1(C), f2(C);
    int64_t r = r0;
    while (r < r1) {
      const int64_t e = std::min(r1, r + 64);
      std::fill(f1.begin(), f1.end(), 0.f);
      std::fill(f2.begin(), f2.end(), 0.f);
      for (; r < e; ++r) {
        const float* xr = X + r * C;
        const float* dr = DY + r * C;
        float* a1 = f1.data();
        float* a2 = f2.data();
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) {
          a1[j] += dr[j];
          a2[j] += dr[j] * (xr[j] - mp[j]);
        }
      }
      double* q1 = p1.data() + size_t(t) * C;
      double* q2 = p2.data() + size_t(t) * C;
      for (int64_t j = 0; j < C; ++j) {
        q1[j] += f1[j];
        q2[j] += f2[j];
      }
    }
  }
  for (int t = 0; t < T; ++t)
    for (int64_t j = 0; j < C; ++j) {
      sumDy[j] += p1[size_t(t) * C + j];
      sumDyXm[j] += p2[size_t(t) * C + j];
    }
}

// Training-mode batch-norm statistics of x[R, C] per channel: mean and biased variance in two passes (the second
// sums squared deviations, so there is no E[x²] − E[x]² cancellation).
napi_value BnMoments(napi_env env, napi_callback_info info) {
  return guarded(env, "bnMoments", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, lm, lv;
    const float* X = a.arr<float>(2, &lx);
    float* M = a.arr<float>(3, &lm);
    float* V = a.arr<float>(4, &lv);
    if (R < 1 || C < 1 || lx < size_t(R * C) || lm < size_t(C) || lv < size_t(C)) throw ArgError{"bnMoments views are smaller than R/C imply"};
    reduceRows(kMean, R, C, X, M);
    // Second pass: Σ (x − m)² per channel, float blocks of 64 rows flushed into per-thread doubles.
    const int T = (R * C >= kParallelMin) ? g_threads : 1;
    std::vector<double> part(size_t(T) * C, 0.0);
#pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t r0 = R * t / nt, r1 = R * (t + 1) / nt;
      std::vector<float> f(C);
      int64_t r = r0;
      while (r < r1) {
        const int64_t e = std::min(r1, r + 64);
        std::fill(f.begin(), f.end(), 0.f);
        for (; r < e; ++r) {
          const float* xr = X + r * C;
          float* acc = f.data();
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) {
            const float d = xr[j] - M[j];
            acc[j] += d * d;
          }
        }
        double* q = part.data() + size_t(t) * C;
        for (int64_t j = 0; j < C; ++j) q[j] += f[j];
      }
    }
    for (int64_t j = 0; j < C; ++j) {
      double s = 0;
      for (int t = 0; t < T; ++t) s += part[size_t(t) * C + j];
      V[j] = static_cast<float>(s / double(R));
    }
    return undef(env);
  });
}

// Gradient of training-mode batch norm y = s·(x − μ_B)/√(σ²_B + eps) + b through the batch statistics:
//   dx = s·inv·(dy − Σdy/N − (x − μ)·inv²·Σ dy·(x − μ)/N),  ds = inv·Σ dy·(x − μ),  db = Σ dy   (N = R rows).
// Two passes (the sums, then dx) instead of differentiating mean, squared difference and normalisation separately.
napi_value BnTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "bnTrainGrad", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, ldy, ldx, lds, ldo;
    const float* X = a.arr<float>(2, &lx);
    const float* DY = a.arr<float>(3, &ldy);
    Chan mean = chanArg(a, 4, C, false, "mean"), var = chanArg(a, 5, C, false, "variance");
    Chan sc = chanArg(a, 6, C, true, "scale");
    const float eps = static_cast<float>(a.f64(7));
    float* dX = a.arr<float>(8, &ldx);
    float* dScale = a.arr<float>(9, &lds);
    float* dOffset = a.arr<float>(10, &ldo);
    if (R < 1 || lx < size_t(R * C) || ldy < size_t(R * C) || ldx < size_t(R * C) || lds < size_t(C) || ldo < size_t(C))
      throw ArgError{"bnTrainGrad views are smaller than R/C imply"};
    std::vector<float> m(C);
    std::vector<double> inv(C);
    for (int64_t j = 0; j < C; ++j) {
      m[j] = mean.at(j);
      inv[j] = 1.0 / std::sqrt(double(var.at(j)) + double(eps));
    }
    std::vector<double> sumDy(C), sumDyXm(C);
    channelGradSums(R, C, X, DY, m.data(), sumDy.data(), sumDyXm.data());
    std::vector<float> k(C), c1(C), c2(C);
    for (int64_t j = 0; j < C; ++j) {
      const double sj = sc.p ? sc.at(j) : 1.0;
      dScale[j] = static_cast<float>(inv[j] * sumDyXm[j]);
      dOffset[j] = static_cast<float>(sumDy[j]);
      k[j] = static_cast<float>(sj * inv[j]);
      c1[j] = static_cast<float>(sumDy[j] / double(R));
      c2[j] = static_cast<float>(inv[j] * inv[j] * sumDyXm[j] / double(R));
    }
    const float *kp = k.data(), *c1p = c1.data(), *c2p = c2.data(), *mp = m.data();
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* xi = X + i * C;
      const float* di = DY + i * C;
      float* oi = dX + i * C;
#pragma omp simd
      for (int64_t j = 0; j < C; ++j) oi[j] = kp[j] * (di[j] - c1p[j] - (xi[j] - mp[j]) * c2p[j]);
    }
    return undef(env);
  });
}

napi_value BnGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "bnGrad", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, ldy;
    const float* X = a.arr<float>(2, &lx);
    const float* DY = a.arr<float>(3, &ldy);
    Chan mean = chanArg(a, 4, C, false, "mean"), var = chanArg(a, 5, C, false, "variance");
    Chan sc = chanArg(a, 6, C, true, "scale");
    const float eps = static_cast<float>(a.f64(7));
    size_t l;
    float* dX = a.arr<float>(8, &l, true);
    if (dX && l < size_t(R * C)) throw ArgError{"dx view is smaller than R*C"};
    float* dMean = a.arr<float>(9, &l, true);
    float* dVar = a.arr<float>(10, &l, true);
    float* dScale = a.arr<float>(11, &l, true);
    float* dOffset = a.arr<float>(12, &l, true);
    if (lx < size_t(R * C) || ldy < size_t(R * C)) throw ArgError{"bnGrad views are smaller than R*C"};

    std::vector<float> inv(C), m(C), s(C);
    for (int64_t j = 0; j < C; ++j) {
      inv[j] = 1.f / std::sqrt(var.at(j) + eps);
      m[j] = mean.at(j);
      s[j] = sc.p ? sc.at(j) : 1.f;
    }
    const bool needSums = dMean || dVar || dScale || dOffset;
    std::vector<double> sumDy(C, 0.0), sumDyXm(C, 0.0);
    if (needSums) channelGradSums(R, C, X, DY, m.data(), sumDy.data(), sumDyXm.data());
    // Per-channel outputs; a statistic given as one broadcast entry gets the sum over channels.
    auto put = [&](float* dst, bool one, auto f) {
      if (!dst) return;
      if (one) {
        double acc = 0;
        for (int64_t j = 0; j < C; ++j) acc += f(j);
        dst[0] = static_cast<float>(acc);
      } else {
        for (int64_t j = 0; j < C; ++j) dst[j] = static_cast<float>(f(j));
      }
    };
    put(dMean, mean.one, [&](int64_t j) { return -sumDy[j] * s[j] * inv[j]; });
    put(dVar, var.one, [&](int64_t j) { return -0.5 * s[j] * double(inv[j]) * inv[j] * inv[j] * sumDyXm[j]; });
    put(dScale, sc.one, [&](int64_t j) { return inv[j] * sumDyXm[j]; });
    put(dOffset, false, [&](int64_t j) { return sumDy[j]; });
    if (dX) {
      std::vector<float> k(C);
      for (int64_t j = 0; j < C; ++j) k[j] = s[j] * inv[j];
      const float* kp = k.data();
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
      for (int64_t i = 0; i < R; ++i) {
        const float* di = DY + i * C;
        float* oi = dX + i * C;
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) oi[j] = di[j] * kp[j];
      }
    }
    return undef(env);
  });
}

// Gradient of out = (a - b)^2 with a full [R, C] and b broadcast by `bMode`: da = 2(a - b)·dy, db = -(da summed over
// the axes b was broadcast along). One pass for da, one reduction for db (instead of tfjs's six ops).
napi_value SqDiffGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "sqDiffGrad", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t la, lb, ldy, lda, ldb;
    const float* A = a.arr<float>(2, &la);
    const float* B = a.arr<float>(3, &lb);
    const int bm = static_cast<int>(a.i64(4));
    const float* DY = a.arr<float>(5, &ldy);
    float* DA = a.arr<float>(6, &lda);
    float* DB = a.arr<float>(7, &ldb, true);
    if (bm < 0 || bm > 3) throw ArgError{"broadcast mode must be 0..3"};
    if (la < size_t(R * C) || ldy < size_t(R * C) || lda < size_t(R * C) || lb < modeLen(bm, R, C) ||
        (DB && ldb < modeLen(bm, R, C)))
      throw ArgError{"sqDiffGrad views are smaller than R/C and mode imply"};
    int64_t rb;
    int cb;
    modeStrides(bm, C, &rb, &cb);
    if (bm == 0 || bm == 3) {
      // b full or scalar: one flat multi-threaded loop.
      const int64_t n = R * C;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
      for (int64_t k = 0; k < n; ++k) DA[k] = 2.f * (A[k] - B[bm == 0 ? k : 0]) * DY[k];
    } else
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* ai = A + i * C;
      const float* bi = B + i * rb;
      const float* di = DY + i * C;
      float* oi = DA + i * C;
      if (cb) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) oi[j] = 2.f * (ai[j] - bi[j]) * di[j];
      } else {
        const float bv = bi[0];
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) oi[j] = 2.f * (ai[j] - bv) * di[j];
      }
    }
    if (!DB) return undef(env);
    if (bm == 0) {
      for (int64_t k = 0; k < R * C; ++k) DB[k] = -DA[k];
    } else if (bm == 1) {
      reduceRows(kSum, R, C, DA, DB);
      for (int64_t j = 0; j < C; ++j) DB[j] = -DB[j];
    } else if (bm == 2) {
      for (int64_t i = 0; i < R; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < C; ++j) acc += DA[i * C + j];
        DB[i] = static_cast<float>(-acc);
      }
    } else {
      float tmp;
      reduceRows(kSum, R * C, 1, DA, &tmp);
      DB[0] = -tmp;
    }
    return undef(env);
  });
}

// Row-wise arg-max of x[R, C] into an Int32Array (first index of the maximum; NaN wins, as in tfjs).
napi_value ArgMaxRows(napi_env env, napi_callback_info info) {
  return guarded(env, "argMaxRows", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, lo;
    const float* X = a.arr<float>(2, &lx);
    int32_t* O = a.arr<int32_t>(3, &lo);
    if (C < 1 || lx < size_t(R * C) || lo < size_t(R)) throw ArgError{"argMaxRows views are smaller than R/C imply"};
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* xi = X + i * C;
      int64_t best = 0;
      float bv = xi[0];
      for (int64_t j = 1; j < C; ++j) {
        if (xi[j] > bv || (xi[j] != xi[j] && bv == bv)) {
          bv = xi[j];
          best = j;
        }
      }
      O[i] = static_cast<int32_t>(best);
    }
    return undef(env);
  });
}

// O[K, D] += the rows x[i, :] with ids[i] == k, rows with an id outside [0, K) skipped. Threads split the columns,
// so no two threads write one output element and each column is summed in row order. T: float or double sums.
template <typename T>
void rowSumsById(int64_t N, int64_t D, int64_t K, const float* X, const int32_t* ids, T* O) {
  const int nt = (N * D >= kParallelMin && D >= 64) ? g_threads : 1;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), tt = omp_get_num_threads();
    const int64_t j0 = D * t / tt, j1 = D * (t + 1) / tt;
    for (int64_t i = 0; i < N; ++i) {
      const int64_t k = ids[i];
      if (k < 0 || k >= K) continue;
      const float* xi = X + i * D;
      T* ok = O + k * D;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) ok[j] += xi[j];
    }
  }
}

// out[K, D] = sum of the rows x[i, :] with ids[i] == k (rows with an id outside [0, K) are dropped, as in tfjs).
napi_value SegmentSum(napi_env env, napi_callback_info info) {
  return guarded(env, "segmentSum", [&]() {
    Args a(env, info);
    const int64_t N = a.i64(0), D = a.i64(1), K = a.i64(2);
    size_t lx, li, lo;
    const float* X = a.arr<float>(3, &lx);
    const int32_t* ids = a.arr<int32_t>(4, &li);
    float* O = a.arr<float>(5, &lo);
    if (lx < size_t(N * D) || li < size_t(N) || lo < size_t(K * D)) throw ArgError{"segmentSum views are smaller than N/D/K imply"};
    std::fill(O, O + K * D, 0.f);
    rowSumsById(N, D, K, X, ids, O);
    return undef(env);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Stage-2 training steps on plain Float32Arrays (src/classifiers/train-utils.ts has the JS twins; both must agree)
// ---------------------------------------------------------------------------------------------------------------

// The arithmetic below mirrors the JS twins operation by operation, in double, with float stores where the JS
// stores into a Float32Array. Contraction into FMAs would round differently from V8, so it is off here.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

// z[R, C] (logits, plus `bias` [C] when given) becomes (softmax(z) - onehot(y)) / R, the gradient of the mean
// softmax cross-entropy; `dBias` [C] (when given) receives its column sums, the bias gradient. Returns [sum of the
// row losses, rows whose first arg-max is the label]. Rows run in parallel; the row losses are summed in row order
// afterwards and each column sum runs in row order, so nothing depends on the thread count.
napi_value SoftmaxXentGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "softmaxXentGrad", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lz, ly, lb, ld;
    float* Z = a.arr<float>(2, &lz);
    const int32_t* Y = a.arr<int32_t>(3, &ly);
    const float* bias = a.arr<float>(4, &lb, true);
    float* dBias = a.arr<float>(5, &ld, true);
    if (C < 1 || lz < size_t(R * C) || ly < size_t(R)) throw ArgError{"softmaxXentGrad views are smaller than R/C imply"};
    if ((bias && lb < size_t(C)) || (dBias && ld < size_t(C))) throw ArgError{"softmaxXentGrad bias views are shorter than C"};
    for (int64_t i = 0; i < R; ++i)
      if (Y[i] < 0 || Y[i] >= C) throw ArgError{"label " + std::to_string(Y[i]) + " at row " + std::to_string(i) + " is outside [0, " + std::to_string(C) + ")"};
    std::vector<double> loss(R);
    std::vector<uint8_t> hit(R);
    const double inv = 1.0 / double(R);
#pragma omp parallel for schedule(static) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      float* zi = Z + i * C;
      if (bias) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) zi[j] += bias[j];
      }
      double mx = -INFINITY;
      int64_t arg = 0;
      for (int64_t j = 0; j < C; ++j) {
        if (zi[j] > mx) {
          mx = zi[j];
          arg = j;
        }
      }
      const int64_t y = Y[i];
      hit[i] = arg == y;
      const double zy = zi[y];
      double s = 0;
      for (int64_t j = 0; j < C; ++j) {
        const double e = std::exp(double(zi[j]) - mx);
        zi[j] = static_cast<float>(e);
        s += e;
      }
      loss[i] = std::log(s) - (zy - mx);
      const double scale = inv / s;
      for (int64_t j = 0; j < C; ++j) zi[j] = static_cast<float>(double(zi[j]) * scale);
      zi[y] = static_cast<float>(double(zi[y]) - inv);
    }
    if (dBias) {
      const int T = R * C >= kParallelMin ? g_threads : 1;
#pragma omp parallel num_threads(T)
      {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t j0 = C * t / nt, j1 = C * (t + 1) / nt;
        std::fill(dBias + j0, dBias + j1, 0.f);
        for (int64_t i = 0; i < R; ++i) {
          const float* zi = Z + i * C;
#pragma omp simd
          for (int64_t j = j0; j < j1; ++j) dBias[j] += zi[j];
        }
      }
    }
    double lossSum = 0;
    int64_t correct = 0;
    for (int64_t i = 0; i < R; ++i) {
      lossSum += loss[i];
      correct += hit[i];
    }
    napi_value out, v;
    NAPI_OK(napi_create_array_with_length(env, 2, &out));
    NAPI_OK(napi_create_double(env, lossSum, &v));
    NAPI_OK(napi_set_element(env, out, 0, v));
    NAPI_OK(napi_create_double(env, double(correct), &v));
    NAPI_OK(napi_set_element(env, out, 1, v));
    return out;
  });
}

// v <- mu*v + (g + wd*p); p <- p - lr*v (PyTorch's SGD with momentum and coupled weight decay; v starts at 0).
napi_value SgdMomentumStep(napi_env env, napi_callback_info info) {
  return guarded(env, "sgdMomentum", [&]() {
    Args a(env, info);
    size_t lp, lg, lv;
    float* P = a.arr<float>(0, &lp);
    const float* G = a.arr<float>(1, &lg);
    float* V = a.arr<float>(2, &lv);
    const double lr = a.f64(3), mu = a.f64(4), wd = a.f64(5);
    if (lg != lp || lv != lp) throw ArgError{"param, grad and velocity lengths differ (" + std::to_string(lp) + ", " + std::to_string(lg) + ", " + std::to_string(lv) + ")"};
    const int64_t n = static_cast<int64_t>(lp);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const double vi = mu * double(V[i]) + double(G[i]) + wd * double(P[i]);
      V[i] = static_cast<float>(vi);
      P[i] = static_cast<float>(double(P[i]) - lr * vi);
    }
    return undef(env);
  });
}

// Every τ of a τ-normalisation sweep in one pass over the logits: out[t*outStride + i] = first arg-max over j of
// L[i, j] * s[t, j]. The products of two floats are exact in double, so this picks what the JS loop picks.
napi_value ScaledArgMax(napi_env env, napi_callback_info info) {
  return guarded(env, "scaledArgMax", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1), T = a.i64(2);
    size_t ll, ls, lo;
    const float* L = a.arr<float>(3, &ll);
    const float* S = a.arr<float>(4, &ls);
    int32_t* O = a.arr<int32_t>(5, &lo);
    const int64_t stride = a.i64(6);
    if (C < 1 || R < 0 || T < 0 || ll < size_t(R * C) || ls < size_t(T * C) || (R > 0 && T > 0 && (stride < R || lo < size_t((T - 1) * stride + R))))
      throw ArgError{"scaledArgMax views are smaller than R/C/T/outStride imply"};
#pragma omp parallel for schedule(static) if (R * C * T >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* li = L + i * C;
      for (int64_t t = 0; t < T; ++t) {
        const float* st = S + t * C;
        int64_t best = 0;
        double bv = double(li[0]) * double(st[0]);
        for (int64_t j = 1; j < C; ++j) {
          const double v = double(li[j]) * double(st[j]);
          if (v > bv) {
            bv = v;
            best = j;
          }
        }
        O[t * stride + i] = static_cast<int32_t>(best);
      }
    }
    return undef(env);
  });
}

// Per-class sums in double: sums[k, :] += x[i, :] for every row with ids[i] == k, in row order (ids outside [0, K)
// are an error), each column in the same order as the JS loop.
napi_value ClassSums64(napi_env env, napi_callback_info info) {
  return guarded(env, "classSums64", [&]() {
    Args a(env, info);
    const int64_t N = a.i64(0), D = a.i64(1), K = a.i64(2);
    size_t lx, li, ls;
    const float* X = a.arr<float>(3, &lx);
    const int32_t* ids = a.arr<int32_t>(4, &li);
    double* S = a.arr<double>(5, &ls);
    if (lx < size_t(N * D) || li < size_t(N) || ls < size_t(K * D)) throw ArgError{"classSums64 views are smaller than N/D/K imply"};
    for (int64_t i = 0; i < N; ++i)
      if (ids[i] < 0 || ids[i] >= K) throw ArgError{"id " + std::to_string(ids[i]) + " at row " + std::to_string(i) + " is outside [0, " + std::to_string(K) + ")"};
    rowSumsById(N, D, K, X, ids, S);
    return undef(env);
  });
}

// Rows of x[R, D] centred by `mean` (when given) and scaled to unit L2 norm, in place, as the JS twin does it: the
// centring in float, the squared norm summed in double in column order, then x *= 1/sqrt(s) (zero rows unchanged).
napi_value NormalizeRows(napi_env env, napi_callback_info info) {
  return guarded(env, "normalizeRows", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), D = a.i64(1);
    size_t lx, lm;
    float* X = a.arr<float>(2, &lx);
    const float* M = a.arr<float>(3, &lm, true);
    if (lx < size_t(R * D) || (M && lm < size_t(D))) throw ArgError{"normalizeRows views are smaller than R/D imply"};
#pragma omp parallel for schedule(static) if (R * D >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      float* xi = X + i * D;
      if (M) {
#pragma omp simd
        for (int64_t p = 0; p < D; ++p) xi[p] -= M[p];
      }
      double s = 0;
      for (int64_t p = 0; p < D; ++p) s += double(xi[p]) * double(xi[p]);
      if (s == 0) continue;
      const double inv = 1.0 / std::sqrt(s);
      for (int64_t p = 0; p < D; ++p) xi[p] = static_cast<float>(double(xi[p]) * inv);
    }
    return undef(env);
  });
}

#pragma GCC pop_options

napi_value Init(napi_env env, napi_value exports) {
  struct Fn {
    const char* name;
    napi_callback cb;
  } fns[] = {{"setThreads", SetThreads}, {"info", Info},       {"sgemm", Sgemm},       {"conv", Conv},
             {"binary", Binary},         {"unary", Unary},     {"reduce", Reduce},     {"batchNorm", BatchNorm},
             {"bnGrad", BnGrad}, {"bnMoments", BnMoments}, {"bnTrainGrad", BnTrainGrad},         {"sqDiffGrad", SqDiffGrad}, {"argMaxRows", ArgMaxRows},
             {"segmentSum", SegmentSum}, {"softmaxXentGrad", SoftmaxXentGrad}, {"sgdMomentum", SgdMomentumStep},
             {"scaledArgMax", ScaledArgMax},   {"classSums64", ClassSums64}, {"normalizeRows", NormalizeRows}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  omp_set_num_threads(g_threads);
  openblas_set_num_threads(g_threads);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
