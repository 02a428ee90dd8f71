/** BatchMatMul and _FusedMatMul through OpenBLAS sgemm, transposes folded into the GEMM call (no copies). */
import type * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { planBroadcast } from "./broadcast.js";
import { f32, type NativeKernelArgs, overrideKernel, sizeOf } from "./wrap.js";

/** Output shape and batch strides of a (possibly batch-broadcast) matmul, or null if unsupported. */
export interface MatMulPlan {
  /** Output shape [...batch, m, n]. */
  outShape: number[];
  /** Batch count of the output. */
  batch: number;
  /** GEMM sizes. */
  m: number;
  n: number;
  k: number;
  /** Element strides between batches of a and b (0 = broadcast). */
  strideA: number;
  strideB: number;
}

export function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  ta: boolean,
  tb: boolean,
): MatMulPlan | null {
  if (aShape.length < 2 || bShape.length < 2) return null;
  const ra = aShape.length;
  const rb = bShape.length;
  const m = ta ? aShape[ra - 1] : aShape[ra - 2];
  const k = ta ? aShape[ra - 2] : aShape[ra - 1];
  const kb = tb ? bShape[rb - 1] : bShape[rb - 2];
  const n = tb ? bShape[rb - 2] : bShape[rb - 1];
  if (k !== kb) return null; // let the stock kernel raise its own shape error
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const ba = sizeOf(batchA);
  const bb = sizeOf(batchB);
  let batchShape: number[];
  if (ba === bb && batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i])) batchShape = [...batchA];
  else if (ba === 1) batchShape = [...batchB];
  else if (bb === 1) batchShape = [...batchA];
  else return null;
  const batch = sizeOf(batchShape);
  return {
    outShape: [...batchShape, m, n],
    batch,
    m,
    n,
    k,
    strideA: ba === 1 ? 0 : m * k,
    strideB: bb === 1 ? 0 : k * n,
  };
}

function runGemm(addon: NativeAddon, args: NativeKernelArgs, fused: boolean): tf.TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { transposeA, transposeB, activation } = attrs as {
    transposeA: boolean;
    transposeB: boolean;
    activation?: string;
  };
  if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return null;
  if (fused && (preluActivationWeights || (activation && activation !== "linear" && activation !== "relu")))
    return null;
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  if (!plan || plan.m * plan.n * plan.batch === 0) return null;
  let biasPlan = null;
  if (fused && bias) {
    if (bias.dtype !== "float32") return null;
    biasPlan = planBroadcast(plan.outShape, [plan.outShape, bias.shape]);
    if (!biasPlan || biasPlan.modes[0] !== 0) return null;
  }
  const out = backend.makeOutput(plan.outShape, "float32");
  const o = f32(backend, out);
  if (plan.k === 0) {
    o.fill(0);
  } else {
    addon.sgemm(
      plan.batch,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      plan.m,
      plan.n,
      plan.k,
      f32(backend, a),
      plan.strideA,
      f32(backend, b),
      plan.strideB,
      o,
      plan.m * plan.n,
    );
  }
  // Epilogue in place (element i only reads element i of the output).
  if (bias && biasPlan) addon.binary(0, biasPlan.r, biasPlan.c, o, 0, f32(backend, bias), biasPlan.modes[1], o);
  if (fused && activation === "relu") addon.unary(0, o, o, 0);
  return out;
}

export function installMatMulKernels(addon: NativeAddon, report: KernelReport): void {
  overrideKernel("BatchMatMul", "native-openblas", (args) => runGemm(addon, args, false), report);
  overrideKernel("_FusedMatMul", "native-openblas", (args) => runGemm(addon, args, true), report);
}
