/**
 * Gradient overrides that turn tfjs's multi-op gradients of the ops a ResNet step is made of into one native pass:
 *   Relu               mul(dy, cast(step(x)))              → dy·(x>0)                         (3 ops → 1)
 *   Mean / Sum         div(mul(reshape(dy), ones(x)), n)   → broadcast(dy)·(1/n)               (3 ops → 1)
 *   Mean over H, W     the same, for a global average pool  → broadcast(dy) / n, the same bits (ones + 2 ops → 1)
 *   SquaredDifference  mul(dy, mul(2, sub(a,b))) ×2 + sum  → da and db in one pass + reduction  (7 ops → 1)
 * `tf.registerGradient` is global, so each override checks at call time that the active backend is wasm (where our
 * helper kernels exist) and that the shapes are ones the addon handles, and otherwise runs the gradient it replaced.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { Mode, planBroadcast } from "./broadcast.js";
import { f32, type NativeKernelArgs, sizeOf } from "./wrap.js";

type GradFunc = tf.GradConfig["gradFunc"];
type Saved = tf.Tensor[];
const MARK = "ltrNative";

/** Replace `kernelName`'s gradient; `native` returns null to defer to the gradient it replaced. */
function overrideGradient(
  kernelName: string,
  native: (dy: tf.Tensor, saved: Saved, attrs: tf.NamedAttrMap) => ReturnType<GradFunc> | null,
  report: KernelReport,
): void {
  const prev = tf.getGradient(kernelName);
  if (!prev) return;
  if ((prev as unknown as Record<string, unknown>)[MARK]) {
    report.registered[`${kernelName}(grad)`] = "native-omp";
    return;
  }
  const config = {
    kernelName,
    inputsToSave: prev.inputsToSave,
    outputsToSave: prev.outputsToSave,
    saveAllInputs: prev.saveAllInputs,
    [MARK]: true,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: Saved, attrs: tf.NamedAttrMap) => {
      const usable = tf.getBackend() === "wasm" && !Array.isArray(dy) && dy.dtype === "float32";
      const r = usable ? native(dy as tf.Tensor, saved, attrs) : null;
      return r ?? prev.gradFunc(dy, saved, attrs);
    },
  } as tf.GradConfig;
  tf.registerGradient(config);
  report.registered[`${kernelName}(grad)`] = "native-omp";
}

function registerOnce(config: tf.KernelConfig): void {
  if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
}

const RELU_GRAD = "LtrReluGrad";
const BROADCAST_SCALE = "LtrBroadcastScale";
const SQDIFF_GRAD = "LtrSquaredDifferenceGrad";
const POOL_GRAD = "LtrGlobalPoolGrad";

