// Direct NHWC convolutions for every shape (any kernel size, stride, padding; dilation in the forward pass), written
// as an implicit GEMM with an AVX2 register block of 6 pixels x 16 channels.
//
// Determinism: every output element is computed by exactly one thread, accumulating over taps (kh, kw) and then
// channels in that fixed order, so the thread count never changes a result. The filter gradient sums over the batch
// in a fixed number of partial sums (a function of the batch size only) that are added in a fixed order.
// Padding taps read a row of zeros (they contribute 0*w, so a NaN or Inf weight reaches the border pixels too).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "block512.h"
#include "common.h"
#include "conv_own.h"
#include "simd.h"

namespace ltr {

float* scratch(int slot, size_t floats) {
  thread_local std::vector<float> bufs[8];
  auto& b = bufs[slot];
  if (b.size() < floats + 16) b.resize(floats + 16);
  auto addr = reinterpret_cast<uintptr_t>(b.data());
  return reinterpret_cast<float*>((addr + 63) & ~uintptr_t(63));
}

namespace {

constexpr int MR = 6;  // pixels per register block

// Register blocks in the smallest chunk of the forward and input-gradient loops (common.h, "Work sharing"): a block is
// 6 pixels, a few microseconds of work at 16-64 channels, so runs of 16 keep the hand-out cost negligible.
constexpr int kBlocksPerChunk = 16;

// Threads for a kernel of `work` multiply-adds: tiny problems stay on one thread (fork/join costs microseconds).
int threadsFor(double work) { return work < 2e5 ? 1 : g_threads; }

// out[i][0..kvalid) = sum over taps t, then j < J, of src[t*MR + i][j] * wt[t][j*16 + (0..15)].
// src rows point at J contiguous floats (a pixel's channels, or a zero row); wt panels are J x 16, zero-padded.
// With `ek` (16 scales), `eb` (16 shifts) and optionally `res` (a residual row per output row) the sums go through
// applyEpilogue (conv_own.h) before they are stored.
inline void gconvBlock(int ntaps, const float* const* src, const float* const* wt, int J, float* const* out, int nOut,
                       int kvalid, const float* ek = nullptr, const float* eb = nullptr,
                       const float* const* res = nullptr, bool relu = false) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int t = 0; t < ntaps; ++t) {
    const float* w = wt[t];
    const float* s0 = src[t * MR + 0];
    const float* s1 = src[t * MR + 1];
    const float* s2 = src[t * MR + 2];
    const float* s3 = src[t * MR + 3];
    const float* s4 = src[t * MR + 4];
    const float* s5 = src[t * MR + 5];
    for (int j = 0; j < J; ++j) {
      const __m256 w0 = _mm256_load_ps(w + j * 16), w1 = _mm256_load_ps(w + j * 16 + 8);
      __m256 b;
      b = _mm256_broadcast_ss(s0 + j);
      acc[0][0] = _mm256_fmadd_ps(b, w0, acc[0][0]);
      acc[0][1] = _mm256_fmadd_ps(b, w1, acc[0][1]);
      b = _mm256_broadcast_ss(s1 + j);
      acc[1][0] = _mm256_fmadd_ps(b, w0, acc[1][0]);
      acc[1][1] = _mm256_fmadd_ps(b, w1, acc[1][1]);
      b = _mm256_broadcast_ss(s2 + j);
      acc[2][0] = _mm256_fmadd_ps(b, w0, acc[2][0]);
      acc[2][1] = _mm256_fmadd_ps(b, w1, acc[2][1]);
      b = _mm256_broadcast_ss(s3 + j);
      acc[3][0] = _mm256_fmadd_ps(b, w0, acc[3][0]);
      acc[3][1] = _mm256_fmadd_ps(b, w1, acc[3][1]);
      b = _mm256_broadcast_ss(s4 + j);
      acc[4][0] = _mm256_fmadd_ps(b, w0, acc[4][0]);
      acc[4][1] = _mm256_fmadd_ps(b, w1, acc[4][1]);
      b = _mm256_broadcast_ss(s5 + j);
      acc[5][0] = _mm256_fmadd_ps(b, w0, acc[5][0]);
      acc[5][1] = _mm256_fmadd_ps(b, w1, acc[5][1]);
    }
  }
  if (ek) {
    const __m256 k0 = _mm256_loadu_ps(ek), k1 = _mm256_loadu_ps(ek + 8);
    const __m256 b0 = _mm256_loadu_ps(eb), b1 = _mm256_loadu_ps(eb + 8);
    const int l0 = std::min(8, kvalid), l1 = std::max(0, kvalid - 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const float* r = res && i < nOut ? res[i] : nullptr;
      acc[i][0] = applyEpilogue(acc[i][0], k0, b0, r, l0, relu);
      acc[i][1] = applyEpilogue(acc[i][1], k1, b1, r ? r + 8 : nullptr, l1, relu);
    }
  }
  // Constant indices only, so the accumulators stay in registers; partial blocks go through a small buffer.
  if (nOut == MR && kvalid >= 16) {
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      _mm256_storeu_ps(out[i], acc[i][0]);
      _mm256_storeu_ps(out[i] + 8, acc[i][1]);
    }
    return;
  }
  alignas(32) float tmp[MR][16];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    _mm256_store_ps(tmp[i], acc[i][0]);
    _mm256_store_ps(tmp[i] + 8, acc[i][1]);
  }
  for (int i = 0; i < nOut; ++i) std::memcpy(out[i], tmp[i], sizeof(float) * std::min(16, kvalid));
}

