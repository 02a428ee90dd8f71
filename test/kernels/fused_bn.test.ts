/**
 * The fused training-mode batch norm with its tail (src/models/batchnorm.ts `bnAct`, native/src/fused_bn.cc) against
 * autodiff through tf.moments + batchNorm + add + relu on the pure-JS cpu backend: values, batch statistics, all
 * gradients, the running statistics, a large mean offset (the shifted sums), NaN propagation, no leaked tensors.
 */

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { loadAddon } from "../../src/kernels/native/index.js";
import { BatchNorm2d, BN_EPS, type BnTail, bnAct } from "../../src/models/batchnorm.js";
import { ParamStore } from "../../src/models/params.js";
import { Rng } from "../../src/rng.js";

const loaded = loadAddon();
const suite = loaded.addon ? describe : describe.skip;
if (!loaded.addon) console.warn(`fused batch-norm tests skipped: ${loaded.reason}`);

function rand(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 1e-6;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

type Shape = [number, number, number, number];

/** y, mean, variance and the gradients wrt x, gamma, beta (and the residual) of sum(w * bn-tail(x)). */
function build(shape: Shape, seed: number, tail: { relu: boolean; residual: boolean }, offset = 0): tf.Tensor[] {
  const n = shape.reduce((p, q) => p * q, 1);
  const c = shape[3];
  const x = tf.tensor4d(rand(seed, n, -2 + offset, 3 + offset), shape);
  const gamma = tf.tensor1d(rand(seed + 1, c, 0.5, 1.5));
  const beta = tf.tensor1d(rand(seed + 2, c));
  const r = tf.tensor4d(rand(seed + 3, n), shape);
  const w = tf.tensor4d(rand(seed + 4, n), shape);
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, res?: tf.Tensor) => {
    const t: BnTail = { relu: tail.relu, residual: res as tf.Tensor4D | undefined };
    if (tf.getBackend() === "cpu") {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      let y = tf.batchNorm4d(
        a as tf.Tensor4D,
        mean as tf.Tensor1D,
        variance as tf.Tensor1D,
        b as tf.Tensor1D,
        g as tf.Tensor1D,
        1e-5,
      ) as tf.Tensor;
      if (res) y = tf.add(y, res);
      if (tail.relu) y = tf.relu(y);
      return { y, mean, variance };
    }
    return bnAct(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, t);
  };
  const args = tail.residual ? [x, gamma, beta, r] : [x, gamma, beta];
  const { y, mean, variance } = f(x, gamma, beta, tail.residual ? r : undefined);
  const grads = tf.grads((...a: tf.Tensor[]) => {
    const o = f(a[0], a[1], a[2], a[3]);
    tf.dispose([o.mean, o.variance]);
    return o.y.mul(w).sum();
  })(args);
  return [y, mean, variance, ...grads];
}

async function compare(
  shape: Shape,
  seed: number,
  tail: { relu: boolean; residual: boolean },
  offset = 0,
  tol = 5e-5,
): Promise<void> {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const got = tf
    .tidy(() => build(shape, seed, tail, offset))
    .map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
  expect(tf.memory().numTensors).toBe(before);
  await tf.setBackend("cpu");
  const want = tf
    .tidy(() => build(shape, seed, tail, offset))
    .map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
  await tf.setBackend("wasm");
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(relErr(g, want[i]), `output ${i}`).toBeLessThan(tol));
}