export function installGradientOverrides(addon: NativeAddon, report: KernelReport): void {
  // dy·(x > 0); inputs dy, x (same shape).
  registerOnce({
    kernelName: RELU_GRAD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend: b }) => {
      const backend = b as NativeKernelArgs["backend"];
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const out = backend.makeOutput(x.shape, "float32");
      addon.binary(7, 1, sizeOf(x.shape), f32(backend, dy), 0, f32(backend, x), 0, f32(backend, out));
      return out;
    },
  });
  // broadcast v (viewed with shape attrs.vShape) to attrs.shape, times attrs.scale.
  registerOnce({
    kernelName: BROADCAST_SCALE,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as NativeKernelArgs["backend"];
      const { v } = inputs as { v: tf.TensorInfo };
      const { shape, vShape, scale } = attrs as { shape: number[]; vShape: number[]; scale: number };
      const plan = planBroadcast(shape, [vShape])!;
      const out = backend.makeOutput(shape, "float32");
      addon.binary(
        2,
        plan.r,
        plan.c,
        f32(backend, v),
        plan.modes[0],
        Float32Array.of(scale),
        Mode.Scalar,
        f32(backend, out),
      );
      return out;
    },
  });
  // The gradient of a global average pool (tf.mean over H and W of NHWC): dy [N, C] spread over every position and
  // divided by H·W, as tfjs's own gradient computes it (dy·1, then a float32 division), without its H·W-sized tensor
  // of ones.
  registerOnce({
    kernelName: POOL_GRAD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as NativeKernelArgs["backend"];
      const { dy } = inputs as { dy: tf.TensorInfo };
      const { shape } = attrs as { shape: number[] };
      const [n, h, w, c] = shape;
      const out = backend.makeOutput(shape, "float32");
      const g = f32(backend, dy);
      const o = f32(backend, out);
      const hw = Float32Array.of(h * w);
      // Per image: its row of dy broadcast over the H·W rows of [H·W, C], divided by the scalar H·W.
      for (let i = 0; i < n; i++)
        addon.binary(
          3,
          h * w,
          c,
          g.subarray(i * c, (i + 1) * c),
          Mode.Row,
          hw,
          Mode.Scalar,
          o.subarray(i * h * w * c, (i + 1) * h * w * c),
        );
      return out;
    },
  });
  // (full, other, dy) -> [d full, d other]; attrs.otherMode is the broadcast mode of `other` on [r, c].
  registerOnce({
    kernelName: SQDIFF_GRAD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as NativeKernelArgs["backend"];
      const { full, other, dy } = inputs as { full: tf.TensorInfo; other: tf.TensorInfo; dy: tf.TensorInfo };
      const { r, c, otherMode, needOther } = attrs as { r: number; c: number; otherMode: number; needOther?: boolean };
      const dFull = backend.makeOutput(full.shape, "float32");
      if (needOther === false) {
        addon.sqDiffGrad(
          r,
          c,
          f32(backend, full),
          f32(backend, other),
          otherMode,
          f32(backend, dy),
          f32(backend, dFull),
          null,
        );
        return dFull;
      }
      const dOther = backend.makeOutput(other.shape, "float32");
      addon.sqDiffGrad(
        r,
        c,
        f32(backend, full),
        f32(backend, other),
        otherMode,
        f32(backend, dy),
        f32(backend, dFull),
        f32(backend, dOther),
      );
      return [dFull, dOther];
    },
  });

  overrideGradient(
    "Relu",
    (dy, [x]) => {
      if (x.dtype !== "float32" || !tf.util.arraysEqual(x.shape, dy.shape)) return null;
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor };
    },
    report,
  );

  for (const name of ["Mean", "Sum"]) {
    overrideGradient(
      name,
      (dy, [x], attrs) => {
        if (x.dtype !== "float32") return null;
        const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
        const vShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        if (sizeOf(vShape) !== dy.size) return null;
        if (!planBroadcast(x.shape, [vShape])) {
          // Where no (rows, columns) plan fits, tfjs's gradient used to run; the pool kernel gives its bits.
          const pool = name === "Mean" && x.rank === 4 && axes.length === 2 && axes[0] === 1 && axes[1] === 2;
          return pool ? { x: () => tf.engine().runKernel(POOL_GRAD, { dy }, { shape: x.shape }) as tf.Tensor } : null;
        }
        let n = 1;
        for (const a of axes) n *= x.shape[a];
        const scale = name === "Mean" ? 1 / n : 1;
        return {
          x: () => tf.engine().runKernel(BROADCAST_SCALE, { v: dy }, { shape: x.shape, vShape, scale }) as tf.Tensor,
        };
      },
      report,
    );
  }

  // d(x²) = 2x·dy: the squared-difference gradient against a scalar 0 (tf.moments squares x − mean this way).
  overrideGradient(
    "Square",
    (dy, [x]) => {
      if (x.dtype !== "float32" || !tf.util.arraysEqual(x.shape, dy.shape)) return null;
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              SQDIFF_GRAD,
              { full: x, other: tf.zeros([]), dy },
              { r: 1, c: x.size, otherMode: Mode.Scalar, needOther: false },
            ) as tf.Tensor,
      };
    },
    report,
  );

  overrideGradient(
    "SquaredDifference",
    (dy, [a, b]) => {
      if (a.dtype !== "float32" || b.dtype !== "float32") return null;
      const aFull = tf.util.arraysEqual(a.shape, dy.shape);
      const bFull = tf.util.arraysEqual(b.shape, dy.shape);
      if (!aFull && !bFull) return null;
      const [full, other] = aFull ? [a, b] : [b, a];
      const plan = planBroadcast(dy.shape, [full.shape, other.shape]);
      if (!plan || plan.modes[0] !== Mode.Full) return null;
      // Both gradients come from one kernel call, so compute it now: each input's closure runs in its own tidy.
      const [dFull, dOther] = tf
        .engine()
        .runKernel(SQDIFF_GRAD, { full, other, dy }, { r: plan.r, c: plan.c, otherMode: plan.modes[1] }) as tf.Tensor[];
      return aFull ? { a: () => dFull, b: () => dOther } : { a: () => dOther, b: () => dFull };
    },
    report,
  );
}

/** Identity and same-dtype Cast share the input's buffer (refcounted) instead of copying it, as tfjs's cpu backend does. */
export function installAliasKernels(
  report: KernelReport,
  overrideKernel: typeof import("./wrap.js").overrideKernel,
): void {
  overrideKernel(
    "Identity",
    "native-omp",
    ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      if (x.dtype === "string") return null;
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
    report,
  );
  overrideKernel(
    "Cast",
    "native-omp",
    ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      if (x.dtype === "string" || (attrs as { dtype: string }).dtype !== x.dtype) return null;
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
    report,
  );
}
