// AVX2 + FMA helpers shared by our own kernels (direct and Winograd convolutions, fixed-order reductions).
//
// The addon is compiled for x86-64-v3 (AVX2 + FMA) with -ffp-contract=off: every fused multiply-add in a kernel
// is an explicit _mm256_fmadd_ps, so the arithmetic is written down in the source and does not depend on the
// CPU or on compiler heuristics (docs/DETERMINISM.md).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace ltr {

// Lane mask for the first n (0..8) lanes of a ymm register, for masked loads and stores of channel tails.
inline __m256i laneMask(int n) {
  alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - (n < 0 ? 0 : n > 8 ? 8 : n)));
}

// Load `n` (1..8) floats, zero in the other lanes.
inline __m256 loadN(const float* p, int n) { return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, laneMask(n)); }

// Store the first `n` (1..8) lanes.
inline void storeN(float* p, __m256 v, int n) {
  if (n >= 8)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, laneMask(n), v);
}

// f(std::integral_constant<int, R>{}) for R = min(rb, N) (rb >= 1): the run-time row count of a partial register
// block turned into the compile-time count its template needs (the accumulators then stay in registers).
template <int N, typename F>
inline void withRows(int rb, F&& f) {
  if constexpr (N > 1) {
    if (rb < N) return withRows<N - 1>(rb, f);
  }
  f(std::integral_constant<int, N>{});
}

// A per-thread scratch buffer that only grows: fresh multi-megabyte allocations on every call would page-fault
// on first touch each time. `slot` separates buffers that are alive at the same time.
float* scratch(int slot, size_t floats);

// 64-byte aligned (one cache line, an AVX-512 vector), growing buffer owned by one call site (shared read-only by the
// threads of a parallel region).
struct AlignedBuf {
  std::vector<float> v;
  float* get(size_t n) {
    if (v.size() < n + 16) v.resize(n + 16);
    auto addr = reinterpret_cast<uintptr_t>(v.data());
    return reinterpret_cast<float*>((addr + 63) & ~uintptr_t(63));
  }
};

}  // namespace ltr