// x [N, H, W, C] copied into xp [N, Hp, Wp, C] at offset (PT, PL), zeros elsewhere: every tap of every pixel then
// reads memory at a constant offset from the pixel's base.
void padCopy(const ConvShape& s, const float* x, int Hp, int Wp, float* xp, int nt) {
  const int C = s.C;
#pragma omp parallel for schedule(guided, chunkRows(int64_t(Wp) * C)) num_threads(nt)
  for (int64_t row = 0; row < int64_t(s.N) * Hp; ++row) {
    const int64_t n = row / Hp;
    const int ih = int(row % Hp) - s.PT;
    float* dst = xp + row * Wp * C;
    if (ih < 0 || ih >= s.H) {
      std::memset(dst, 0, sizeof(float) * Wp * C);
      continue;
    }
    const float* srow = x + (n * s.H + ih) * s.W * C;
    const int lo = std::min(Wp, s.PL), hi = std::min(Wp, s.PL + s.W);
    if (lo > 0) std::memset(dst, 0, sizeof(float) * lo * C);
    if (hi > lo) std::memcpy(dst + size_t(lo) * C, srow, sizeof(float) * size_t(hi - lo) * C);
    if (Wp > hi) std::memset(dst + size_t(hi) * C, 0, sizeof(float) * size_t(Wp - hi) * C);
  }
}

AlignedBuf g_packF, g_packB, g_xpad;

}  // namespace

