// Training-mode batch norm fused with what follows it in a ResNet: y = act(γ·(x − μ_B)/√(σ²_B + eps) + β [+ r]),
// act = ReLU or identity, r an optional residual. Forward in two passes over x (statistics, then the output), the
// gradient in two passes over (dy, x, y); this replaces the separate moments, normalisation, add and ReLU kernels
// and their gradients (each a full pass over the activations).
//
// Statistics: per-channel sums of (x − x₀) and (x − x₀)², x₀ the channel's value in row 0 (the shift keeps the
// variance free of cancellation when |μ| ≫ σ), in fixed row chunks (chunkedColumnSums), so nothing depends on the
// thread count.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "common.h"
#include "ops.h"
#include "reduce.h"

namespace ltr {

namespace {

// ReLU gradient that keeps a NaN output visible: dy where y > 0, NaN where y is NaN, else 0.
inline float reluGrad(float dy, float y) { return y > 0.f ? dy : (y != y ? y : 0.f); }

}  // namespace

// bnActForward(R, C, x, gamma, beta, residual|null, relu, eps, y, mean, var): x, residual, y [R, C]; mean and the
// biased variance [C] are outputs (for the running statistics and the gradient).
napi_value BnActForward(napi_env env, napi_callback_info info) {
  return guarded(env, "bnActForward", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t lx, lg, lb, lr, ly, lm, lv;
    const float* X = a.arr<float>(2, &lx);
    const float* G = a.arr<float>(3, &lg);
    const float* B = a.arr<float>(4, &lb);
    const float* Res = a.arr<float>(5, &lr, true);
    const bool relu = a.i64(6) != 0;
    const double eps = a.f64(7);
    float* Y = a.arr<float>(8, &ly);
    float* M = a.arr<float>(9, &lm);
    float* V = a.arr<float>(10, &lv);
    const size_t n = size_t(R * C);
    if (R < 1 || C < 1 || lx < n || ly < n || (Res && lr < n) || lg < size_t(C) || lb < size_t(C) || lm < size_t(C) ||
        lv < size_t(C))
      throw ArgError{"bnActForward views are smaller than R/C imply"};
    std::vector<float> ref(X, X + C);
    const float* x0 = ref.data();
    std::vector<double> s1(C), s2(C);
    double* out[2] = {s1.data(), s2.data()};
    chunkedColumnSums<2>(
        R, C,
        [&](int64_t r0, int64_t r1, float* const* acc) {
          float* a1 = acc[0];
          float* a2 = acc[1];
          for (int64_t r = r0; r < r1; ++r) {
            const float* xr = X + r * C;
#pragma omp simd
            for (int64_t j = 0; j < C; ++j) {
              const float d = xr[j] - x0[j];
              a1[j] += d;
              a2[j] += d * d;
            }
          }
        },
        out);
    std::vector<float> k(C), b(C);
    for (int64_t j = 0; j < C; ++j) {
      const double m1 = s1[j] / double(R);
      const double var = std::max(0.0, s2[j] / double(R) - m1 * m1);
      const double mean = double(x0[j]) + m1;
      M[j] = static_cast<float>(mean);
      V[j] = static_cast<float>(var);
      const double kk = double(G[j]) / std::sqrt(var + eps);
      k[j] = static_cast<float>(kk);
      b[j] = static_cast<float>(double(B[j]) - mean * kk);
    }
    const float *kp = k.data(), *bp = b.data();
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* xi = X + i * C;
      float* yi = Y + i * C;
      if (Res) {
        const float* ri = Res + i * C;
        if (relu) {
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) {
            const float v = xi[j] * kp[j] + bp[j] + ri[j];
            yi[j] = v < 0.f ? 0.f : v;  // NaN stays NaN
          }
        } else {
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) yi[j] = xi[j] * kp[j] + bp[j] + ri[j];
        }
      } else if (relu) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) {
          const float v = xi[j] * kp[j] + bp[j];
          yi[j] = v < 0.f ? 0.f : v;
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yi[j] = xi[j] * kp[j] + bp[j];
      }
    }
    return undef(env);
  });
}

