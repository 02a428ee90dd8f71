// Batched row-major SGEMM through OpenBLAS on typed-array views (BatchMatMul / _FusedMatMul and stage 2).
#include <cblas.h>

#include <cstdint>

#include "common.h"
#include "ops.h"

namespace ltr {

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

}  // namespace ltr