void directForward(const ConvShape& s, const float* x, const float* w, float* y, const Epilogue* ep) {
  const int T = s.KH * s.KW, C = s.C, K = s.K, KB = (K + 15) / 16;
  // Filters packed per 16-channel output block: wp[kb][tap][c][16], zero beyond K.
  float* wp = g_packF.get(size_t(KB) * T * C * 16);
  for (int kb = 0; kb < KB; ++kb)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < C; ++c) {
        float* dst = wp + ((size_t(kb) * T + t) * C + c) * 16;
        for (int kk = 0; kk < 16; ++kk) {
          const int k = kb * 16 + kk;
          dst[kk] = k < K ? w[(size_t(t) * C + c) * K + k] : 0.f;
        }
      }
  const int64_t P = int64_t(s.N) * s.OH * s.OW, nb = (P + MR - 1) / MR;
  const int nt = threadsFor(double(P) * K * C * T);
  // Two ways to feed a block of pixels (the same packed filters serve both):
  //  - rows: undilated along W, the KW taps of a filter row read KW*C contiguous floats, so each pixel needs one
  //    pointer per filter row (KH) and the reduction runs over J = KW*C (in tap order, then channel). Used for blocks
  //    whose windows lie inside x, and everywhere on a zero-padded copy of x when C is small (the stem).
  //  - taps: one pointer per tap (a row of zeros for padding), J = C. Border blocks and dilated filters.
  const bool undilatedW = s.DW == 1;
  const int Hp = (s.OH - 1) * s.SH + (s.KH - 1) * s.DH + 1, Wp = (s.OW - 1) * s.SW + s.KW;
  const bool padded = undilatedW && C < 8 && (s.PT > 0 || s.PL > 0 || Hp > s.H || Wp > s.W);
  const float* xs = x;
  int HH = s.H, WW = s.W, PT = s.PT, PL = s.PL;
  if (padded) {
    float* xp = g_xpad.get(size_t(s.N) * Hp * Wp * C);
    padCopy(s, x, Hp, Wp, xp, nt);
    xs = xp;
    HH = Hp;
    WW = Wp;
    PT = PL = 0;
  }
  std::vector<float> zeros(size_t(C) + 8, 0.f);
  const float* z = zeros.data();
  const bool wide = g_kernelIsa == kIsaAvx512;
#pragma omp parallel num_threads(nt)
  {
    std::vector<const float*> src(size_t(T) * MR);
    std::vector<const float*> wt(T);
    // Blocks handed out in shrinking runs of at least kBlocksPerChunk (common.h, "Work sharing"); each block is
    // computed by one thread.
#pragma omp for schedule(guided, kBlocksPerChunk)
    for (int64_t blk = 0; blk < nb; ++blk) {
      float* outp[MR];
      int nOut = 0;
      // Pixel positions of the block (its first pixel by division, the others by incrementing).
      const int64_t p0 = blk * MR;
      int64_t pn[MR];
      int poh[MR], pow_[MR];
      bool inside = undilatedW;
      {
        int64_t n = p0 / (int64_t(s.OH) * s.OW);
        int oh = int(p0 % (int64_t(s.OH) * s.OW)) / s.OW, ow = int(p0 % s.OW);
        for (int i = 0; i < MR && p0 + i < P; ++i) {
          ++nOut;
          pn[i] = n;
          poh[i] = oh;
          pow_[i] = ow;
          const int ih = oh * s.SH - PT, iw = ow * s.SW - PL;
          inside = inside && ih >= 0 && ih + (s.KH - 1) * s.DH < HH && iw >= 0 && iw + s.KW - 1 < WW;
          if (++ow == s.OW) {
            ow = 0;
            if (++oh == s.OH) {
              oh = 0;
              ++n;
            }
          }
        }
      }
      const int ntaps = inside ? s.KH : T, J = inside ? s.KW * C : C;
      for (int i = 0; i < MR; ++i) {
        if (i >= nOut) {
          for (int t = 0; t < ntaps; ++t) src[size_t(t) * MR + i] = inside ? src[size_t(t) * MR] : z;
          continue;
        }
        outp[i] = y + (p0 + i) * K;
        const int ih = poh[i] * s.SH - PT, iw0 = pow_[i] * s.SW - PL;
        const float* xn = xs + pn[i] * HH * WW * C;
        if (inside) {
          for (int kh = 0; kh < s.KH; ++kh) src[size_t(kh) * MR + i] = xn + (int64_t(ih + kh * s.DH) * WW + iw0) * C;
        } else {
          for (int kh = 0; kh < s.KH; ++kh) {
            const int r = ih + kh * s.DH;
            const bool rowOk = r >= 0 && r < HH;
            const float* xr = xn + int64_t(r) * WW * C;
            int iw = iw0;
            for (int kw = 0; kw < s.KW; ++kw, iw += s.DW)
              src[size_t(kh * s.KW + kw) * MR + i] = rowOk && iw >= 0 && iw < WW ? xr + int64_t(iw) * C : z;
          }
        }
      }
      // Two panels at a time where AVX-512 is on (block512.h), the last odd one (or all) through the AVX2 block.
      for (int kb = 0; kb < KB;) {
        const bool pair = wide && kb + 1 < KB;
        float* o[MR];
        const float* r[MR];
        for (int i = 0; i < nOut; ++i) {
          o[i] = outp[i] + kb * 16;
          r[i] = ep && ep->residual ? ep->residual + (o[i] - y) : nullptr;
        }
        for (int t = 0; t < ntaps; ++t) wt[t] = wp + (size_t(kb) * T + size_t(t) * (inside ? s.KW : 1)) * C * 16;
        const float* ek = ep ? ep->k + kb * 16 : nullptr;
        const float* eb = ep ? ep->b + kb * 16 : nullptr;
        const float* const* er = ep && ep->residual ? r : nullptr;
        const bool relu = ep && ep->relu;
        if (pair)
          gconvBlock512(ntaps, src.data(), wt.data(), size_t(T) * C * 16, J, o, nOut, std::min(32, K - kb * 16), ek, eb,
                        er, relu);
        else if (wide)
          gconvBlock512One(ntaps, src.data(), wt.data(), J, o, nOut, std::min(16, K - kb * 16), ek, eb, er, relu);
        else
          gconvBlock(ntaps, src.data(), wt.data(), J, o, nOut, std::min(16, K - kb * 16), ek, eb, er, relu);
        kb += pair ? 2 : 1;
      }
    }
  }
}

