// Reductions over the middle axis of [O, Rd, I], row-wise arg-max and segment sums.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common.h"
#include "ops.h"
#include "reduce.h"

namespace ltr {

void reduceRows(int op, int64_t Rd, int64_t I, const float* x, float* out) {
  if (op == kSum || op == kMean) {
    std::vector<double> sum(I);
    double* o[1] = {sum.data()};
    chunkedColumnSums<1>(
        Rd, I,
        [&](int64_t r0, int64_t r1, float* const* acc) {
          float* a = acc[0];
          for (int64_t r = r0; r < r1; ++r) {
            const float* row = x + r * I;
#pragma omp simd
            for (int64_t j = 0; j < I; ++j) a[j] += row[j];
          }
        },
        o);
    for (int64_t j = 0; j < I; ++j) out[j] = static_cast<float>(op == kMean ? sum[j] / double(Rd) : sum[j]);
    return;
  }
  // Max / Min: the result does not depend on the order, so per-thread row ranges are exact.
  const int T = (Rd * I >= kParallelMin) ? g_threads : 1;
  std::vector<float> partMax(size_t(T) * I);
  const bool isMax = op == kRMax;
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = Rd * t / nt, r1 = Rd * (t + 1) / nt;
    float* mx = partMax.data() + size_t(t) * I;
    for (int64_t j = 0; j < I; ++j) mx[j] = isMax ? -INFINITY : INFINITY;
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = x + r * I;
      for (int64_t j = 0; j < I; ++j) mx[j] = pick(isMax, mx[j], row[j]);
    }
  }
  for (int64_t j = 0; j < I; ++j) {
    float m = partMax[j];
    for (int t = 1; t < T; ++t) m = pick(isMax, m, partMax[size_t(t) * I + j]);
    if (Rd == 0) m = isMax ? -INFINITY : INFINITY;
    out[j] = m;
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
#pragma omp parallel for schedule(guided, chunkRows(Rd* I)) if (O * Rd * I >= kParallelMin)
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

// Row-wise arg-max of x[R, C] into an Int32Array (first index of the maximum; NaN wins, as in tfjs).
napi_value ArgMaxRows(napi_env env, napi_callback_info info) {
  return guarded(env, "argMaxRows", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, lo;
    const float* X = a.arr<float>(2, &lx);
    int32_t* O = a.arr<int32_t>(3, &lo);
    if (C < 1 || lx < size_t(R * C) || lo < size_t(R)) throw ArgError{"argMaxRows views are smaller than R/C imply"};
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
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

napi_value SegmentSum(napi_env env, napi_callback_info info) {
  return guarded(env, "segmentSum", [&]() {
    Args a(env, info);
    const int64_t N = a.i64(0), D = a.i64(1), K = a.i64(2);
    size_t lx, li, lo;
    const float* X = a.arr<float>(3, &lx);
    const int32_t* ids = a.arr<int32_t>(4, &li);
    float* O = a.arr<float>(5, &lo);
    if (lx < size_t(N * D) || li < size_t(N) || lo < size_t(K * D))
      throw ArgError{"segmentSum views are smaller than N/D/K imply"};
    std::fill(O, O + K * D, 0.f);
    rowSumsById(N, D, K, X, ids, O);
    return undef(env);
  });
}

}  // namespace ltr
