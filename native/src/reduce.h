// Reductions shared between kernel files: the column reduction behind Sum/Mean and batch-norm statistics, and the
// per-id row sums behind UnsortedSegmentSum and NCM's class sums.
#pragma once
#include <omp.h>

#include <cstdint>

#include "common.h"

namespace ltr {

enum RedOp { kSum = 0, kMean, kRMax, kRMin };

// Max/min step that lets NaN win (as tfjs's reductions do), so a NaN anywhere shows in the result.
inline float pick(bool isMax, float acc, float v) {
  if (v != v || acc != acc) return v != v ? v : acc;
  return isMax ? (v > acc ? v : acc) : (v < acc ? v : acc);
}

// Column reduction (O == 1, I large enough): each thread sums a block of rows into a private row, then the rows are
// combined. Summation is in double per column chunk for stability against fp32 drift over ~10^5 rows.
void reduceRows(int op, int64_t Rd, int64_t I, const float* x, float* out);

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


}  // namespace ltr
