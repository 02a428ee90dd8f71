/**
 * One SGD-with-momentum parameter step as a single kernel (`LtrSgdStep`): inputs param, grad, buf; attrs lr,
 * momentum, weightDecay; outputs the new parameter and the new momentum buffer. It computes exactly what
 * src/train/sgd.ts's four tfjs ops compute (float32, same operation order), in one pass instead of four kernels and
 * their intermediate tensors. Used by the optimizer when registered on the active backend.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelReport } from "../report.js";
import type { NativeAddon } from "./addon.js";
import { f32, type NativeKernelArgs } from "./wrap.js";

export const SGD_STEP_KERNEL = "LtrSgdStep";

export function installSgdKernel(addon: NativeAddon, report: KernelReport): void {
  if (!tf.getKernel(SGD_STEP_KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: SGD_STEP_KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const backend = b as NativeKernelArgs["backend"];
        const { param, grad, buf } = inputs as Record<string, tf.TensorInfo>;
        const { lr, momentum, weightDecay } = attrs as { lr: number; momentum: number; weightDecay: number };
        const outs = [backend.makeOutput(param.shape, "float32"), backend.makeOutput(param.shape, "float32")];
        const [op, ob] = outs.map((t) => f32(backend, t));
        addon.sgdStepF32(f32(backend, param), f32(backend, grad), f32(backend, buf), op, ob, lr, momentum, weightDecay);
        return outs;
      },
    });
  }
  report.registered[SGD_STEP_KERNEL] = "native-omp";
}
