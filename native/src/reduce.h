// Reductions shared between kernel files: the column reduction behind Sum/Mean and batch-norm statistics, and the
// per-id row sums behind UnsortedSegmentSum and NCM's class sums.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common.h"

namespace ltr {

enum RedOp { kSum = 0, kMean, kRMax, kRMin };

// Max/min step that lets NaN win (as tfjs's reductions do), so a NaN anywhere shows in the result.
// Between +0 and -0 the maximum is +0 and the minimum -0 whatever the order, so that results do not depend on how
// rows were split between threads.
inline float pick(bool isMax, float acc, float v) {
  if (v != v || acc != acc) return v != v ? v : acc;
  if (v == acc) return (std::signbit(acc) == isMax) ? v : acc;
  return isMax ? (v > acc ? v : acc) : (v < acc ? v : acc);
}

// Column reduction of x[Rd, I] (Sum/Mean through chunkedColumnSums, Max/Min per thread range, which is exact).
void reduceRows(int op, int64_t Rd, int64_t I, const float* x, float* out);

// S column sums over R rows, independent of the thread count: the rows are cut into chunks whose size depends on R
// alone (64 rows at least, 256 chunks at most); a chunk adds its rows in float over blocks of 64 rows, each block
// flushed into the chunk's double sums, and the chunk sums are added in chunk order. `add(r0, r1, acc)` adds the
// contributions of rows [r0, r1) into the S float accumulators acc[s][0..I) (zeroed by the caller).
template <int S, typename Fn>
void chunkedColumnSums(int64_t R, int64_t I, Fn add, double* const* out) {
  for (int s = 0; s < S; ++s) std::fill(out[s], out[s] + I, 0.0);
  if (R <= 0 || I <= 0) return;
  const int64_t chunk = std::max<int64_t>(64, (R + 255) / 256), nc = (R + chunk - 1) / chunk;
  // One partial per chunk, each on its own cache lines (chunks are handed out as threads are free, so neighbours are
  // often written by different threads).
  const size_t stride = (size_t(S) * I + 7) / 8 * 8;
  std::vector<double> store(size_t(nc) * stride + 8, 0.0);
  double* part = store.data() + (8 - (reinterpret_cast<uintptr_t>(store.data()) / sizeof(double)) % 8) % 8;
  const int T = (R * I >= kParallelMin) ? g_threads : 1;
#pragma omp parallel num_threads(T)
  {
    std::vector<float> f(static_cast<size_t>(S) * I);
    float* acc[S];
    for (int s = 0; s < S; ++s) acc[s] = f.data() + size_t(s) * I;
#pragma omp for schedule(guided)
    for (int64_t c = 0; c < nc; ++c) {
      double* q = part + size_t(c) * stride;
      const int64_t e = std::min(R, (c + 1) * chunk);
      for (int64_t r = c * chunk; r < e; r += 64) {
        std::fill(f.begin(), f.end(), 0.f);
        add(r, std::min(e, r + 64), acc);
        for (size_t k = 0; k < f.size(); ++k) q[k] += f[k];
      }
    }
  }
  for (int64_t c = 0; c < nc; ++c) {
    const double* q = part + size_t(c) * stride;
    for (int s = 0; s < S; ++s)
      for (int64_t j = 0; j < I; ++j) out[s][j] += q[size_t(s) * I + j];
  }
}

// O[K, D] += the rows x[i, :] with ids[i] == k, rows with an id outside [0, K) skipped; Tot[D] (when not null) +=
// every row with an id inside [0, K), in the same pass. Threads split the columns, so no two threads write one output
// element and each column is summed in row order. T: float or double sums.
template <typename T>
void rowSumsById(int64_t N, int64_t D, int64_t K, const float* X, const int32_t* ids, T* O, T* Tot = nullptr) {
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
      if (Tot) {
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) {
          ok[j] += xi[j];
          Tot[j] += xi[j];
        }
      } else {
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) ok[j] += xi[j];
      }
    }
  }
}

}  // namespace ltr
