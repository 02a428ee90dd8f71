/**
 * FusedBatchNorm forward (one pass: y = x·k + b per channel) and its gradient (all five input gradients in two
 * passes, replacing tfjs's ~12 element-wise ops and a full-size Tile).
 *
 * The gradient override is global (`tf.registerGradient` is not per backend), so it checks at call time that the
 * active backend is wasm and the shapes are per-channel, and otherwise runs the gradient it replaced.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { f32, type NativeKernelArgs, overrideKernel, sizeOf } from "./wrap.js";

/** Name of the helper kernel that computes the fused gradient on wasm. */
export const BN_GRAD_KERNEL = "LtrFusedBatchNormGrad";
/** Helper kernels of training-mode batch norm (src/models/batchnorm.ts): statistics, and the gradient through them. */
export const BN_MOMENTS_KERNEL = "LtrBatchNormMoments";
export const BN_TRAIN_GRAD_KERNEL = "LtrBatchNormTrainGrad";
/**
 * Training-mode batch norm fused with an optional residual add and ReLU (src/models/batchnorm.ts `bnAct`):
 * forward x, gamma, beta[, residual] -> y, batch mean, biased batch variance (attrs relu, varianceEpsilon);
 * gradient dy, x, y, mean, variance, gamma -> dx, dGamma, dBeta[, dResidual] (attrs relu, varianceEpsilon, residual).
 */
export const BN_ACT_KERNEL = "LtrBnAct";
export const BN_ACT_GRAD_KERNEL = "LtrBnActGrad";
/**
 * Inference-mode batch norm fused with an optional residual add and ReLU (src/models/batchnorm.ts, eval mode):
 * x, mean, variance, offset, scale[, residual] -> relu?(bn(x) + residual?) (attrs relu, varianceEpsilon), bit-identical
 * to FusedBatchNorm, Add and Relu run one after the other. No gradient: used only where none is recorded.
 */
export const BN_EVAL_KERNEL = "LtrBnEval";
/** Running statistics: runningMean, runningVar, mean, variance -> new running mean and variance (attrs momentum, varFactor). */
export const BN_RUNNING_KERNEL = "LtrBnRunning";

/** True when `stat` is per-channel for `x` (C entries, all leading dims 1) or a single broadcast value. */
export function perChannel(x: readonly number[], stat: readonly number[] | undefined): boolean {
  if (!stat) return true;
  const c = x[x.length - 1];
  const n = sizeOf(stat);
  if (n === 1) return true;
  if (n !== c || stat.length > x.length) return false;
  return stat[stat.length - 1] === c;
}

