/**
 * Kernel diagnostics, not the headline (scripts/bench/epochs.ts times real epochs): one stage-1 training step and
 * one inference pass of a registry backbone + LinearClassifier (softmax cross-entropy, SGD momentum 0.9 / weight
 * decay 5e-4, gradients by `tf.variableGrads` as the trainer computes them), on a different batch every step (a
 * pool of distinct pseudo-random batches built before timing), after a warm-up long enough for JIT and kernel plans.
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
  /** Distinct batches cycled through (default 8). */
  pool?: number;
}

export interface ConvNetBench {
  /** One SGD step on the next batch of the pool; returns the loss (synchronises with the backend). */
  trainStep(): number;
  /** One eval-mode forward pass of the next batch; returns the checksum of the logits (synchronises). */
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
  const pool = args.pool ?? 8;
  const px = batch * inputShape[0] * inputShape[1] * inputShape[2];
  const xs = Array.from({ length: pool }, (_, i) =>
    tf.tensor4d(batchData(px, seed * 1000 + i + 1), [batch, ...inputShape]),
  );
  const ys = Array.from({ length: pool }, (_, i) => {
    const labels = Int32Array.from({ length: batch }, (_, j) => (j * 7 + i + seed) % numClasses);
    return tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), numClasses).toFloat());
  });
  let next = 0;
  const take = () => {
    const k = next++ % pool;
    return { x: xs[k], y: ys[k] };
  };
  return {
    trainStep(): number {
      const { x, y } = take();
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
      const { x } = take();
      const logits = tf.tidy(() => head.apply(net.apply(x, false)).sum());
      const v = logits.dataSync()[0];
      logits.dispose();
      return v;
    },
    dispose(): void {
      sgd.dispose();
      net.dispose();
      head.dispose();
      tf.dispose([...xs, ...ys]);
    },
  };
}