// dx[n, h, w, c] = sum over taps (kh, kw) with h = oh*SH - PT + kh, w = ow*SW - PL + kw, then over k, of
// dy[n, oh, ow, k] * w[kh, kw, c, k]. Pixels are grouped by (h + PT) mod SH and (w + PL) mod SW: within a group the
// same taps are valid for every pixel, so the register block never multiplies structurally absent taps.
void directBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  const int T = s.KH * s.KW, C = s.C, K = s.K, CB = (C + 15) / 16;
  // Transposed filters per 16-channel input block: wt[cb][tap][k][16], zero beyond C.
  float* wp = g_packB.get(size_t(CB) * T * K * 16);
  for (int cb = 0; cb < CB; ++cb)
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < K; ++k) {
        float* dst = wp + ((size_t(cb) * T + t) * K + k) * 16;
        for (int cc = 0; cc < 16; ++cc) {
          const int c = cb * 16 + cc;
          dst[cc] = c < C ? w[(size_t(t) * C + c) * K + k] : 0.f;
        }
      }
  std::vector<float> zeros(size_t(K) + 8, 0.f);
  const float* z = zeros.data();

  struct Group {
    int h0, nh, w0, nw;
    int oh0, ow0;                       // dy position of the first pixel's first tap
    std::vector<int> taps, tapH, tapW;  // kh * KW + kw, and the tap's dy offset (kh - rh) / SH, (kw - rw) / SW
    std::vector<int64_t> delta;         // (tapH * OW + tapW) * K: the tap's dy position before the pixel's, in floats
    int maxH = 0, maxW = 0;             // the largest tapH, tapW
    int64_t firstBlock, pixels;         // first block of the group within an image; pixels of the group in the batch
  };
  std::vector<Group> groups;
  int64_t totalBlocks = 0;
  bool anyEmpty = false;
  for (int rh = 0; rh < s.SH; ++rh)
    for (int rw = 0; rw < s.SW; ++rw) {
      Group g;
      g.h0 = ((rh - s.PT) % s.SH + s.SH) % s.SH;
      g.w0 = ((rw - s.PL) % s.SW + s.SW) % s.SW;
      g.nh = g.h0 < s.H ? (s.H - 1 - g.h0) / s.SH + 1 : 0;
      g.nw = g.w0 < s.W ? (s.W - 1 - g.w0) / s.SW + 1 : 0;
      for (int kh = rh; kh < s.KH; kh += s.SH)
        for (int kw = rw; kw < s.KW; kw += s.SW) {
          g.taps.push_back(kh * s.KW + kw);
          g.tapH.push_back((kh - rh) / s.SH);
          g.tapW.push_back((kw - rw) / s.SW);
          g.delta.push_back((int64_t(g.tapH.back()) * s.OW + g.tapW.back()) * K);
          g.maxH = std::max(g.maxH, g.tapH.back());
          g.maxW = std::max(g.maxW, g.tapW.back());
        }
      // h0 + PT - rh is a non-negative multiple of SH (h0 is congruent to rh - PT and PT >= 0).
      g.oh0 = (g.h0 + s.PT - rh) / s.SH;
      g.ow0 = (g.w0 + s.PL - rw) / s.SW;
      g.pixels = int64_t(s.N) * g.nh * g.nw;
      if (g.taps.empty()) {
        // No tap reaches these pixels (e.g. a 1x1 stride-2 layer): their gradient is zero, set below.
        anyEmpty = true;
        continue;
      }
      // Blocks per image: an image's pixels of every group are computed together, so its dy and dx stay in cache.
      g.firstBlock = totalBlocks;
      totalBlocks += (int64_t(g.nh) * g.nw + MR - 1) / MR;
      groups.push_back(std::move(g));
    }
  if (anyEmpty) {
    const int64_t total = int64_t(s.N) * s.H * s.W * C;
#pragma omp parallel for schedule(guided, chunkRows(int64_t(s.W) * C)) if (total >= kParallelMin)
    for (int64_t r = 0; r < int64_t(s.N) * s.H; ++r) std::memset(dx + r * s.W * C, 0, sizeof(float) * size_t(s.W) * C);
  }
  const int nt = threadsFor(double(s.N) * s.H * s.W * C * K * T / (double(s.SH) * s.SW));
  const bool wide = g_kernelIsa == kIsaAvx512;