export function installBatchNormKernels(addon: NativeAddon, report: KernelReport): void {
  overrideKernel(
    "FusedBatchNorm",
    "native-omp",
    ({ inputs, backend, attrs }: NativeKernelArgs) => {
      const { x, mean, variance, offset, scale } = inputs as Record<string, tf.TensorInfo | undefined>;
      if (!x || !mean || !variance || x.shape.length === 0) return null;
      const all = [x, mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t !== undefined);
      if (all.some((t) => t.dtype !== "float32")) return null;
      if (!all.slice(1).every((t) => perChannel(x.shape, t.shape))) return null;
      const c = x.shape[x.shape.length - 1];
      const n = sizeOf(x.shape);
      if (c === 0 || n === 0) return null;
      const eps = Number((attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001);
      const out = backend.makeOutput(x.shape, "float32");
      addon.batchNorm(
        n / c,
        c,
        f32(backend, x),
        f32(backend, mean),
        f32(backend, variance),
        offset ? f32(backend, offset) : null,
        scale ? f32(backend, scale) : null,
        eps,
        f32(backend, out),
      );
      return out;
    },
    report,
  );

  if (!tf.getKernel(BN_EVAL_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_EVAL_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { x, mean, variance, offset, scale, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
        const { relu, varianceEpsilon } = attrs as unknown as { relu: boolean; varianceEpsilon: number };
        const c = x!.shape[x!.shape.length - 1];
        const out = backend.makeOutput(x!.shape, "float32");
        addon.batchNorm(
          sizeOf(x!.shape) / c,
          c,
          f32(backend, x!),
          f32(backend, mean!),
          f32(backend, variance!),
          f32(backend, offset!),
          f32(backend, scale!),
          varianceEpsilon,
          f32(backend, out),
          residual ? f32(backend, residual) : null,
          relu ? 1 : 0,
        );
        return out;
      },
    });
  }

  // Helper kernel: inputs x, dy, mean, variance, scale?; outputs dx, dMean, dVar, dScale, dOffset.
  if (!tf.getKernel(BN_GRAD_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_GRAD_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { x, dy, mean, variance, scale } = inputs as Record<string, tf.TensorInfo | undefined>;
        const eps = Number((attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001);
        const c = x!.shape[x!.shape.length - 1];
        const outs = [
          backend.makeOutput(x!.shape, "float32"),
          backend.makeOutput(mean!.shape, "float32"),
          backend.makeOutput(variance!.shape, "float32"),
          backend.makeOutput(scale ? scale.shape : mean!.shape, "float32"),
          backend.makeOutput(mean!.shape, "float32"),
        ];
        const [dx, dm, dv, ds, doff] = outs.map((t) => f32(backend, t));
        addon.bnGrad(
          sizeOf(x!.shape) / c,
          c,
          f32(backend, x!),
          f32(backend, dy!),
          f32(backend, mean!),
          f32(backend, variance!),
          scale ? f32(backend, scale) : null,
          eps,
          dx,
          dm,
          dv,
          ds,
          doff,
        );
        return outs;
      },
    });
  }

  // Training-mode helpers: x [..., C] → mean, variance [C]; and x, dy, mean, variance, scale → dx, dScale, dOffset.
  if (!tf.getKernel(BN_MOMENTS_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_MOMENTS_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { x } = inputs as Record<string, tf.TensorInfo>;
        const c = x.shape[x.shape.length - 1];
        const outs = [backend.makeOutput([c], "float32"), backend.makeOutput([c], "float32")];
        const [m, v] = outs.map((t) => f32(backend, t));
        addon.bnMoments(sizeOf(x.shape) / c, c, f32(backend, x), m, v);
        return outs;
      },
    });
  }
  if (!tf.getKernel(BN_TRAIN_GRAD_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_TRAIN_GRAD_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { x, dy, mean, variance, scale } = inputs as Record<string, tf.TensorInfo>;
        const eps = Number((attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001);
        const c = x.shape[x.shape.length - 1];
        const outs = [
          backend.makeOutput(x.shape, "float32"),
          backend.makeOutput([c], "float32"),
          backend.makeOutput([c], "float32"),
        ];
        const [dx, ds, doff] = outs.map((t) => f32(backend, t));
        addon.bnTrainGrad(
          sizeOf(x.shape) / c,
          c,
          f32(backend, x),
          f32(backend, dy),
          f32(backend, mean),
          f32(backend, variance),
          f32(backend, scale),
          eps,
          dx,
          ds,
          doff,
        );
        return outs;
      },
    });
  }
  if (!tf.getKernel(BN_ACT_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_ACT_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { x, gamma, beta, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
        const { relu, varianceEpsilon } = attrs as { relu: boolean; varianceEpsilon: number };
        const c = x!.shape[x!.shape.length - 1];
        const outs = [
          backend.makeOutput(x!.shape, "float32"),
          backend.makeOutput([c], "float32"),
          backend.makeOutput([c], "float32"),
        ];
        const [y, m, v] = outs.map((t) => f32(backend, t));
        addon.bnActForward(
          sizeOf(x!.shape) / c,
          c,
          f32(backend, x!),
          f32(backend, gamma!),
          f32(backend, beta!),
          residual ? f32(backend, residual) : null,
          relu ? 1 : 0,
          varianceEpsilon,
          y,
          m,
          v,
        );
        return outs;
      },
    });
  }
  if (!tf.getKernel(BN_ACT_GRAD_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_ACT_GRAD_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { dy, x, y, mean, variance, gamma } = inputs as Record<string, tf.TensorInfo>;
        const { relu, varianceEpsilon, residual } = attrs as {
          relu: boolean;
          varianceEpsilon: number;
          residual: boolean;
        };
        const c = x.shape[x.shape.length - 1];
        const outs = [
          backend.makeOutput(x.shape, "float32"),
          backend.makeOutput([c], "float32"),
          backend.makeOutput([c], "float32"),
        ];
        if (residual) outs.push(backend.makeOutput(x.shape, "float32"));
        const v = outs.map((t) => f32(backend, t));
        addon.bnActBackward(
          sizeOf(x.shape) / c,
          c,
          f32(backend, dy),
          f32(backend, x),
          f32(backend, y),
          f32(backend, mean),
          f32(backend, variance),
          f32(backend, gamma),
          relu ? 1 : 0,
          varianceEpsilon,
          v[0],
          v[1],
          v[2],
          residual ? v[3] : null,
        );
        return outs;
      },
    });
  }
  if (!tf.getKernel(BN_RUNNING_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: BN_RUNNING_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { runningMean, runningVar, mean, variance } = inputs as Record<string, tf.TensorInfo>;
        const { momentum, varFactor } = attrs as { momentum: number; varFactor: number };
        const c = sizeOf(runningMean.shape);
        const outs = [
          backend.makeOutput(runningMean.shape, "float32"),
          backend.makeOutput(runningVar.shape, "float32"),
        ];
        const [om, ov] = outs.map((t) => f32(backend, t));
        addon.bnRunning(
          c,
          f32(backend, runningMean),
          f32(backend, runningVar),
          f32(backend, mean),
          f32(backend, variance),
          momentum,
          varFactor,
          om,
          ov,
        );
        return outs;
      },
    });
  }
  report.registered["BatchNorm (training mode)"] = "native-omp";

  const prev = tf.getGradient("FusedBatchNorm");
  if (!prev) return;
  if ((prev as unknown as { ltrNative?: boolean }).ltrNative) {
    report.registered["FusedBatchNorm(grad)"] = "native-omp";
    return;
  }
  const config: tf.GradConfig & { ltrNative: boolean } = {
    kernelName: "FusedBatchNorm",
    inputsToSave: prev.inputsToSave,
    outputsToSave: prev.outputsToSave,
    saveAllInputs: prev.saveAllInputs,
    ltrNative: true,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const g = dy as tf.Tensor;
      const ok =
        tf.getBackend() === "wasm" &&
        x.dtype === "float32" &&
        g.dtype === "float32" &&
        x.rank > 0 &&
        sizeOf(x.shape) > 0 &&
        mean.size === variance.size &&
        [mean, variance, scale].every(
          (t) => t === undefined || (t.dtype === "float32" && perChannel(x.shape, t.shape)),
        );
      if (!ok) return prev.gradFunc(dy, saved, attrs);
      // Compute everything eagerly: each input's closure runs in its own tidy, so sharing lazily would free the
      // shared tensors after the first closure.
      const inputs: tf.NamedTensorMap = { x, dy: g, mean, variance };
      if (scale) inputs.scale = scale;
      const [dx, dMean, dVar, dScale, dOffset] = tf
        .engine()
        .runKernel(BN_GRAD_KERNEL, inputs, attrs as tf.NamedAttrMap) as tf.Tensor[];
      return {
        x: () => dx,
        mean: () => dMean,
        variance: () => dVar,
        scale: () => dScale,
        offset: () => dOffset,
      };
    },
  };
  tf.registerGradient(config);
  report.registered["FusedBatchNorm(grad)"] = "native-omp";
}
