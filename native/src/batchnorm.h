// Inference batch norm as a per-channel scale and shift, shared by the batchNorm kernel (batchnorm.cc) and the
// convolution with a batch-norm epilogue (conv_own.cc), so that both compute the same k and b bit for bit.
#pragma once
#include <cstdint>

#include "common.h"

namespace ltr {

// A per-channel statistic with C entries, or 1 (broadcast to every channel).
struct Chan {
  const float* p;
  bool one;
  float at(int64_t j) const { return one ? p[0] : p[j]; }
};

// Argument i as a statistic of C or 1 entries (null allowed when `nullable`: then p is null).
Chan chanArg(const Args& a, size_t i, int64_t C, bool nullable, const char* what);

// y = (x - mean) / sqrt(var + eps) * scale + offset folded into y = x * k + b, in float:
// k = (1 / sqrt(var + eps)) * scale, b = offset - mean * k (a null scale is 1, a null offset 0).
void foldBatchNorm(int64_t C, const Chan& mean, const Chan& var, const Chan& off, const Chan& sc, float eps, float* k,
                   float* b);

}  // namespace ltr