#pragma omp parallel num_threads(nt)
  {
    std::vector<const float*> src(size_t(T) * MR);
    std::vector<const float*> wt(T);
#pragma omp for schedule(guided, kBlocksPerChunk)
    for (int64_t item = 0; item < totalBlocks * s.N; ++item) {
      int64_t n = item / totalBlocks;
      const int64_t r = item % totalBlocks;
      size_t gi = 0;
      while (gi + 1 < groups.size() && groups[gi + 1].firstBlock <= r) ++gi;
      const Group& g = groups[gi];
      const int nTaps = int(g.taps.size());
      const int64_t blk = r - g.firstBlock;
      const int64_t perImage = int64_t(g.nh) * g.nw;
      float* outp[MR];
      int nOut = 0;
      const int64_t q0 = blk * MR;
      int hi = int(q0 / g.nw), wi = int(q0 % g.nw);
      for (int i = 0; i < MR; ++i) {
        if (q0 + i >= perImage) {
          for (int t = 0; t < nTaps; ++t) src[size_t(t) * MR + i] = z;
          continue;
        }
        ++nOut;
        const int h = g.h0 + hi * s.SH, wq = g.w0 + wi * s.SW;
        outp[i] = dx + ((n * s.H + h) * s.W + wq) * C;
        // Tap (kh, kw) = (rh + mh*SH, rw + mw*SW) reads dy at (oh0 + hi - mh, ow0 + wi - mw).
        const int ohb = g.oh0 + hi, owb = g.ow0 + wi;
        const float* base = dy + ((n * s.OH + ohb) * s.OW + owb) * K;  // may lie outside dy: used only when valid
        if (ohb - g.maxH >= 0 && ohb < s.OH && owb - g.maxW >= 0 && owb < s.OW) {
          // Every tap inside dy: constant offsets from the pixel's base.
          for (int t = 0; t < nTaps; ++t) src[size_t(t) * MR + i] = base - g.delta[t];
        } else {
          for (int t = 0; t < nTaps; ++t) {
            const int oh = ohb - g.tapH[t], ow = owb - g.tapW[t];
            const bool ok = oh >= 0 && oh < s.OH && ow >= 0 && ow < s.OW;
            src[size_t(t) * MR + i] = ok ? base - g.delta[t] : z;
          }
        }
        if (++wi == g.nw) {
          wi = 0;
          ++hi;
        }
      }
      for (int cb = 0; cb < CB;) {
        const bool pair = wide && cb + 1 < CB;
        float* o[MR];
        for (int i = 0; i < nOut; ++i) o[i] = outp[i] + cb * 16;
        for (int t = 0; t < nTaps; ++t) wt[t] = wp + (size_t(cb) * T + g.taps[t]) * K * 16;
        if (pair)
          gconvBlock512(nTaps, src.data(), wt.data(), size_t(T) * K * 16, K, o, nOut, std::min(32, C - cb * 16),
                        nullptr, nullptr, nullptr, false);
        else if (wide)
          gconvBlock512One(nTaps, src.data(), wt.data(), K, o, nOut, std::min(16, C - cb * 16), nullptr, nullptr,
                           nullptr, false);
        else
          gconvBlock(nTaps, src.data(), wt.data(), K, o, nOut, std::min(16, C - cb * 16));
        cb += pair ? 2 : 1;
      }
    }
  }
}

