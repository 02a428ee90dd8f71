/**
 * The stage-1 "joint" classifier (reference `DotProductClassifier`): logits = x Wᵀ + b with PyTorch's
 * nn.Linear layout and default initialisation, parameter names "fc.weight" / "fc.bias".
 */
import * as tf from "@tensorflow/tfjs";
import { fillUniform, ParamStore } from "./params.js";
import type { Classifier, NamedVariables } from "./types.js";

export { countParams, modelWeights } from "./weights.js";

export interface LinearArgs {
  /** Input feature length d. */
  featDim: number;
  /** Number of classes C. */
  numClasses: number;
  /** Seed for the initialisation (weight and bias draw from streams derived from their names). */
  seed: number;
  /** Whether to add a bias (default true). */
  bias?: boolean;
  /** Name reported as `Classifier.name` and used in tfjs variable names (default "linear"). */
  name?: string;
  /** Key prefix for the variables (default "fc", giving "fc.weight" as in the reference). */
  key?: string;
}

export class LinearClassifier implements Classifier {
  readonly name: string;
  readonly numClasses: number;
  readonly featDim: number;
  /** [C, d]: row j is the class-j weight vector w_j (PyTorch layout, what τ-norm and NCM read). */
  readonly weight: tf.Variable;
  /** [C], or null when built with bias=false. */
  readonly bias: tf.Variable | null;
  private readonly store: ParamStore;

  constructor(args: LinearArgs) {
    const { featDim: d, numClasses: c } = args;
    if (!Number.isInteger(d) || d <= 0 || !Number.isInteger(c) || c <= 0) {
      throw new Error(
        `LinearClassifier: featDim and numClasses must be positive integers, got featDim=${d}, numClasses=${c}`,
      );
    }
    this.name = args.name ?? "linear";
    this.featDim = d;
    this.numClasses = c;
    this.store = new ParamStore(this.name, args.seed);
    const key = args.key ?? "fc";
    // nn.Linear default: kaiming_uniform(a=√5) for the weight, which reduces to U(±1/√fan_in); same bound for the bias.
    const bound = 1 / Math.sqrt(d);
    const wName = `${key}.weight`;
    this.weight = this.store.add(
      wName,
      fillUniform(this.store.rng(wName), new Float32Array(c * d), -bound, bound),
      [c, d],
      true,
    );
    if (args.bias ?? true) {
      const bName = `${key}.bias`;
      this.bias = this.store.add(
        bName,
        fillUniform(this.store.rng(bName), new Float32Array(c), -bound, bound),
        [c],
        true,
      );
    } else {
      this.bias = null;
    }
  }

  apply(feat: tf.Tensor2D): tf.Tensor2D {
    if (feat.shape[1] !== this.featDim) {
      throw new Error(
        `${this.name}: features have ${feat.shape[1]} columns, classifier expects featDim=${this.featDim}`,
      );
    }
    return tf.tidy(() => {
      const z = tf.matMul(feat, this.weight as tf.Tensor2D, false, true);
      return (this.bias ? tf.add(z, this.bias) : z) as tf.Tensor2D;
    });
  }

  trainable(): NamedVariables {
    return this.store.trainable();
  }

  buffers(): NamedVariables {
    return this.store.buffers();
  }

  dispose(): void {
    this.store.dispose();
  }
}
