/**
 * The inference convolution with its batch norm in the stores (`LtrConvBnEval`, src/kernels/native/conv_bn.ts,
 * native/src/conv_own.cc) against the two kernels it replaces, Conv2D then LtrBnEval: bit for bit, on the direct and
 * the Winograd path, channel tails, strides, the padded stem, with and without residual and ReLU, NaN and signed
 * zeros; then whole backbones in eval mode with and without the fused kernel; no leaked tensors.
 */

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { BN_EVAL_KERNEL } from "../../src/kernels/native/batchnorm.js";
import { CONV_BN_EVAL_KERNEL } from "../../src/kernels/native/conv_bn.js";
import { loadAddon } from "../../src/kernels/native/index.js";
import { BN_EPS } from "../../src/models/batchnorm.js";
import { backbones } from "../../src/models/index.js";
import { Rng } from "../../src/rng.js";

const loaded = loadAddon();
const suite = loaded.addon ? describe : describe.skip;
if (!loaded.addon) console.warn(`fused conv + batch-norm tests skipped: ${loaded.reason}`);

function rand(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** The float32 bit patterns (so NaN equals NaN and -0 differs from +0). */
function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array((t.dataSync() as Float32Array).slice().buffer);
}

interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  outC: number;
  stride: number;
  pad: "valid" | "same" | number;
}

const CASES: Case[] = [
  { name: "1x1, channel tail (direct)", x: [2, 5, 7, 24], k: 1, outC: 40, stride: 1, pad: "valid" },
  { name: "1x1 stride 2 (projection shortcut)", x: [2, 8, 8, 16], k: 1, outC: 32, stride: 2, pad: "valid" },
  { name: "3x3 stride 1 (Winograd)", x: [2, 9, 11, 16], k: 3, outC: 24, stride: 1, pad: "same" },
  { name: "3x3 stride 1, odd channels (Winograd)", x: [1, 6, 6, 8], k: 3, outC: 13, stride: 1, pad: "same" },
  { name: "3x3 stride 1, few channels (direct)", x: [2, 7, 7, 4], k: 3, outC: 20, stride: 1, pad: "same" },
  { name: "3x3 stride 2", x: [2, 10, 10, 16], k: 3, outC: 32, stride: 2, pad: 1 },
  { name: "7x7 stride 2 stem (padded copy)", x: [1, 17, 17, 3], k: 7, outC: 20, stride: 2, pad: 3 },
];

function inputs(c: Case, seed: number, residual: boolean) {
  const [n, h, w, cin] = c.x;
  const x = rand(seed, n * h * w * cin, -2, 2);
  x[3] = Number.NaN; // NaN reaches its outputs on both paths alike
  const filter = tf.tensor4d(rand(seed + 1, c.k * c.k * cin * c.outC), [c.k, c.k, cin, c.outC]);
  const xt = tf.tensor4d(x, c.x);
  const mean = tf.tensor1d(rand(seed + 2, c.outC));
  const variance = tf.tensor1d(rand(seed + 3, c.outC, 0.1, 2));
  // Some zero scales with zero offsets give signed zeros after the ReLU.
  const g = rand(seed + 4, c.outC, 0.5, 1.5);
  const o = rand(seed + 5, c.outC);
  g[1] = 0;
  o[1] = 0;
  const scale = tf.tensor1d(g);
  const offset = tf.tensor1d(o);
  const conv = tf.conv2d(xt, filter, c.stride, c.pad);
  const res = residual ? tf.tensor4d(rand(seed + 6, conv.size), conv.shape) : undefined;
  conv.dispose();
  return { x: xt, filter, mean, variance, offset, scale, residual: res };
}

function separate(a: ReturnType<typeof inputs>, c: Case, relu: boolean): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.conv2d(a.x, a.filter, c.stride, c.pad);
    const bn: tf.NamedTensorMap = { x: y, mean: a.mean, variance: a.variance, offset: a.offset, scale: a.scale };
    if (a.residual) bn.residual = a.residual;
    return tf.engine().runKernel(BN_EVAL_KERNEL, bn, { relu, varianceEpsilon: BN_EPS }) as tf.Tensor;
  });
}

function fused(a: ReturnType<typeof inputs>, c: Case, relu: boolean): tf.Tensor {
  const ins: tf.NamedTensorMap = {
    x: a.x,
    filter: a.filter,
    mean: a.mean,
    variance: a.variance,
    offset: a.offset,
    scale: a.scale,
  };
  if (a.residual) ins.residual = a.residual;
  return tf
    .engine()
    .runKernel(CONV_BN_EVAL_KERNEL, ins, { strides: c.stride, pad: c.pad, relu, varianceEpsilon: BN_EPS }) as tf.Tensor;
}

