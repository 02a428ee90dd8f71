// Batch normalisation over the last axis (NHWC channels): inference, training-mode statistics and both gradients.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "batchnorm.h"
#include "common.h"
#include "ops.h"
#include "reduce.h"

namespace ltr {

Chan chanArg(const Args& a, size_t i, int64_t C, bool nullable, const char* what) {
  size_t len;
  const float* p = a.arr<float>(i, &len, nullable);
  if (!p) return {nullptr, true};
  if (len != size_t(C) && len != 1) throw ArgError{std::string(what) + " must have C or 1 entries"};
  return {p, len == 1};
}

void foldBatchNorm(int64_t C, const Chan& mean, const Chan& var, const Chan& off, const Chan& sc, float eps, float* k,
                   float* b) {
  for (int64_t j = 0; j < C; ++j) {
    const float inv = 1.f / std::sqrt(var.at(j) + eps);
    k[j] = inv * (sc.p ? sc.at(j) : 1.f);
    b[j] = (off.p ? off.at(j) : 0.f) - mean.at(j) * k[j];
  }
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
    // Optional tail (inference-mode `relu(bn(x) + residual)`, src/models/batchnorm.ts): a residual [R, C] added to
    // the normalised value, then a ReLU. Each step rounds to float as the separate Add and Relu kernels do
    // (-ffp-contract=off keeps x*k + b an unfused multiply and add), so the result is bit-identical to theirs.
    size_t lr = 0;
    const float* Res = a.argc > 9 ? a.arr<float>(9, &lr, true) : nullptr;
    const bool relu = a.argc > 10 && a.i64(10) != 0;
    if (Res && lr < size_t(R * C)) throw ArgError{"batchNorm residual is smaller than R*C"};
    std::vector<float> k(C), b(C);
    foldBatchNorm(C, mean, var, off, sc, eps, k.data(), b.data());
    const float* kp = k.data();
    const float* bp = b.data();
    if (!Res && !relu) {
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
      for (int64_t i = 0; i < R; ++i) {
        const float* xi = X + i * C;
        float* oi = O + i * C;
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) oi[j] = xi[j] * kp[j] + bp[j];
      }
      return undef(env);
    }
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* xi = X + i * C;
      const float* ri = Res ? Res + i * C : nullptr;
      float* oi = O + i * C;
#pragma omp simd
      for (int64_t j = 0; j < C; ++j) {
        float v = xi[j] * kp[j] + bp[j];
        if (ri) v = v + ri[j];
        oi[j] = relu && v < 0.f ? 0.f : v;  // NaN stays NaN, as the Relu kernel
      }
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
void channelGradSums(int64_t R, int64_t C, const float* X, const float* DY, const float* mp, double* sumDy,
                     double* sumDyXm) {
  double* out[2] = {sumDy, sumDyXm};
  chunkedColumnSums<2>(
      R, C,
      [&](int64_t r0, int64_t r1, float* const* acc) {
        float* a1 = acc[0];
        float* a2 = acc[1];
        for (int64_t r = r0; r < r1; ++r) {
          const float* xr = X + r * C;
          const float* dr = DY + r * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) {
            a1[j] += dr[j];
            a2[j] += dr[j] * (xr[j] - mp[j]);
          }
        }
      },
      out);
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
    if (R < 1 || C < 1 || lx < size_t(R * C) || lm < size_t(C) || lv < size_t(C))
      throw ArgError{"bnMoments views are smaller than R/C imply"};
    reduceRows(kMean, R, C, X, M);
    // Second pass: Σ (x − m)² per channel, in fixed row chunks (see chunkedColumnSums).
    std::vector<double> ss(C);
    double* out[1] = {ss.data()};
    chunkedColumnSums<1>(
        R, C,
        [&](int64_t r0, int64_t r1, float* const* acc) {
          float* a = acc[0];
          for (int64_t r = r0; r < r1; ++r) {
            const float* xr = X + r * C;
#pragma omp simd
            for (int64_t j = 0; j < C; ++j) {
              const float d = xr[j] - M[j];
              a[j] += d * d;
            }
          }
        },
        out);
    for (int64_t j = 0; j < C; ++j) V[j] = static_cast<float>(ss[j] / double(R));
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
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
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
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
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

}  // namespace ltr