suite("fused batch norm + residual + ReLU (bnAct) vs autodiff on the cpu backend", () => {
  beforeAll(async () => {
    const info = await initBackend("wasm");
    expect(info.kernels.registered["BatchNorm (training mode)"]).toBe("native-omp");
  });

  const tails = [
    { relu: false, residual: false },
    { relu: true, residual: false },
    { relu: true, residual: true },
    { relu: false, residual: true },
  ];
  const shapes: Shape[] = [
    [8, 5, 7, 12],
    [3, 4, 4, 1],
    [2, 9, 3, 37],
  ];
  for (const [i, tail] of tails.entries()) {
    for (const [j, shape] of shapes.entries()) {
      it(`relu ${tail.relu}, residual ${tail.residual}, x ${shape}`, async () => {
        await compare(shape, 200 + 10 * i + j, tail);
      });
    }
  }

  it("statistics stay accurate when the mean is far larger than the spread (shifted sums)", async () => {
    await compare([4, 6, 6, 8], 260, { relu: true, residual: false }, 1000, 2e-4);
  });

  it("BatchNorm2d.apply updates the running statistics as PyTorch does (native kernel = JS formula)", async () => {
    const run = async (backend: "wasm" | "cpu") => {
      await tf.setBackend(backend);
      const store = new ParamStore("bn-test", 0);
      const bn = new BatchNorm2d(store, "bn", 6);
      const x = tf.tensor4d(rand(270, 4 * 5 * 5 * 6, -1, 4), [4, 5, 5, 6]);
      const r = tf.tensor4d(rand(271, 4 * 5 * 5 * 6), [4, 5, 5, 6]);
      tf.tidy(() => bn.apply(x, true, { relu: true, residual: r }));
      tf.tidy(() => bn.apply(x, true));
      const out = [bn.runningMean.dataSync() as Float32Array, bn.runningVar.dataSync() as Float32Array];
      tf.dispose([x, r]);
      store.dispose();
      return out;
    };
    const got = await run("wasm");
    const want = await run("cpu");
    await tf.setBackend("wasm");
    expect(relErr(got[0], want[0])).toBeLessThan(1e-5);
    expect(relErr(got[1], want[1])).toBeLessThan(1e-5);
  });

  it("inference mode: bn + residual + ReLU in one kernel equals FusedBatchNorm, Add and Relu bit for bit", async () => {
    await tf.setBackend("wasm");
    const store = new ParamStore("bn-eval-test", 0);
    const bn = new BatchNorm2d(store, "bn", 7);
    const shape: Shape = [3, 5, 4, 7];
    const n = shape.reduce((p, q) => p * q, 1);
    // Running statistics away from 0/1 and gamma/beta away from 1/0, so every term of the formula matters.
    tf.tidy(() => bn.apply(tf.tensor4d(rand(290, n, -3, 5), shape), true));
    bn.gamma.assign(tf.tensor1d(rand(291, 7, 0.5, 1.5)));
    bn.beta.assign(tf.tensor1d(rand(292, 7)));
    const xv = rand(295, n, -2, 2);
    xv[11] = NaN;
    const x = tf.tensor4d(xv, shape);
    const r = tf.tensor4d(rand(296, n), shape);
    const before = tf.memory().numTensors;
    for (const tail of [{}, { relu: true }, { residual: r }, { relu: true, residual: r }] as BnTail[]) {
      const fused = tf.tidy(() => bn.apply(x, false, tail));
      // The three separate ops, as the eval path runs them where a gradient is recorded.
      const separate = tf.tidy(() => {
        let y: tf.Tensor = tf.batchNorm4d(
          x,
          bn.runningMean as tf.Tensor1D,
          bn.runningVar as tf.Tensor1D,
          bn.beta as tf.Tensor1D,
          bn.gamma as tf.Tensor1D,
          BN_EPS,
        );
        if (tail.residual) y = tf.add(y, tail.residual);
        return tail.relu ? tf.relu(y) : y;
      });
      const [a, b] = [fused.dataSync() as Float32Array, separate.dataSync() as Float32Array];
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), JSON.stringify(tail)).toBe(true);
      expect(Number.isNaN(a[11])).toBe(true);
      tf.dispose([fused, separate]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r]);
    store.dispose();
  });

  it("NaN in x makes y and every gradient NaN (a diverged step stays visible)", async () => {
    await tf.setBackend("wasm");
    const shape: Shape = [2, 3, 3, 4];
    const xv = rand(280, 72);
    xv[5] = NaN;
    const [y, dx, dg] = tf
      .tidy(() => {
        const x = tf.tensor4d(xv, shape);
        const g = tf.ones([4]) as tf.Tensor1D;
        const b = tf.zeros([4]) as tf.Tensor1D;
        const o = bnAct(x, g, b, 1e-5, { relu: true });
        tf.dispose([o.mean, o.variance]);
        const grads = tf.grads((a: tf.Tensor, s: tf.Tensor) => {
          const q = bnAct(a as tf.Tensor4D, s as tf.Tensor1D, b, 1e-5, { relu: true });
          tf.dispose([q.mean, q.variance]);
          return q.y.sum();
        })([x, g]);
        return [o.y, ...grads];
      })
      .map((t) => {
        const v = t.dataSync() as Float32Array;
        t.dispose();
        return v;
      });
    // Channel 1 (element 5 lies in it) has a NaN mean: all of its outputs and its gradients are NaN.
    expect(Number.isNaN(y[5])).toBe(true);
    expect(Number.isNaN(y[1])).toBe(true);
    expect(Number.isNaN(dg[1])).toBe(true);
    expect(dx.some((v) => Number.isNaN(v))).toBe(true);
  });
});
