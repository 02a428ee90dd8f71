/**
 * Grouped 2-D convolution as one tfjs op: tfjs 4.22's `conv2d` has no groups argument, so the op is ours, a
 * kernel name (`LtrGroupedConv2D`) with a registered gradient whose two halves are kernels of their own.
 *
 * A backend serves the op only where all three kernels are registered for it (today: wasm with the native
 * layer, src/kernels/native/conv.ts). Everywhere else `src/models/conv.ts` computes the same convolution from
 * stock ops (one conv per group, or a depthwise conv plus a reduction), so registering never narrows where a
 * model runs. Layout: x [N,H,W,G·cg] NHWC, filter [KH,KW,cg,G·og] (tfjs HWIO with output channel g·og + j,
 * PyTorch's [G·og, cg, KH, KW] in NHWC order), the same as the split path.
 */
import * as tf from "@tensorflow/tfjs";

/** Forward kernel: inputs {x, filter}, attrs {@link GroupedConvAttrs}. */
export const GROUPED_CONV2D = "LtrGroupedConv2D";
/** Input gradient: inputs {dy, filter}, attrs {@link GroupedConvAttrs} + `inputShape`. */
export const GROUPED_CONV2D_BACKPROP_INPUT = "LtrGroupedConv2DBackpropInput";
/** Filter gradient: inputs {x, dy}, attrs {@link GroupedConvAttrs} + `filterShape`. */
export const GROUPED_CONV2D_BACKPROP_FILTER = "LtrGroupedConv2DBackpropFilter";

/** Attributes of the grouped-convolution kernels (square stride, no dilation: what the ResNeXt blocks use). */
export interface GroupedConvAttrs {
  /** Stride in both directions. */
  strides: number;
  /** tfjs padding: "same", "valid" or a symmetric number of pixels. */
  pad: "valid" | "same" | number;
  /** Channel groups G; divides the input and output channel counts. */
  groups: number;
  /** Gradient kernels only: the shape being differentiated (input or filter). */
  inputShape?: number[];
  filterShape?: number[];
}

/** True when the active backend has all three grouped-convolution kernels. */
export function hasGroupedConvKernels(backend: string = tf.getBackend()): boolean {
  return (
    tf.getKernel(GROUPED_CONV2D, backend) !== undefined &&
    tf.getKernel(GROUPED_CONV2D_BACKPROP_INPUT, backend) !== undefined &&
    tf.getKernel(GROUPED_CONV2D_BACKPROP_FILTER, backend) !== undefined
  );
}

function run(name: string, inputs: tf.NamedTensorMap, attrs: GroupedConvAttrs): tf.Tensor4D {
  return tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** Register the op's gradient once per process (tfjs warns on a second registration). */
function registerGradientOnce(): void {
  if (tf.getGradient(GROUPED_CONV2D) !== undefined) return;
  tf.registerGradient({
    kernelName: GROUPED_CONV2D,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as GroupedConvAttrs;
      const base: GroupedConvAttrs = { strides: a.strides, pad: a.pad, groups: a.groups };
      const g = dy as tf.Tensor4D;
      return {
        x: () => run(GROUPED_CONV2D_BACKPROP_INPUT, { dy: g, filter }, { ...base, inputShape: x.shape }),
        filter: () => run(GROUPED_CONV2D_BACKPROP_FILTER, { x, dy: g }, { ...base, filterShape: filter.shape }),
      };
    },
  });
}
registerGradientOnce();

/** Check the shapes the op accepts; the message names what disagrees. */
function checkShapes(x: tf.Tensor4D, filter: tf.Tensor4D, groups: number): void {
  const c = x.shape[3];
  const [, , cg, oc] = filter.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || oc % groups !== 0 || c / groups !== cg) {
    throw new Error(
      `groupedConv2dKernel: input channels ${c}, filter [${filter.shape.join(",")}] and groups=${groups} disagree ` +
        `(need C % groups == 0, OC % groups == 0 and filter.shape[2] == C / groups)`,
    );
  }
}

/**
 * The grouped convolution through the registered kernels (call only where {@link hasGroupedConvKernels});
 * differentiable in both inputs.
 */
export function groupedConv2dKernel(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  groups: number,
  stride: number,
  pad: "valid" | "same" | number,
): tf.Tensor4D {
  checkShapes(x, filter, groups);
  return run(GROUPED_CONV2D, { x, filter }, { strides: stride, pad, groups });
}