namespace {

// acc rows i < RB (filter rows r0 + i, each a (tap, channel) pair read at base + off[i]) x 16 output channels,
// accumulated over `rows` output rows of `cols` pixels: within a row the input base advances by `colStep` floats,
// from row to row by `rowStep`; dy is contiguous (K floats per pixel). Loads/stores the partial sums in `part`.
template <int RB>
void wgradRun(const float* base, int64_t colStep, int64_t rowStep, int rows, int cols, const int* off, const float* dyp,
              int K, float* part, int64_t partStride, int kvalid) {
  __m256 acc[RB][2];
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) {
    acc[i][0] = _mm256_load_ps(part + i * partStride);
    acc[i][1] = _mm256_load_ps(part + i * partStride + 8);
  }
  int o[RB];
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) o[i] = off[i];
  const bool full = kvalid >= 16;
  for (int r = 0; r < rows; ++r) {
    const float* b = base + r * rowStep;
    for (int p = 0; p < cols; ++p) {
      __m256 d0, d1;
      if (full) {
        d0 = _mm256_loadu_ps(dyp);
        d1 = _mm256_loadu_ps(dyp + 8);
      } else {
        d0 = loadN(dyp, kvalid);
        d1 = kvalid > 8 ? loadN(dyp + 8, kvalid - 8) : _mm256_setzero_ps();
      }
#pragma GCC unroll 6
      for (int i = 0; i < RB; ++i) {
        const __m256 v = _mm256_broadcast_ss(b + o[i]);
        acc[i][0] = _mm256_fmadd_ps(v, d0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(v, d1, acc[i][1]);
      }
      b += colStep;
      dyp += K;
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < RB; ++i) {
    _mm256_store_ps(part + i * partStride, acc[i][0]);
    _mm256_store_ps(part + i * partStride + 8, acc[i][1]);
  }
}

// The block for rb (1..6) rows: 32 channels (kvalid 1..32) at AVX-512 when `wide`, else 16 (kvalid 1..16).
void wgradDispatch(bool wide, int rb, const float* base, int64_t colStep, int64_t rowStep, int rows, int cols,
                   const int* off, const float* dyp, int K, float* part, int64_t partStride, int kvalid) {
  withRows<MR>(rb, [&](auto R) {
    constexpr int RB = decltype(R)::value;
    if (wide)
      wgradRun512<RB>(base, colStep, rowStep, rows, cols, off, dyp, K, part, partStride, kvalid);
    else
      wgradRun<RB>(base, colStep, rowStep, rows, cols, off, dyp, K, part, partStride, kvalid);
  });
}

AlignedBuf g_parts;

}  // namespace