// bnActBackward(R, C, dy, x, y, mean, var, gamma, relu, eps, dx, dGamma, dBeta, dResidual|null): with g the gradient
// at the normalised output (dy masked by y > 0 under ReLU), inv = 1/√(var + eps):
//   dx = γ·inv·(g − Σg/R − (x − μ)·inv²·Σg(x − μ)/R),  dγ = inv·Σg(x − μ),  dβ = Σg,  dResidual = g.
napi_value BnActBackward(napi_env env, napi_callback_info info) {
  return guarded(env, "bnActBackward", [&]() {
    Args a(env, info);
    const int64_t R = a.i64(0), C = a.i64(1);
    size_t ldy, lx, ly, lm, lv, lg, ldx, ldg, ldb, ldr;
    const float* DY = a.arr<float>(2, &ldy);
    const float* X = a.arr<float>(3, &lx);
    const float* Y = a.arr<float>(4, &ly);
    const float* M = a.arr<float>(5, &lm);
    const float* V = a.arr<float>(6, &lv);
    const float* G = a.arr<float>(7, &lg);
    const bool relu = a.i64(8) != 0;
    const double eps = a.f64(9);
    float* DX = a.arr<float>(10, &ldx);
    float* DG = a.arr<float>(11, &ldg);
    float* DB = a.arr<float>(12, &ldb);
    float* DR = a.arr<float>(13, &ldr, true);
    const size_t n = size_t(R * C), c = size_t(C);
    if (R < 1 || C < 1 || ldy < n || lx < n || ly < n || ldx < n || (DR && ldr < n) || lm < c || lv < c || lg < c ||
        ldg < c || ldb < c)
      throw ArgError{"bnActBackward views are smaller than R/C imply"};
    std::vector<double> sg(C), sgx(C);
    double* out[2] = {sg.data(), sgx.data()};
    chunkedColumnSums<2>(
        R, C,
        [&](int64_t r0, int64_t r1, float* const* acc) {
          float* a1 = acc[0];
          float* a2 = acc[1];
          for (int64_t r = r0; r < r1; ++r) {
            const float* dr = DY + r * C;
            const float* xr = X + r * C;
            const float* yr = Y + r * C;
            float* rr = DR ? DR + r * C : nullptr;
            if (relu) {
#pragma omp simd
              for (int64_t j = 0; j < C; ++j) {
                const float g = reluGrad(dr[j], yr[j]);
                a1[j] += g;
                a2[j] += g * (xr[j] - M[j]);
              }
              if (rr)
                for (int64_t j = 0; j < C; ++j) rr[j] = reluGrad(dr[j], yr[j]);
            } else {
#pragma omp simd
              for (int64_t j = 0; j < C; ++j) {
                a1[j] += dr[j];
                a2[j] += dr[j] * (xr[j] - M[j]);
              }
              if (rr)
                for (int64_t j = 0; j < C; ++j) rr[j] = dr[j];
            }
          }
        },
        out);
    std::vector<float> k(C), c1(C), c2(C);
    for (int64_t j = 0; j < C; ++j) {
      const double inv = 1.0 / std::sqrt(double(V[j]) + eps);
      DG[j] = static_cast<float>(inv * sgx[j]);
      DB[j] = static_cast<float>(sg[j]);
      k[j] = static_cast<float>(double(G[j]) * inv);
      c1[j] = static_cast<float>(sg[j] / double(R));
      c2[j] = static_cast<float>(inv * inv * sgx[j] / double(R));
    }
    const float *kp = k.data(), *c1p = c1.data(), *c2p = c2.data();
#pragma omp parallel for schedule(guided, chunkRows(C)) if (R * C >= kParallelMin)
    for (int64_t i = 0; i < R; ++i) {
      const float* di = DY + i * C;
      const float* xi = X + i * C;
      const float* yi = Y + i * C;
      float* oi = DX + i * C;
      if (relu) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) oi[j] = kp[j] * (reluGrad(di[j], yi[j]) - c1p[j] - (xi[j] - M[j]) * c2p[j]);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) oi[j] = kp[j] * (di[j] - c1p[j] - (xi[j] - M[j]) * c2p[j]);
      }
    }
    return undef(env);
  });
}

// bnRunning(C, runningMean, runningVar, mean, var, momentum, varFactor, outMean, outVar): PyTorch's running
// statistics, r ← (1 − momentum)·r + momentum·batch, the batch variance unbiased: varFactor = momentum·n/(n − 1).
napi_value BnRunning(napi_env env, napi_callback_info info) {
  return guarded(env, "bnRunning", [&]() {
    Args a(env, info);
    const int64_t C = a.i64(0);
    size_t l[7];
    const float* RM = a.arr<float>(1, &l[0]);
    const float* RV = a.arr<float>(2, &l[1]);
    const float* M = a.arr<float>(3, &l[2]);
    const float* V = a.arr<float>(4, &l[3]);
    const float mom = static_cast<float>(a.f64(5)), vf = static_cast<float>(a.f64(6));
    float* OM = a.arr<float>(7, &l[4]);
    float* OV = a.arr<float>(8, &l[5]);
    for (int i = 0; i < 6; ++i)
      if (l[i] < size_t(C)) throw ArgError{"bnRunning views are shorter than C"};
    const float keep = static_cast<float>(1.0 - a.f64(5));
    for (int64_t j = 0; j < C; ++j) {
      OM[j] = RM[j] * keep + M[j] * mom;
      OV[j] = RV[j] * keep + V[j] * vf;
    }
    return undef(env);
  });
}

}  // namespace ltr
