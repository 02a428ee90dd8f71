// Element-wise kernels: binary ops with the broadcasts a training step needs (viewed as [R, C]), unary ops, and the
// fused gradient of a squared difference.
#include <omp.h>

#include <cmath>
#include <cstdint>

#include "common.h"
#include "ops.h"
#include "reduce.h"

namespace ltr {

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
    case 0:
      *rs = C;
      *cs = 1;
      break;  // full
    case 1:
      *rs = 0;
      *cs = 1;
      break;  // row vector [C]
    case 2:
      *rs = 1;
      *cs = 0;
      break;  // column vector [R]
    default:
      *rs = 0;
      *cs = 0;
      break;  // scalar
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
#pragma omp parallel for simd schedule(guided, kChunkElems) if (n >= kParallelMin)
    for (int64_t k = 0; k < n; ++k) out[k] = binop<OP>(a[k * CA], b[k * CB]);
    return;
  }
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
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
  if (ca && cb)
    binaryKernel<OP, 1, 1>(R, C, a, ra, b, rb, out);
  else if (ca)
    binaryKernel<OP, 1, 0>(R, C, a, ra, b, rb, out);
  else if (cb)
    binaryKernel<OP, 0, 1>(R, C, a, ra, b, rb, out);
  else
    binaryKernel<OP, 0, 0>(R, C, a, ra, b, rb, out);
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
      case kAdd:
        binaryDispatch<kAdd>(R, C, A, am, B, bm, O);
        break;
      case kSub:
        binaryDispatch<kSub>(R, C, A, am, B, bm, O);
        break;
      case kMul:
        binaryDispatch<kMul>(R, C, A, am, B, bm, O);
        break;
      case kDiv:
        binaryDispatch<kDiv>(R, C, A, am, B, bm, O);
        break;
      case kSqDiff:
        binaryDispatch<kSqDiff>(R, C, A, am, B, bm, O);
        break;
      case kMax:
        binaryDispatch<kMax>(R, C, A, am, B, bm, O);
        break;
      case kMin:
        binaryDispatch<kMin>(R, C, A, am, B, bm, O);
        break;
      case kReluGrad:
        binaryDispatch<kReluGrad>(R, C, A, am, B, bm, O);
        break;
      case kPow:
        binaryDispatch<kPow>(R, C, A, am, B, bm, O);
        break;
      default:
        throw ArgError{"unknown binary op " + std::to_string(op)};
    }
    return undef(env);
  });
}

enum UnOp { kRelu = 0, kStep, kNeg, kSquare, kRsqrt, kSqrt, kExp, kLog, kScale /* x*alpha */, kRelu6, kAbs };

template <int OP>
void unaryKernel(int64_t n, const float* x, float* o, float alpha) {
#pragma omp parallel for simd schedule(guided, kChunkElems) if (n >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) {
    const float v = x[k];
    float r;
    if (OP == kRelu)
      r = v < 0.f ? 0.f : v;  // NaN stays NaN
    else if (OP == kStep)
      r = v > 0.f ? 1.f : (v != v ? v : alpha);  // tfjs step: NaN stays NaN, x<=0 -> alpha
    else if (OP == kNeg)
      r = -v;
    else if (OP == kSquare)
      r = v * v;
    else if (OP == kRsqrt)
      r = 1.f / std::sqrt(v);
    else if (OP == kSqrt)
      r = std::sqrt(v);
    else if (OP == kExp)
      r = std::exp(v);
    else if (OP == kLog)
      r = std::log(v);
    else if (OP == kScale)
      r = v * alpha;
    else if (OP == kRelu6)
      r = v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    else
      r = std::fabs(v);  // kAbs
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
      case kRelu:
        unaryKernel<kRelu>(n, X, O, alpha);
        break;
      case kStep:
        unaryKernel<kStep>(n, X, O, alpha);
        break;
      case kNeg:
        unaryKernel<kNeg>(n, X, O, alpha);
        break;
      case kSquare:
        unaryKernel<kSquare>(n, X, O, alpha);
        break;
      case kRsqrt:
        unaryKernel<kRsqrt>(n, X, O, alpha);
        break;
      case kSqrt:
        unaryKernel<kSqrt>(n, X, O, alpha);
        break;
      case kExp:
        unaryKernel<kExp>(n, X, O, alpha);
        break;
      case kLog:
        unaryKernel<kLog>(n, X, O, alpha);
        break;
      case kScale:
        unaryKernel<kScale>(n, X, O, alpha);
        break;
      case kRelu6:
        unaryKernel<kRelu6>(n, X, O, alpha);
        break;
      case kAbs:
        unaryKernel<kAbs>(n, X, O, alpha);
        break;
      default:
        throw ArgError{"unknown unary op " + std::to_string(op)};
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
#pragma omp parallel for simd schedule(guided, kChunkElems) if (n >= kParallelMin)
      for (int64_t k = 0; k < n; ++k) DA[k] = 2.f * (A[k] - B[bm == 0 ? k : 0]) * DY[k];
    } else
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
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

}  // namespace ltr

namespace ltr {

// sgdStepF32(param, grad, buf, outParam, outBuf, lr, momentum, weightDecay): one parameter's step of
// src/train/sgd.ts in float32, operation by operation as its tfjs ops compute it (so the two agree bit for bit):
//   d = g + p*wd (wd > 0),  v = buf*mu + d (mu > 0, else v = d),  p' = p - v*lr.
napi_value SgdStepF32(napi_env env, napi_callback_info info) {
  return guarded(env, "sgdStepF32", [&]() {
    Args a(env, info);
    size_t lp, lg, lb, lop, lob;
    const float* P = a.arr<float>(0, &lp);
    const float* G = a.arr<float>(1, &lg);
    const float* B = a.arr<float>(2, &lb);
    float* OP = a.arr<float>(3, &lop);
    float* OB = a.arr<float>(4, &lob);
    const float lr = static_cast<float>(a.f64(5)), mu = static_cast<float>(a.f64(6)), wd = static_cast<float>(a.f64(7));
    const bool useWd = a.f64(7) > 0, useMu = a.f64(6) > 0;
    if (lg != lp || lb != lp || lop != lp || lob != lp)
      throw ArgError{"param, grad, buffer and outputs must have the same length"};
    const int64_t n = static_cast<int64_t>(lp);
#pragma omp parallel for simd schedule(guided, kChunkElems) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const float d = useWd ? G[i] + P[i] * wd : G[i];
      const float v = useMu ? B[i] * mu + d : d;
      OB[i] = v;
      OP[i] = P[i] - v * lr;
    }
    return undef(env);
  });
}

}  // namespace ltr
