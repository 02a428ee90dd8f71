/**
 * `Conv2DBackpropFilter` for the wasm backend (missing in stock tfjs-backend-wasm 4.22.0, so no convnet
 * can train there without it). dW[ky,kx,ci,co] = Σ_{n,oy,ox} x[n, oy·s-pT+ky, ox·s-pL+kx, ci] · dy[n,oy,ox,co].
 *
 * Two strategies, picked per layer:
 *  - "convT": for 3×3 stride-1 layers with Cin ≥ 16 the sum above *is* a convolution of xᵀ ([Cin,H,W,N],
 *    batch = Cin, channels = N) with dyᵀ ([OH,OW,N,Cout] as the filter), explicit padding (pT,pB,pL,pR);
 *    it outputs [Cin,kh,kw,Cout]. All the work stays in XNNPACK. (It is exact for any stride, as a conv
 *    with dilation = stride, but measured slower than im2col for stride 2, 1×1 and Cin < 16.)
 *  - "im2col": otherwise build the patch matrix in transposed layout [kh·kw·Cin, N·OH·OW] in JS and do one
 *    untransposed XNNPACK GEMM with dy viewed as [N·OH·OW, Cout]; the result is already [kh,kw,Cin,Cout].
 *    Big layers go in slices of the batch so the patch matrix fits a byte budget (`setColumnBudget`).
 */
import type * as tf from "@tensorflow/tfjs";
import { batchChunk, type ConvSetup, convSetup, copyBatchSlice } from "./conv_common.js";
import { callKernel, f32, release, transpose, view, type WasmBackendLike, type WasmKernelArgs } from "./heap.js";
import { im2colT } from "./im2col.js";

export type FilterGradStrategy = "convT" | "im2col";

let forced: FilterGradStrategy | null = null;

/** Force one strategy for every layer (tests and benchmarks); null restores the per-layer choice. */
export function forceFilterGradStrategy(strategy: FilterGradStrategy | null): void {
  forced = strategy;
}

/** Which strategy `Conv2DBackpropFilter` uses for a conv (exported for tests and benchmarks). */
export function filterGradStrategy(s: ConvSetup): FilterGradStrategy {
  if (forced) return forced;
  const threeByThree = s.filterHeight === 3 && s.filterWidth === 3;
  const stride1 = s.strideHeight === 1 && s.strideWidth === 1;
  return threeByThree && stride1 && s.inChannels >= 16 ? "convT" : "im2col";
}

function viaConvT(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, s: ConvSetup): tf.TensorInfo {
  const { filterHeight: KH, filterWidth: KW, inChannels: CI, outChannels: CO } = s;
  // The trick conv yields kh + r rows, r = (H + pT + pB - kh) mod stride (rows no output pixel reads):
  // trim them from the bottom padding where possible, crop the rest in the final (small) copy.
  const extraH = (s.inHeight + s.padTop + s.padBottom - KH) % s.strideHeight;
  const extraW = (s.inWidth + s.padLeft + s.padRight - KW) % s.strideWidth;
  const padBottom = s.padBottom - Math.min(extraH, s.padBottom);
  const padRight = s.padRight - Math.min(extraW, s.padRight);
  let xT: tf.TensorInfo | null = null;
  let dyT: tf.TensorInfo | null = null;
  let conv: tf.TensorInfo | null = null;
  try {
    xT = transpose(backend, x, [3, 1, 2, 0]); // [Cin, H, W, N]
    dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, N, Cout]
    conv = callKernel(
      "Conv2D",
      backend,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [s.padTop, padBottom],
          [s.padLeft, padRight],
          [0, 0],
        ],
        dataFormat: "NHWC",
        dilations: [s.strideHeight, s.strideWidth],
      },
    ); // [Cin, kh', kw', Cout] with kh' >= kh, kw' >= kw
    const [, KH2, KW2] = conv.shape;
    if (KH2 < KH || KW2 < KW) {
      throw new Error(
        `src/kernels/wasm Conv2DBackpropFilter: convT produced [${conv.shape}], expected at least ${KH}x${KW} taps`,
      );
    }
    if (KH2 === KH && KW2 === KW) return transpose(backend, conv, [1, 2, 0, 3]);
    // crop + transpose in one JS pass over the small [Cin, kh', kw', Cout] result
    const out = backend.makeOutput([KH, KW, CI, CO], "float32");
    const src = f32(backend, conv);
    const dst = f32(backend, out);
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        for (let ci = 0; ci < CI; ci++) {
          const so = ((ci * KH2 + ky) * KW2 + kx) * CO;
          dst.set(src.subarray(so, so + CO), ((ky * KW + kx) * CI + ci) * CO);
        }
      }
    }
    return out;
  } finally {
    release(backend, xT, dyT, conv);
  }
}

function viaIm2col(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, s: ConvSetup): tf.TensorInfo {
  const K = s.filterHeight * s.filterWidth * s.inChannels;
  const CO = s.outChannels;
  const chunk = batchChunk(s, K);
  const xPer = s.inHeight * s.inWidth * s.inChannels;
  let acc: tf.TensorInfo | null = null;
  try {
    for (let n0 = 0; n0 < s.batch; n0 += chunk) {
      const n1 = Math.min(s.batch, n0 + chunk);
      const part = im2colGemm(backend, x, dy, s, n0, n1, K);
      if (!acc) {
        acc = part;
        continue;
      }
      const a = f32(backend, acc);
      const p = f32(backend, part);
      for (let i = 0; i < a.length; i++) a[i] += p[i];
      release(backend, part);
    }
    const result = { ...acc!, shape: [s.filterHeight, s.filterWidth, s.inChannels, CO] };
    acc = null; // ownership passes to the caller
    return result;
  } finally {
    release(backend, acc);
  }

  /** colT · dy for batch items [n0, n1): [1, K, Cout]. */
  function im2colGemm(
    backend: WasmBackendLike,
    x: tf.TensorInfo,
    dy: tf.TensorInfo,
    s: ConvSetup,
    n0: number,
    n1: number,
    K: number,
  ): tf.TensorInfo {
    const whole = n0 === 0 && n1 === s.batch;
    const M = (n1 - n0) * s.outHeight * s.outWidth;
    let dyPart: tf.TensorInfo | null = null;
    let colT: tf.TensorInfo | null = null;
    try {
      // dy is the GEMM's "weights" operand (XNNPACK packs it); whole-batch: a view, no copy
      dyPart = whole ? null : copyBatchSlice(backend, dy, n0, n1);
      colT = backend.makeOutput([1, K, M], "float32");
      im2colT(f32(backend, x).subarray(n0 * xPer, n1 * xPer), f32(backend, colT), { ...s, batch: n1 - n0 }); // views after allocating
      return callKernel(
        "BatchMatMul",
        backend,
        { a: colT, b: view(dyPart ?? dy, [1, M, CO]) },
        { transposeA: false, transposeB: false },
      );
    } finally {
      release(backend, dyPart, colT);
    }
  }
}

/** kernelFunc of `Conv2DBackpropFilter` (inputs x, dy; attrs strides, pad, dataFormat, dimRoundingMode, filterShape). */
export function conv2DBackpropFilter(args: WasmKernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = args.attrs.filterShape as number[];
  const s = convSetup("Conv2DBackpropFilter", x.shape, filterShape, args.attrs);
  return filterGradStrategy(s) === "convT" ? viaConvT(args.backend, x, dy, s) : viaIm2col(args.backend, x, dy, s);
}
