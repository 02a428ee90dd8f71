/**
 * `Conv2DBackpropInput` for the wasm backend (the stock one is a naive C++ loop at ~2 GFLOP/s).
 *
 *  - Stride 1: dx is a stride-1 convolution of dy with the filter flipped spatially and its in/out
 *    channels swapped, W'[ky,kx,co,ci] = W[kh-1-ky, kw-1-kx, ci, co], padded by (kh-1-pT, kh-1-pB) rows
 *    and (kw-1-pL, kw-1-pR) columns. That runs on XNNPACK as fast as the forward pass. (Symmetric 'same'
 *    is the common case; explicit and 'valid' padding work the same way.)
 *  - Otherwise (stride 2, or padding wider than the kernel): one XNNPACK GEMM cols = dy · Wᵀ, with
 *    dy as [N·OH·OW, Cout] and Wᵀ as [Cout, kh·kw·Cin], then col2im in JS; in slices of the batch when
 *    the column matrix would exceed the byte budget (`setColumnBudget`).
 */
import type * as tf from "@tensorflow/tfjs";
import { batchChunk, type ConvSetup, convSetup, copyBatchSlice } from "./conv_common.js";
import { callKernel, f32, release, transpose, view, type WasmBackendLike, type WasmKernelArgs } from "./heap.js";
import { col2im } from "./im2col.js";

export type InputGradStrategy = "flippedConv" | "gemmCol2im";

/** Which strategy `Conv2DBackpropInput` uses for a conv (exported for tests and benchmarks). */
export function inputGradStrategy(s: ConvSetup): InputGradStrategy {
  const stride1 = s.strideHeight === 1 && s.strideWidth === 1;
  const padsFit =
    s.padTop <= s.filterHeight - 1 &&
    s.padBottom <= s.filterHeight - 1 &&
    s.padLeft <= s.filterWidth - 1 &&
    s.padRight <= s.filterWidth - 1;
  return stride1 && padsFit ? "flippedConv" : "gemmCol2im";
}

function viaFlippedConv(
  backend: WasmBackendLike,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  s: ConvSetup,
): tf.TensorInfo {
  const { filterHeight: KH, filterWidth: KW, inChannels: CI, outChannels: CO } = s;
  let flipped: tf.TensorInfo | null = null;
  try {
    flipped = backend.makeOutput([KH, KW, CO, CI], "float32");
    const w = f32(backend, filter);
    const wf = f32(backend, flipped);
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        const src = ((KH - 1 - ky) * KW + (KW - 1 - kx)) * CI * CO; // W[kh-1-ky, kw-1-kx, :, :]
        const dst = (ky * KW + kx) * CO * CI;
        for (let ci = 0; ci < CI; ci++) {
          for (let co = 0; co < CO; co++) wf[dst + co * CI + ci] = w[src + ci * CO + co];
        }
      }
    }
    const pad = [
      [0, 0],
      [KH - 1 - s.padTop, KH - 1 - s.padBottom],
      [KW - 1 - s.padLeft, KW - 1 - s.padRight],
      [0, 0],
    ];
    return callKernel(
      "Conv2D",
      backend,
      { x: dy, filter: flipped },
      { strides: [1, 1], pad, dataFormat: "NHWC", dilations: [1, 1] },
    );
  } finally {
    release(backend, flipped);
  }
}

function viaGemmCol2im(
  backend: WasmBackendLike,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  s: ConvSetup,
): tf.TensorInfo {
  const K = s.filterHeight * s.filterWidth * s.inChannels;
  const CO = s.outChannels;
  const chunk = batchChunk(s, K);
  const dxPer = s.inHeight * s.inWidth * s.inChannels;
  let wT: tf.TensorInfo | null = null;
  let dx: tf.TensorInfo | null = null;
  try {
    wT = transpose(backend, view(filter, [K, CO]), [1, 0]); // [Cout, K]
    dx = backend.makeOutput([s.batch, s.inHeight, s.inWidth, s.inChannels], "float32");
    for (let n0 = 0; n0 < s.batch; n0 += chunk) {
      const n1 = Math.min(s.batch, n0 + chunk);
      const M = (n1 - n0) * s.outHeight * s.outWidth;
      let dyPart: tf.TensorInfo | null = null;
      let cols: tf.TensorInfo | null = null;
      try {
        dyPart = n1 - n0 === s.batch ? null : copyBatchSlice(backend, dy, n0, n1);
        cols = callKernel(
          "BatchMatMul",
          backend,
          { a: view(dyPart ?? dy, [1, M, CO]), b: view(wT, [1, CO, K]) },
          {
            transposeA: false,
            transposeB: false,
          },
        ); // [1, M, K]
        col2im(f32(backend, cols), f32(backend, dx).subarray(n0 * dxPer, n1 * dxPer), { ...s, batch: n1 - n0 });
      } finally {
        release(backend, dyPart, cols);
      }
    }
    const result = dx;
    dx = null;
    return result;
  } finally {
    release(backend, wT, dx);
  }
}

/** kernelFunc of `Conv2DBackpropInput` (inputs dy, filter; attrs strides, pad, dataFormat, dimRoundingMode, inputShape). */
export function conv2DBackpropInput(args: WasmKernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = args.attrs.inputShape as number[];
  const s = convSetup("Conv2DBackpropInput", inputShape, filter.shape, args.attrs);
  return inputGradStrategy(s) === "flippedConv"
    ? viaFlippedConv(args.backend, dy, filter, s)
    : viaGemmCol2im(args.backend, dy, filter, s);
}
