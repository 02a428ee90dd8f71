// Stage-2 training steps on plain Float32Arrays (src/classifiers/train-utils.ts has the JS twins; both must agree).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common.h"
#include "ops.h"
#include "reduce.h"

namespace ltr {

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
    if (C < 1 || lz < size_t(R * C) || ly < size_t(R))
      throw ArgError{"softmaxXentGrad views are smaller than R/C imply"};
    if ((bias && lb < size_t(C)) || (dBias && ld < size_t(C)))
      throw ArgError{"softmaxXentGrad bias views are shorter than C"};
    for (int64_t i = 0; i < R; ++i)
      if (Y[i] < 0 || Y[i] >= C)
        throw ArgError{"label " + std::to_string(Y[i]) + " at row " + std::to_string(i) + " is outside [0, " +
                       std::to_string(C) + ")"};
    std::vector<double> loss(R);
    std::vector<uint8_t> hit(R);
    const double inv = 1.0 / double(R);
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
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
    if (lg != lp || lv != lp)
      throw ArgError{"param, grad and velocity lengths differ (" + std::to_string(lp) + ", " + std::to_string(lg) +
                     ", " + std::to_string(lv) + ")"};
    const int64_t n = static_cast<int64_t>(lp);
#pragma omp parallel for simd schedule(guided, kChunkElems) if (n >= kParallelMin)
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
    if (C < 1 || R < 0 || T < 0 || ll < size_t(R * C) || ls < size_t(T * C) ||
        (R > 0 && T > 0 && (stride < R || lo < size_t((T - 1) * stride + R))))
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
// are an error), each column in the same order as the JS loop; with `total` (optional, [D]) also total += every row,
// in the same pass (NCM's global mean and class sums of raw features from one read of the features).
napi_value ClassSums64(napi_env env, napi_callback_info info) {
  return guarded(env, "classSums64", [&]() {
    Args a(env, info);
    const int64_t N = a.i64(0), D = a.i64(1), K = a.i64(2);
    size_t lx, li, ls, lt = 0;
    const float* X = a.arr<float>(3, &lx);
    const int32_t* ids = a.arr<int32_t>(4, &li);
    double* S = a.arr<double>(5, &ls);
    double* Tot = a.argc > 6 ? a.arr<double>(6, &lt, true) : nullptr;
    if (lx < size_t(N * D) || li < size_t(N) || ls < size_t(K * D) || (Tot && lt < size_t(D)))
      throw ArgError{"classSums64 views are smaller than N/D/K imply"};
    for (int64_t i = 0; i < N; ++i)
      if (ids[i] < 0 || ids[i] >= K)
        throw ArgError{"id " + std::to_string(ids[i]) + " at row " + std::to_string(i) + " is outside [0, " +
                       std::to_string(K) + ")"};
    rowSumsById(N, D, K, X, ids, S, Tot);
    return undef(env);
  });
}

// Rows of x[R, D] centred by `mean` (when given) and scaled to unit L2 norm, in place, as the JS twin does it: the
// centring in float, the squared norm summed in double in column order, then x *= 1/sqrt(s) (zero rows unchanged).
// With `src` (optional, [R, D]) the rows are read from src instead and written to x (the copy NCM made first).
// Each row's squared norm is one chain of dependent double adds (the JS order); four rows are summed side by side
// so that four chains are in flight instead of one (each still in column order).
napi_value NormalizeRows(napi_env env, napi_callback_info info) {
  return guarded(env, "normalizeRows", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), D = a.i64(1);
    size_t lx, lm, ls = 0;
    float* X = a.arr<float>(2, &lx);
    const float* M = a.arr<float>(3, &lm, true);
    const float* Src = a.argc > 4 ? a.arr<float>(4, &ls, true) : nullptr;
    if (lx < size_t(R * D) || (M && lm < size_t(D)) || (Src && ls < size_t(R * D)))
      throw ArgError{"normalizeRows views are smaller than R/D imply"};
    constexpr int64_t kRows = 4;
    const int64_t groups = (R + kRows - 1) / kRows;
#pragma omp parallel for schedule(guided, std::max <int64_t>(1, chunkRows(kRows * D))) if (R * D >= kParallelMin)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t i0 = g * kRows, nr = std::min(kRows, R - i0);
      float* xr[kRows];
      for (int64_t r = 0; r < nr; ++r) {
        float* xi = X + (i0 + r) * D;
        const float* si = Src ? Src + (i0 + r) * D : xi;
        xr[r] = xi;
        if (M) {
#pragma omp simd
          for (int64_t p = 0; p < D; ++p) xi[p] = si[p] - M[p];
        } else if (Src) {
          std::copy(si, si + D, xi);
        }
      }
      double s[kRows] = {0, 0, 0, 0};
      if (nr == kRows) {
        const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
        for (int64_t p = 0; p < D; ++p) {
          s[0] += double(x0[p]) * double(x0[p]);
          s[1] += double(x1[p]) * double(x1[p]);
          s[2] += double(x2[p]) * double(x2[p]);
          s[3] += double(x3[p]) * double(x3[p]);
        }
      } else {
        for (int64_t r = 0; r < nr; ++r)
          for (int64_t p = 0; p < D; ++p) s[r] += double(xr[r][p]) * double(xr[r][p]);
      }
      for (int64_t r = 0; r < nr; ++r) {
        if (s[r] == 0) continue;
        const double inv = 1.0 / std::sqrt(s[r]);
        float* xi = xr[r];
        for (int64_t p = 0; p < D; ++p) xi[p] = static_cast<float>(double(xi[p]) * inv);
      }
    }
    return undef(env);
  });
}

#pragma GCC pop_options

}  // namespace ltr
