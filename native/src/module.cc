// ltr_native: CPU kernels for the tfjs wasm backend, operating zero-copy on Float32Array views of the wasm heap.
//
// Why native: the tfjs wasm backend is single-threaded 128-bit SIMD and has no fast convolution gradients, while
// oneDNN and OpenBLAS use the CPU's full vector width and both cores. Every entry point takes typed-array views that
// the JS side obtained from `backend.typedArrayFromHeap(...)` *after* allocating all outputs (heap growth detaches
// views), so nothing is copied in or out.
//
// Entry points (all synchronous; arguments are validated on the JS side, which knows tensor shapes):
//   setThreads(n)                      OpenMP thread count (our loops, oneDNN); OpenBLAS's too in fast numerics
//   setNumerics(mode)                  0 deterministic (default), 1 fast; see docs/DETERMINISM.md
//   info()                             { dnnl, openblas, threads, openblasThreads, openblasCore, dnnlIsa, numerics }
//   sgemm(batch, ta, tb, M, N, K, A, strideA, B, strideB, C, strideC)   row-major C = op(A)·op(B); stride 0 broadcasts
//   conv(kind, p: Int32Array(17|18), a, b, out)   oneDNN NHWC convolution; kind 0 fwd(x,w)->y, 1 bwd-data(dy,w)->dx,
//                                      2 bwd-weights(x,dy)->dw; p = N,H,W,C,OH,OW,OC,KH,KW,SH,SW,DH,DW,PT,PL,PB,PR[,G]
//                                      (G groups: filter [KH,KW,C/G,OC]; few channels per group: grouped.cc)
//   convOwn(kind, p, a, b, out, algo)  our own deterministic convolutions, same arguments (conv_own.cc)
//   convBnEval(p, x, w, out, mean, var, offset, scale, eps, residual|null, relu)   inference conv + batch norm
//                                      (+ residual, ReLU) in one pass, bit-identical to convOwn then batchNorm
//   binary(op, R, C, a, aMode, b, bMode, out)   out[R,C] = a (op) b; mode 0 full, 1 row vector [C], 2 column [R], 3
//   scalar unary(op, x, out, alpha)           element-wise unary reduce(op, O, Rd, I, x, out)       out[O,I] = reduce
//   over the middle axis of x[O,Rd,I] batchNorm(R, C, x, mean, var, offset|null, scale|null, eps, out[, residual|null,
//   relu])  per-channel (last axis) normalisation; the
//                                      statistics have C entries or 1 (broadcast)
//   bnGrad(R, C, x, dy, mean, var, scale|null, eps, dx, dMean, dVar, dScale, dOffset)  all five FusedBatchNorm
//                                      input gradients in two passes (any output may be null)
//   bnMoments(R, C, x, mean, var)      training-mode batch statistics (biased variance), two passes
//   bnTrainGrad(R, C, x, dy, mean, var, scale|null, eps, dx, dScale, dOffset)   training-mode BN gradient through
//                                      the batch statistics, two passes
//   bnActForward / bnActBackward       training-mode BN fused with a residual add and ReLU (fused_bn.cc)
//   bnRunning(C, rm, rv, mean, var, momentum, varFactor, outMean, outVar)   running statistics
//   sqDiffGrad(R, C, a, b, bMode, dy, da, db|null)   gradient of (a - b)^2 for a full, b broadcast by bMode
//   sgdStepF32(p, g, buf, outP, outBuf, lr, momentum, wd)   src/train/sgd.ts's step in float32, op for op
//   argMaxRows(R, C, x, out: Int32Array)   row-wise arg-max
//   segmentSum(N, D, K, x, ids: Int32Array, out)   UnsortedSegmentSum over rows
//   softmaxXentGrad(R, C, z, labels: Int32Array, bias|null, dBias|null) -> [lossSum, correct]   z (+ bias) ->
//                                      mean-CE gradient in place; dBias = column sums of that gradient
//   sgdMomentum(param, grad, v, lr, momentum, weightDecay)   PyTorch SGD step with coupled weight decay, in place
//   scaledArgMax(R, C, T, logits, scales[T*C], out: Int32Array, outStride)   out[t*outStride + i] = argmax_j
//                                      L[i,j]*s[t,j]
//   classSums64(N, D, K, x, ids: Int32Array, sums: Float64Array, total|null)   sums[k] += rows of x with id k, in
//                                      row order; total += every row
//   normalizeRows(R, D, x, mean|null, src|null)   x[i] = (s[i] - mean) / ||s[i] - mean||, s = src or x (zero rows
//                                      stay zero)
//
// Layout: common.h (argument reading, errors, threads, numerics mode), ops.h (entry points), simd.h (AVX2 helpers),
// gemm.cc (OpenBLAS), conv.cc (oneDNN convolutions), conv_own.cc + conv_direct.cc + winograd.cc (our
// convolutions), elementwise.cc, reduce.cc/.h, batchnorm.cc (tfjs kernel overrides), fused_bn.cc, stage2.cc
// (stage-2 classifier steps on plain arrays), module.cc (threads, numerics, info, registration).
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>
#include <string>

