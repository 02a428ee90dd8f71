/** Shared argument handling for the conv-gradient kernels (NHWC, dilation 1). */
import * as tf from "@tensorflow/tfjs";
import { f32, type WasmBackendLike } from "./heap.js";
import type { ConvGeometry } from "./im2col.js";

/** Everything the gradient kernels need about one convolution. */
export interface ConvSetup extends ConvGeometry {
  /** Output channels Cout. */
  outChannels: number;
  /** Zero padding after the last row / column (TF's bottom / right). */
  padBottom: number;
  padRight: number;
}

/** Compute the geometry of a conv from kernel attrs; rejects NCHW with an actionable message. */
export function convSetup(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  attrs: Record<string, unknown>,
): ConvSetup {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? "NHWC";
  if (dataFormat !== "NHWC") {
    throw new Error(
      `src/kernels/wasm ${kernel}: dataFormat '${dataFormat}' is not supported; use 'NHWC' (channelsLast)`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    false,
    "channelsLast",
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
  };
}

/** Default byte budget of one im2col / col2im column matrix (see `batchChunk`). */
export const DEFAULT_COLUMN_BUDGET = 64 * 1024 * 1024;
let columnBudget = DEFAULT_COLUMN_BUDGET;

/**
 * Set the byte budget of one column matrix (tests use a tiny one to exercise chunking); returns the
 * previous value. Why a budget: the patch matrix is kh·kw times the activation (944 MB for a 7×7 stem at
 * 224² and batch 128), and the wasm heap is 32-bit, so big layers are done in slices of the batch.
 */
export function setColumnBudget(bytes: number): number {
  if (!(bytes > 0)) throw new Error(`src/kernels/wasm setColumnBudget: budget must be > 0 bytes, got ${bytes}`);
  const prev = columnBudget;
  columnBudget = bytes;
  return prev;
}

/** Batch items per slice so one [K, nb·OH·OW] column matrix fits the budget (at least 1). */
export function batchChunk(s: ConvSetup, K: number): number {
  const perItem = K * s.outHeight * s.outWidth * 4;
  return Math.max(1, Math.min(s.batch, Math.floor(columnBudget / perItem)));
}

/** Copy batch items [n0, n1) of an NHWC-like tensor into a new tensor (a slice can't be a view). */
export function copyBatchSlice(backend: WasmBackendLike, t: tf.TensorInfo, n0: number, n1: number): tf.TensorInfo {
  const per = tf.util.sizeFromShape(t.shape.slice(1));
  const out = backend.makeOutput([n1 - n0, ...t.shape.slice(1)], "float32");
  f32(backend, out).set(f32(backend, t).subarray(n0 * per, n1 * per));
  return out;
}
