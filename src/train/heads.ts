/**
 * Classifier heads trainable on top of a backbone (`networks.classifier.type`):
 *  - `linear`: the DotProductClassifier of the paper's code (Joint in stage 1, a fresh one in cRT);
 *  - `lws`:    learnable weight scaling — the stage-1 linear layer, frozen, times one learned scale per class,
 *              z_j = s_j·(w_j·x + b_j) (the scale multiplies the bias too, as the original TauNormClassifier).
 */
import * as tf from "@tensorflow/tfjs";
import { LinearClassifier } from "../models/linear.js";
import type { Classifier, NamedVariables } from "../models/types.js";
import { Registry } from "../registry.js";
import { HEAD_NAMES, type HeadName } from "./head_names.js";

export interface HeadArgs {
  featDim: number;
  numClasses: number;
  seed: number;
}

const FACTORIES: Record<HeadName, (args: HeadArgs) => Classifier> = {
  linear: (a) => new LinearClassifier({ featDim: a.featDim, numClasses: a.numClasses, seed: a.seed }),
  lws: (a) => new LwsHead(a),
};

export const HEADS = new Registry<(args: HeadArgs) => Classifier>("classifier head");
for (const name of HEAD_NAMES) HEADS.register(name, FACTORIES[name]);

let lwsCount = 0;

export class LwsHead implements Classifier {
  readonly name = "lws";
  readonly numClasses: number;
  readonly featDim: number;
  /** The frozen stage-1 layer ("fc.weight" [C,d], "fc.bias" [C]); load it from the stage-1 checkpoint. */
  readonly base: LinearClassifier;
  /** Per-class scales f_j, initialised to 1 (not 1/||w_j||^tau), trained with weight decay. */
  readonly scales: tf.Variable;

  constructor(a: HeadArgs) {
    this.numClasses = a.numClasses;
    this.featDim = a.featDim;
    this.base = new LinearClassifier({
      featDim: a.featDim,
      numClasses: a.numClasses,
      seed: a.seed,
      name: `lws_base_${lwsCount}`,
    });
    const id = lwsCount++;
    this.scales = tf.tidy(() => tf.variable(tf.ones([a.numClasses]), true, `lws_${id}/scales`));
  }

  apply(feat: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(this.base.apply(feat), this.scales) as tf.Tensor2D);
  }

  /** Only the scales learn. */
  trainable(): NamedVariables {
    return new Map([["scales", this.scales]]);
  }

  /** The frozen stage-1 weight and bias travel with the checkpoint as buffers. */
  buffers(): NamedVariables {
    return new Map([...this.base.trainable(), ...this.base.buffers()]);
  }

  dispose(): void {
    this.base.dispose();
    this.scales.dispose();
  }
}
