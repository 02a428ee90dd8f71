/**
 * The optimizer's fused native step (`LtrSgdStep`, src/kernels/native/sgd.ts) against its own tfjs-ops path on the
 * same wasm backend: parameters and momentum buffers bit-identical after several steps, with and without weight decay
 * and momentum, a buffer left untouched without momentum, no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { loadAddon } from "../../src/kernels/native/index.js";
import { installSgdKernel, SGD_STEP_KERNEL } from "../../src/kernels/native/sgd.js";
import type { NamedVariables } from "../../src/models/types.js";
import { Rng } from "../../src/rng.js";
import { Sgd } from "../../src/train/sgd.js";

const loaded = loadAddon();
const suite = loaded.addon ? describe : describe.skip;
if (!loaded.addon) console.warn(`fused SGD tests skipped: ${loaded.reason}`);

let uid = 0;

function rand(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-2, 2));
}

/** Runs `steps` steps from fixed values and returns [params..., buffers...] as arrays; frees everything. */
function run(steps: number, momentum: number, weightDecay: number): Float32Array[] {
  const rng = new Rng(7);
  const sizes = [5, 3000, 70000]; // below and above the kernel's parallel threshold
  const params: tf.Variable[] = sizes.map((n) =>
    tf.tidy(() => tf.variable(tf.tensor1d(rand(rng, n)), true, `sgdfused/${uid++}`)),
  );
  const named: NamedVariables = new Map(params.map((p, i) => [`w${i}`, p]));
  const opt = new Sgd([{ name: "g", params: named, args: { lr: 0.05, momentum, weightDecay } }]);
  for (let s = 0; s < steps; s++) {
    const grads: Record<string, tf.Tensor> = {};
    for (const p of params) grads[p.name] = tf.tensor1d(rand(rng, p.size));
    opt.setLr("g", 0.05 / (s + 1));
    opt.step(grads);
    tf.dispose(Object.values(grads));
  }
  const out = [
    ...params.map((p) => p.dataSync() as Float32Array),
    ...[...opt.state().values()].map((b) => b.dataSync() as Float32Array),
  ];
  opt.dispose();
  tf.dispose(params);
  return out;
}

suite("Sgd fused native step", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  for (const [momentum, wd] of [
    [0.9, 5e-4],
    [0.9, 0],
    [0, 5e-4],
  ] as const) {
    it(`equals the tfjs-ops step bit for bit (momentum ${momentum}, weight decay ${wd})`, () => {
      expect(tf.getKernel(SGD_STEP_KERNEL, "wasm")).toBeDefined();
      const before = tf.memory().numTensors;
      const fused = run(4, momentum, wd);
      expect(tf.memory().numTensors).toBe(before);
      tf.unregisterKernel(SGD_STEP_KERNEL, "wasm");
      let ops: Float32Array[];
      try {
        ops = run(4, momentum, wd);
      } finally {
        installSgdKernel(loaded.addon!, { registered: {}, notes: [] });
      }
      expect(tf.getKernel(SGD_STEP_KERNEL, "wasm")).toBeDefined();
      expect(fused.length).toBe(ops.length);
      fused.forEach((f, i) => expect(Buffer.from(f.buffer).equals(Buffer.from(ops[i].buffer))).toBe(true));
      if (momentum === 0) for (const b of fused.slice(3)) expect(b.every((x) => x === 0)).toBe(true);
    });
  }
});