#include "common.h"
#include "ops.h"

namespace ltr {

int g_threads = 2;
int g_numerics = kDeterministic;
int g_kernelIsa = kIsaAvx2;

namespace {

bool cpuHasAvx512() { return __builtin_cpu_supports("avx512f"); }

// The widest kernel ISA this CPU runs, unless LTR_KERNEL_ISA=avx2 holds our kernels to AVX2 (for comparisons; the
// results are the same either way).
int defaultKernelIsa() {
  const char* env = std::getenv("LTR_KERNEL_ISA");
  if (env && std::string(env) == "avx2") return kIsaAvx2;
  return cpuHasAvx512() ? kIsaAvx512 : kIsaAvx2;
}

}  // namespace

// setKernelIsa("avx2" | "avx512"): the vector width of our own kernels from now on (common.h, KernelIsa).
napi_value SetKernelIsa(napi_env env, napi_callback_info info) {
  return guarded(env, "setKernelIsa", [&]() {
    Args a(env, info);
    size_t n = 0;
    NAPI_OK(napi_get_value_string_utf8(env, a.at(0), nullptr, 0, &n));
    std::string name(n, '\0');
    NAPI_OK(napi_get_value_string_utf8(env, a.at(0), name.data(), n + 1, &n));
    if (name == "avx2") {
      g_kernelIsa = kIsaAvx2;
    } else if (name == "avx512") {
      if (!cpuHasAvx512()) throw ArgError{"kernel ISA 'avx512' needs a CPU with AVX-512F; this one has only 'avx2'"};
      g_kernelIsa = kIsaAvx512;
    } else {
      throw ArgError{"kernel ISA must be 'avx2' or 'avx512', got '" + name + "'"};
    }
    return undef(env);
  });
}

namespace {

const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic:
      return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::all:
      return "all";
    default:
      return "unknown";
  }
}

std::string g_dnnlIsaNote = "not set";

}  // namespace