/** Runs `f` with the fused kernel unregistered, so the model takes the separate ops. */
function withoutFusedKernel<T>(f: () => T): T {
  const cfg = tf.getKernel(CONV_BN_EVAL_KERNEL, "wasm");
  if (!cfg) throw new Error(`${CONV_BN_EVAL_KERNEL} is not registered`);
  tf.unregisterKernel(CONV_BN_EVAL_KERNEL, "wasm");
  try {
    return f();
  } finally {
    tf.registerKernel(cfg);
  }
}

suite("LtrConvBnEval: conv + inference batch norm in one pass", () => {
  beforeAll(async () => {
    const info = await initBackend("wasm");
    expect(info.kernels.registered[CONV_BN_EVAL_KERNEL]).toBe("native-own");
  });

  for (const c of CASES) {
    for (const [residual, relu] of [
      [false, false],
      [false, true],
      [true, true],
      [true, false],
    ] as const) {
      it(`${c.name}, residual ${residual}, relu ${relu}: bit-identical to Conv2D then LtrBnEval`, () => {
        const before = tf.memory().numTensors;
        const a = inputs(c, 17 + c.k * 3 + c.outC, residual);
        const want = separate(a, c, relu);
        const got = fused(a, c, relu);
        expect(got.shape).toEqual(want.shape);
        const gb = bits(got);
        const wb = bits(want);
        expect(gb.length).toBe(wb.length);
        let diff = 0;
        for (let i = 0; i < gb.length; i++) if (gb[i] !== wb[i]) diff++;
        expect(diff).toBe(0);
        // The case really exercises NaN, and the ReLU really clamps.
        const v = got.dataSync();
        expect(v.some((t) => Number.isNaN(t))).toBe(true);
        if (relu) expect(v.some((t) => t === 0)).toBe(true);
        tf.dispose([got, want, ...Object.values(a).filter((t) => t !== undefined)]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it("refuses a residual whose shape is not the convolution's output", () => {
    const c = CASES[0];
    const a = inputs(c, 5, false);
    const wrong = tf.zeros([2, 5, 7, 8]);
    const attrs = { strides: 1, pad: "valid", relu: true, varianceEpsilon: BN_EPS };
    const ins = { ...a, residual: wrong } as unknown as tf.NamedTensorMap;
    const call = () => tf.engine().runKernel(CONV_BN_EVAL_KERNEL, ins, attrs);
    expect(call).toThrow(/residual has shape \[2,5,7,8\], the convolution's output \[2,5,7,40\]/);
    tf.dispose([wrong, ...Object.values(a).filter((t) => t !== undefined)]);
  });

  for (const [name, shape] of [
    ["resnet8", [3, 28, 28, 1]],
    ["resnet10", [2, 40, 40, 3]],
    ["resnext50", [1, 64, 64, 3]],
  ] as const) {
    it(`${name} in eval mode: the same features with and without the fused kernel, and it is used`, () => {
      const m = backbones.get(name)({ inputShape: shape.slice(1) as [number, number, number], seed: 3 });
      // Non-trivial statistics, scales and offsets, so that every step of the fold matters.
      const vars = [...m.buffers(), ...m.trainable()];
      let seed = 100;
      const set = (v: tf.Variable, lo: number, hi: number) =>
        v.assign(tf.tensor(rand(seed++, v.size, lo, hi), v.shape));
      for (const [key, v] of vars) {
        if (key.endsWith("running_mean") || (key.endsWith(".bias") && !key.startsWith("fc"))) set(v, -0.2, 0.2);
        if (key.endsWith("running_var") || (key.endsWith(".weight") && v.rank === 1)) set(v, 0.5, 2);
      }
      expect(vars.filter(([key]) => key.endsWith("running_var")).length).toBeGreaterThan(5);
      const size = (shape as readonly number[]).reduce((p, q) => p * q, 1);
      const x = tf.tensor4d(rand(9, size), [...shape]);
      const before = tf.memory().numTensors;
      const calls: string[] = [];
      const seen = tf.engine().runKernel.bind(tf.engine());
      const spy = (k: string, i: tf.NamedTensorMap, at?: tf.NamedAttrMap) => {
        calls.push(k);
        return seen(k, i, at);
      };
      (tf.engine() as unknown as { runKernel: typeof spy }).runKernel = spy;
      let got: tf.Tensor;
      try {
        got = m.apply(x, false);
      } finally {
        (tf.engine() as unknown as { runKernel: typeof seen }).runKernel = seen;
      }
      const want = withoutFusedKernel(() => m.apply(x, false));
      expect(calls.filter((k) => k === CONV_BN_EVAL_KERNEL).length).toBeGreaterThan(0);
      expect(Array.from(bits(got))).toEqual(Array.from(bits(want)));
      tf.dispose([got, want]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      m.dispose();
    });
  }
});
