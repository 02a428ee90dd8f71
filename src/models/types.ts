/**
 * Shared model interfaces. A model is a bag of named `tf.Variable`s plus a pure forward function, so
 * the training loop can take gradients with `tf.variableGrads`, checkpoint by name and freeze by
 * simply leaving variables out of the variable list.
 */
import type * as tf from "@tensorflow/tfjs";

/**
 * Variables keyed by their PyTorch-style state-dict name ("conv1.weight", "layer1.0.bn1.running_mean").
 * The key is stable across runs and processes (use it for checkpoints); the `tf.Variable.name` is made
 * globally unique per model instance (tfjs refuses two variables with one name) and is what
 * `tf.variableGrads` keys its gradients by.
 */
export type NamedVariables = Map<string, tf.Variable>;

/** Anything that owns trainable parameters and non-trainable buffers. */
export interface Module {
  /** Parameters that receive gradients: conv weights, BN gamma/beta, linear weight/bias. */
  trainable(): NamedVariables;
  /** State that is saved but never trained: BN running_mean / running_var. */
  buffers(): NamedVariables;
  /** Free every variable this module created. */
  dispose(): void;
}

export interface Backbone extends Module {
  /** Registry name, e.g. "resnet32" or "resnext50". */
  readonly name: string;
  /** Length of the pooled feature vector (64 for CIFAR ResNets, 512 / 2048 for ImageNet ones). */
  readonly featDim: number;
  /**
   * Pooled features [N, featDim]. training=true: BatchNorm normalises with batch statistics and updates
   * its running stats (PyTorch momentum 0.1, eps 1e-5); false: it uses the running stats. Callable inside
   * `tf.variableGrads` (the running-stat update is not on any path to the loss, so it gets no gradient).
   */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
}

export interface Classifier extends Module {
  readonly name: string;
  readonly numClasses: number;
  readonly featDim: number;
  /** Logits [N, numClasses] from features [N, featDim]. */
  apply(feat: tf.Tensor2D): tf.Tensor2D;
}

/** How a grouped convolution (ResNeXt) is computed; all give the same numbers (tested). */
export type GroupedConvImpl = "auto" | "kernel" | "split" | "depthwise";

export interface BackboneArgs {
  /** Input image shape [H, W, C] (NHWC without the batch axis); C sets the stem's input channels. */
  inputShape: [number, number, number];
  /** Seed for the weight initialisation; each parameter draws from its own stream derived from its name. */
  seed: number;
  /**
   * Grouped-conv strategy for ResNeXt (ignored by other backbones). "kernel": one grouped-convolution op with
   * its own gradient kernels (wasm with the native layer; see src/kernels/grouped_conv.ts). "split": one conv2d per group plus
   * concat, differentiable wherever conv2d is. "depthwise": one depthwise conv + a reduction, the same
   * FLOPs in one kernel call (about 7-10x faster forward on wasm), but the stock wasm backend has no
   * depthwise gradient kernels. "auto" (default): "kernel" where the active backend registers it, else
   * "depthwise" when it registers both depthwise gradient kernels, else "split"; decided at each call.
   */
  groupedConv?: GroupedConvImpl;
  /**
   * Base width: channels of the stem and the first stage, doubled at each later stage (default 64 for the ImageNet
   * layout, as the original's models; 16 for the CIFAR layout). Narrower ImageNet models keep every name and
   * stride; the PyTorch-parity fixtures use ResNeXt-50 at width 16.
   */
  width?: number;
}