// dw[kh, kw, c, k] = sum over pixels p = (n, oh, ow) of x[n, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW, c] * dy[p, k].
// The batch is split into G = min(4, N) contiguous image ranges; each range is summed pixel by pixel into its own
// partial, and the partials are added in range order: G and the ranges depend on the batch size only.
void directBackwardFilter(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const int C = s.C, K = s.K, KB = (K + 15) / 16, Kp = KB * 16;
  const int R = s.KH * s.KW * C;
  // Zero-padded copy of x so that every (pixel, tap) reads memory at a constant offset (skipped when no tap leaves x).
  const int Hp = std::max(s.H + s.PT, (s.OH - 1) * s.SH + (s.KH - 1) * s.DH + 1);
  const int Wp = std::max(s.W + s.PL, (s.OW - 1) * s.SW + (s.KW - 1) * s.DW + 1);
  const bool needPad = s.PT > 0 || s.PL > 0 || Hp > s.H || Wp > s.W;
  const int HH = needPad ? Hp : s.H, WW = needPad ? Wp : s.W;
  const int nt = threadsFor(double(s.N) * s.OH * s.OW * R * K);
  const float* xs = x;
  if (needPad) {
    float* xp = g_xpad.get(size_t(s.N) * Hp * Wp * C);
    padCopy(s, x, Hp, Wp, xp, nt);
    xs = xp;
  }
  std::vector<int> off(size_t(R) + MR, 0);
  for (int kh = 0; kh < s.KH; ++kh)
    for (int kw = 0; kw < s.KW; ++kw)
      for (int c = 0; c < C; ++c) off[size_t(kh * s.KW + kw) * C + c] = ((kh * s.DH) * WW + kw * s.DW) * C + c;
  const int G = std::min(4, s.N);
  float* parts = g_parts.get(size_t(G) * R * Kp);
  // Pixels per pass over the filter rows: whole output rows, about 128 pixels, so x and dy stay in cache.
  const int rowsPer = std::max(1, 128 / std::max(1, s.OW));
  const bool wide = g_kernelIsa == kIsaAvx512;
  // Ranges handed out as threads are free (common.h, "Work sharing"); each is summed (and its partial zeroed) by one
  // thread.
#pragma omp parallel for schedule(guided) num_threads(std::min(nt, G))
  for (int g = 0; g < G; ++g) {
    float* part = parts + size_t(g) * R * Kp;
    std::memset(part, 0, sizeof(float) * size_t(R) * Kp);
    const int n0 = int(int64_t(s.N) * g / G), n1 = int(int64_t(s.N) * (g + 1) / G);
    for (int n = n0; n < n1; ++n)
      for (int oh0 = 0; oh0 < s.OH; oh0 += rowsPer) {
        const int oh1 = std::min(s.OH, oh0 + rowsPer);
        for (int r0 = 0; r0 < R; r0 += MR) {
          const int rb = std::min(MR, R - r0);
          // Two panels at a time at AVX-512 (block512.h), the last odd one (or all) at AVX2.
          for (int kb = 0; kb < KB;) {
            const bool pair = wide && kb + 1 < KB;
            float* pp = part + size_t(r0) * Kp + kb * 16;
            const int kvalid = std::min(pair ? 32 : 16, K - kb * 16);
            const float* base = xs + ((int64_t(n) * HH + int64_t(oh0) * s.SH) * WW) * C;
            const float* dyp = dy + ((int64_t(n) * s.OH + oh0) * s.OW) * K + kb * 16;
            wgradDispatch(pair, rb, base, int64_t(s.SW) * C, int64_t(s.SH) * WW * C, oh1 - oh0, s.OW, off.data() + r0,
                          dyp, K, pp, Kp, kvalid);
            kb += pair ? 2 : 1;
          }
        }
      }
  }
  // Partials added in range order.
#pragma omp parallel for schedule(guided, chunkRows(K)) num_threads(nt)
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < K; ++k) {
      float acc = parts[size_t(r) * Kp + k];
      for (int g = 1; g < G; ++g) acc += parts[(size_t(g) * R + r) * Kp + k];
      dw[size_t(r) * K + k] = acc;
    }
  }
}

}  // namespace ltr