// setNumerics(mode): 0 deterministic (the default: oneDNN held to its AVX2 kernels, our own kernels serve every
// convolution they support), 1 fast (oneDNN free to use the CPU's widest ISA). Call once, before any oneDNN primitive
// is created (oneDNN accepts its ISA cap only then).
napi_value SetNumerics(napi_env env, napi_callback_info info) {
  return guarded(env, "setNumerics", [&]() {
    Args a(env, info);
    const int mode = static_cast<int>(a.i64(0));
    if (mode != kDeterministic && mode != kFast) throw ArgError{"numerics mode must be 0 (deterministic) or 1 (fast)"};
    g_numerics = mode;
    openblas_set_num_threads(mode == kDeterministic ? kDeterministicBlasThreads : g_threads);
    if (mode == kDeterministic) {
      const dnnl::status st = dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2);
      g_dnnlIsaNote = st == dnnl::status::success ? "capped at avx2" : "cap at avx2 refused (oneDNN already in use)";
    } else {
      g_dnnlIsaNote = "uncapped";
    }
    return undef(env);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, "setThreads", [&]() {
    Args a(env, info);
    int n = static_cast<int>(a.i64(0));
    if (n < 1) throw ArgError{"thread count must be >= 1, got " + std::to_string(n)};
    g_threads = n;
    omp_set_num_threads(n);
    // OpenBLAS splits a GEMM's output between its threads with different edge kernels, so its results depend on
    // its thread count (measured: 27 of 100,000 elements of a 10000x64 * 64x10 product differ between 1 and 2
    // threads). Deterministic numerics run it with a fixed thread count whatever LTR_NUM_THREADS says.
    openblas_set_num_threads(g_numerics == kDeterministic ? kDeterministicBlasThreads : n);
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
    NAPI_OK(napi_create_int32(env, openblas_get_num_threads(), &v));
    NAPI_OK(napi_set_named_property(env, obj, "openblasThreads", v));
    const char* core = openblas_get_corename();
    NAPI_OK(napi_create_string_utf8(env, core ? core : "unknown", NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, obj, "openblasCore", v));
    const std::string isa = std::string(isaName(dnnl::get_effective_cpu_isa())) + " (" + g_dnnlIsaNote + ")";
    NAPI_OK(napi_create_string_utf8(env, isa.c_str(), NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, obj, "dnnlIsa", v));
    NAPI_OK(napi_create_string_utf8(env, g_kernelIsa == kIsaAvx512 ? "avx512" : "avx2", NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, obj, "kernelIsa", v));
    NAPI_OK(napi_get_boolean(env, cpuHasAvx512(), &v));
    NAPI_OK(napi_set_named_property(env, obj, "cpuAvx512", v));
    NAPI_OK(
        napi_create_string_utf8(env, g_numerics == kDeterministic ? "deterministic" : "fast", NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, obj, "numerics", v));
    return obj;
  });
}

}  // namespace ltr

namespace {

napi_value Init(napi_env env, napi_value exports) {
  struct Fn {
    const char* name;
    napi_callback cb;
  } fns[] = {{"setThreads", ltr::SetThreads},
             {"setNumerics", ltr::SetNumerics},
             {"info", ltr::Info},
             {"setKernelIsa", ltr::SetKernelIsa},
             {"sgemm", ltr::Sgemm},
             {"conv", ltr::Conv},
             {"convOwn", ltr::ConvOwn},
             {"convBnEval", ltr::ConvBnEval},
             {"binary", ltr::Binary},
             {"unary", ltr::Unary},
             {"reduce", ltr::Reduce},
             {"batchNorm", ltr::BatchNorm},
             {"bnGrad", ltr::BnGrad},
             {"bnMoments", ltr::BnMoments},
             {"bnTrainGrad", ltr::BnTrainGrad},
             {"bnActForward", ltr::BnActForward},
             {"bnActBackward", ltr::BnActBackward},
             {"bnRunning", ltr::BnRunning},
             {"sqDiffGrad", ltr::SqDiffGrad},
             {"sgdStepF32", ltr::SgdStepF32},
             {"argMaxRows", ltr::ArgMaxRows},
             {"segmentSum", ltr::SegmentSum},
             {"softmaxXentGrad", ltr::SoftmaxXentGrad},
             {"sgdMomentum", ltr::SgdMomentumStep},
             {"scaledArgMax", ltr::ScaledArgMax},
             {"classSums64", ltr::ClassSums64},
             {"normalizeRows", ltr::NormalizeRows}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  omp_set_num_threads(ltr::g_threads);
  openblas_set_num_threads(ltr::g_threads);
  ltr::g_kernelIsa = ltr::defaultKernelIsa();
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
