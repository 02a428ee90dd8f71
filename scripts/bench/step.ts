/**
 * The stage-1 training step and inference pass the bench times: a registry backbone + LinearClassifier, softmax
 * cross-entropy, SGD momentum 0.9 / weight decay 5e-4, gradients by `tf.variableGrads` (what the trainer does).
 */
import * as tf from "@tensorflow/tfjs";
import { backbones } from "../../src/models/index.js";
import { LinearClassifier } from "../../src/models/linear.js";
import { Sgd } from "../../src/train/sgd.js";

export interface ConvNetArgs {
  /** Backbone registry name ("resnet8", "resnet20"). */
  backbone: string;
  /** Image shape [H, W, C]. */
  inputShape: [number, number, number];
  /** Batch size. */
  batch: number;
  /** Classes of the linear head. */
  numClasses: number;
  /** Weight and data seed. */
  seed: number;
}

export interface ConvNetBench {
  /** One SGD step on the fixed batch; returns the loss (synchronises with the backend). */
  trainStep(): number;
  /** One eval-mode forward pass of the fixed batch; returns the checksum of the logits (synchronises). */
  infer(): number;
  /** Free everything the bench created. */
  dispose(): void;
}

/** Deterministic pseudo-random batch (a cheap LCG: the values only need to be non-degenerate). */
function batchData(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

export function buildConvNet(args: ConvNetArgs): ConvNetBench {
  const { backbone: name, inputShape, batch, numClasses, seed } = args;
  const net = backbones.get(name, "bench")({ inputShape, seed });
  const head = new LinearClassifier({ featDim: net.featDim, numClasses, seed });
  const sgd = new Sgd([
    { name: "feat_model", params: net.trainable(), args: { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 } },
    { name: "classifier", params: head.trainable(), args: { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 } },
  ]);
  const vars = [...net.trainable().values(), ...head.trainable().values()];
  const x = tf.tensor4d(batchData(batch * inputShape[0] * inputShape[1] * inputShape[2], seed), [batch, ...inputShape]);
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + seed) % numClasses);
  const y = tf.oneHot(tf.tensor1d(labels, "int32"), numClasses).toFloat();
  return {
    trainStep(): number {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, head.apply(net.apply(x, true))) as tf.Scalar,
        vars,
      );
      sgd.step(grads);
      tf.dispose(grads);
      const loss = value.dataSync()[0];
      value.dispose();
      return loss;
    },
    infer(): number {
      const logits = tf.tidy(() => head.apply(net.apply(x, false)).sum());
      const v = logits.dataSync()[0];
      logits.dispose();
      return v;
    },
    dispose(): void {
      sgd.dispose();
      net.dispose();
      head.dispose();
      tf.dispose([x, y]);
    },
  };
}
