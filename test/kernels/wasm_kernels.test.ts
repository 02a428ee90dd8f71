/**
 * The wasm kernel set (src/kernels/wasm) against the cpu backend's stock kernels: conv gradients, the
 * matmul transpose wrapper, leading-axes reductions, the FusedBatchNorm gradient and a tiny resnet-like
 * training step. Each case also checks that repeated calls leak neither tensors nor wasm heap entries.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KernelReport } from "../../src/kernels/index.js";
import { forceFilterGradStrategy } from "../../src/kernels/wasm/conv_backprop_filter.js";
import {
  convSetup,
  filterGradStrategy,
  inputGradStrategy,
  installWasmKernels,
  setColumnBudget,
  uninstallWasmKernels,
} from "../../src/kernels/wasm/index.js";
import { Rng } from "../../src/rng.js";

const report: KernelReport = { registered: {}, notes: [] };

beforeAll(async () => {
  await tf.setBackend("wasm");
  await tf.ready();
  installWasmKernels(report);
});

afterAll(() => uninstallWasmKernels());

/** Deterministic N(0,1) data. */
function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

type Inputs = Record<string, { data: Float32Array; shape: number[] }>;

/** Run `f` on `backend` with tensors made from `inputs`; returns the output values (tensors disposed). */
async function runOn(
  backend: string,
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const t: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(inputs)) t[k] = tf.tensor(v.data, v.shape);
      const out = f(t);
      return (Array.isArray(out) ? out : [out]).map((o) => o.dataSync() as Float32Array);
    });
  } finally {
    await tf.setBackend(prev);
  }
}

/** max |a-b| / max |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

function heapEntries(): number {
  return (tf.engine().backend as unknown as { numDataIds(): number }).numDataIds();
}

/** Compare wasm (our kernels) with cpu (stock), then check 3 more wasm runs leak nothing. */
async function compare(
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
  tol = 1e-4,
): Promise<void> {
  const want = await runOn("cpu", inputs, f);
  const got = await runOn("wasm", inputs, f);
  for (let i = 0; i < want.length; i++) expect(relErr(got[i], want[i])).toBeLessThan(tol);
  const before = tf.memory();
  const entries = heapEntries();
  for (let r = 0; r < 3; r++) await runOn("wasm", inputs, f);
  const after = tf.memory();
  expect(after.numTensors).toBe(before.numTensors);
  expect(after.numBytes).toBe(before.numBytes);
  expect(heapEntries()).toBe(entries);
}

it("registers the kernel set and reports it", () => {
  for (const k of ["Conv2DBackpropFilter", "Conv2DBackpropInput", "BatchMatMul", "_FusedMatMul", "Sum", "Mean"]) {
    expect(report.registered[k]).toBe("wasm-js");
    expect(tf.getKernel(k, "wasm")).toBeDefined();
  }
  expect(report.registered["FusedBatchNorm (gradient)"]).toBe("wasm-js");
  // a second install is a no-op apart from re-registration (no recursion through our own wrapper)
  installWasmKernels({ registered: {}, notes: [] });
  expect(tf.getBackend()).toBe("wasm");
});

interface ConvCase {
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: number | [number, number];
  pad: "same" | "valid" | number[][];
}

const CONV_CASES: ConvCase[] = [
  { x: [5, 7, 9, 3], k: 3, cout: 16, stride: 1, pad: "same" },
  { x: [1, 7, 9, 16], k: 3, cout: 16, stride: 1, pad: "same" },
  { x: [2, 8, 8, 16], k: 3, cout: 8, stride: 1, pad: "valid" },
  {
    x: [1, 7, 9, 16],
    k: 3,
    cout: 16,
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [5, 9, 7, 16], k: 3, cout: 8, stride: 2, pad: "same" },
  { x: [2, 9, 9, 16], k: 1, cout: 32, stride: 2, pad: "valid" },
  { x: [1, 7, 9, 16], k: 1, cout: 16, stride: 1, pad: "same" },
  { x: [1, 11, 13, 3], k: 7, cout: 16, stride: 2, pad: "same" },
  { x: [5, 7, 9, 1], k: 3, cout: 3, stride: 1, pad: "valid" },
  { x: [2, 8, 7, 3], k: 3, cout: 4, stride: [2, 1], pad: "valid" },
  { x: [1, 10, 9, 4], k: 3, cout: 5, stride: 2, pad: "valid" }, // convT needs a crop: (10-3) mod 2 = 1 row
  { x: [2, 8, 8, 16], k: 3, cout: 8, stride: 2, pad: "same" }, // even size, asymmetric 'same' (0 top, 1 bottom)
];

describe("conv gradients vs cpu", () => {
  const rng = new Rng(17);
  for (const c of CONV_CASES) {
    const fshape = [c.k, c.k, c.x[3], c.cout];
    const s = convSetup("test", c.x, fshape, { strides: c.stride, pad: c.pad });
    const dyShape = [c.x[0], s.outHeight, s.outWidth, c.cout];
    const label = `x=[${c.x}] ${c.k}x${c.k} cout=${c.cout} stride=${c.stride} pad=${JSON.stringify(c.pad)}`;
    const xData = randn(rng, tf.util.sizeFromShape(c.x));
    const fData = randn(rng, tf.util.sizeFromShape(fshape));
    const dyData = randn(rng, tf.util.sizeFromShape(dyShape));

    it(`Conv2DBackpropFilter (${filterGradStrategy(s)}) ${label}`, async () => {
      await compare(
        { x: { data: xData, shape: c.x }, dy: { data: dyData, shape: dyShape } },
        (t) =>
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropFilter",
              { x: t.x, dy: t.dy },
              { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape: fshape },
            ) as tf.Tensor,
      );
    });

    // the other strategy must be exact too (the choice is only about speed)
    const other = filterGradStrategy(s) === "convT" ? "im2col" : "convT";
    it(`Conv2DBackpropFilter forced ${other} ${label}`, async () => {
      forceFilterGradStrategy(other);
      try {
        await compare(
          { x: { data: xData, shape: c.x }, dy: { data: dyData, shape: dyShape } },
          (t) =>
            tf
              .engine()
              .runKernel(
                "Conv2DBackpropFilter",
                { x: t.x, dy: t.dy },
                { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape: fshape },
              ) as tf.Tensor,
        );
      } finally {
        forceFilterGradStrategy(null);
      }
    });

    it(`Conv2DBackpropInput (${inputGradStrategy(s)}) ${label}`, async () => {
      await compare(
        { f: { data: fData, shape: fshape }, dy: { data: dyData, shape: dyShape } },
        (t) =>
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropInput",
              { dy: t.dy, filter: t.f },
              { strides: c.stride, pad: c.pad, dataFormat: "NHWC", inputShape: c.x },
            ) as tf.Tensor,
      );
    });
  }

  it("slices big column matrices over the batch (tiny budget: one image per slice)", async () => {
    const prev = setColumnBudget(1);
    try {
      for (const c of CONV_CASES.filter((cc) => cc.x[0] > 1)) {
        const fshape = [c.k, c.k, c.x[3], c.cout];
        const s = convSetup("test", c.x, fshape, { strides: c.stride, pad: c.pad });
        const dyShape = [c.x[0], s.outHeight, s.outWidth, c.cout];
        const inputs: Inputs = {
          x: { data: randn(rng, tf.util.sizeFromShape(c.x)), shape: c.x },
          f: { data: randn(rng, tf.util.sizeFromShape(fshape)), shape: fshape },
          dy: { data: randn(rng, tf.util.sizeFromShape(dyShape)), shape: dyShape },
        };
        forceFilterGradStrategy("im2col");
        await compare(inputs, (t) => [
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropFilter",
              { x: t.x, dy: t.dy },
              { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape: fshape },
            ) as tf.Tensor,
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropInput",
              { dy: t.dy, filter: t.f },
              { strides: c.stride, pad: c.pad, dataFormat: "NHWC", inputShape: c.x },
            ) as tf.Tensor,
        ]);
      }
    } finally {
      forceFilterGradStrategy(null);
      setColumnBudget(prev);
    }
  });

  it("covers both strategies of each kernel", () => {
    const fs = new Set<string>();
    const is = new Set<string>();
    for (const c of CONV_CASES) {
      const s = convSetup("test", c.x, [c.k, c.k, c.x[3], c.cout], { strides: c.stride, pad: c.pad });
      fs.add(filterGradStrategy(s));
      is.add(inputGradStrategy(s));
    }
    expect([...fs].sort()).toEqual(["convT", "im2col"]);
    expect([...is].sort()).toEqual(["flippedConv", "gemmCol2im"]);
  });

  it("rejects NCHW with a clear message", () => {
    expect(() =>
      convSetup("Conv2DBackpropFilter", [1, 3, 5, 5], [3, 3, 3, 4], { strides: 1, pad: "same", dataFormat: "NCHW" }),
    ).toThrow(/dataFormat 'NCHW'.*NHWC/);
  });
});

describe("matmul wrapper vs cpu", () => {
  const rng = new Rng(5);
  const M = 7;
  const K = 13;
  const N = 5;
  const a = randn(rng, M * K);
  const b = randn(rng, K * N);
  const bias = randn(rng, N);
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const aShape = ta ? [K, M] : [M, K];
      const bShape = tb ? [N, K] : [K, N];
      it(`matMul transposeA=${ta} transposeB=${tb}`, async () => {
        await compare({ a: { data: a, shape: aShape }, b: { data: b, shape: bShape } }, (t) =>
          tf.matMul(t.a, t.b, ta, tb),
        );
      });
      it(`fused matMul + bias + relu transposeA=${ta} transposeB=${tb}`, async () => {
        await compare(
          { a: { data: a, shape: aShape }, b: { data: b, shape: bShape }, bias: { data: bias, shape: [N] } },
          (t) => tf.fused.matMul({ a: t.a, b: t.b, transposeA: ta, transposeB: tb, bias: t.bias, activation: "relu" }),
        );
      });
    }
  }
  it("batched (batch 3, rank 3) matMul passes through to the stock kernel", async () => {
    const a3 = randn(rng, 3 * M * K);
    const b3 = randn(rng, 3 * N * K);
    await compare({ a: { data: a3, shape: [3, M, K] }, b: { data: b3, shape: [3, N, K] } }, (t) =>
      tf.matMul(t.a, t.b, false, true),
    );
  });
  it("dense-layer gradients (transposed matmuls) match", async () => {
    await compare({ a: { data: a, shape: [M, K] }, b: { data: b, shape: [K, N] } }, (t) => {
      const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, w))));
      return g([t.a, t.b]);
    });
  });
});

describe("Sum / Mean over leading axes vs cpu", () => {
  const rng = new Rng(9);
  const shape = [5, 7, 9, 16];
  const x = randn(rng, tf.util.sizeFromShape(shape));
  const cases: [number | number[], boolean][] = [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[1, 2], false],
    [[1, 2], true],
    [0, false],
    [[-3, -2], false],
    [[2, 0, 1], false],
    [[0, 2], false], // not contiguous: stock
    [[3], false], // innermost: stock
  ];
  for (const [axis, keepDims] of cases) {
    it(`sum and mean axis=${JSON.stringify(axis)} keepDims=${keepDims}`, async () => {
      await compare({ x: { data: x, shape } }, (t) => [tf.sum(t.x, axis, keepDims), tf.mean(t.x, axis, keepDims)]);
      const shapes = tf.tidy(() => {
        const t = tf.tensor(x, shape);
        return [tf.sum(t, axis, keepDims).shape, tf.mean(t, axis, keepDims).shape];
      });
      await tf.setBackend("cpu");
      const want = tf.tidy(() => {
        const t = tf.tensor(x, shape);
        return [tf.sum(t, axis, keepDims).shape, tf.mean(t, axis, keepDims).shape];
      });
      await tf.setBackend("wasm");
      expect(shapes).toEqual(want);
    });
  }
});

/** Reference values on cpu with the stock kernels *and* the stock FusedBatchNorm gradient. */
async function stockCpu(
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  uninstallWasmKernels();
  try {
    return await runOn("cpu", inputs, f);
  } finally {
    installWasmKernels({ registered: {}, notes: [] });
  }
}

describe("FusedBatchNorm gradient", () => {
  const rng = new Rng(3);
  const shape = [4, 5, 7, 6];
  const x = randn(rng, tf.util.sizeFromShape(shape)).map((v) => 3 + 2 * v); // mean far from 0
  const w = randn(rng, tf.util.sizeFromShape(shape));
  const gamma = randn(rng, 6);
  const beta = randn(rng, 6);
  const inputs: Inputs = {
    x: { data: x, shape },
    w: { data: w, shape },
    gamma: { data: gamma, shape: [6] },
    beta: { data: beta, shape: [6] },
  };
  const step = (t: Record<string, tf.Tensor>) =>
    tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, b, g, 1e-3), t.w));
    })([t.x, t.gamma, t.beta]);

  it("matches the stock gradient (training-mode moments) on cpu and wasm", async () => {
    const want = await stockCpu(inputs, step);
    for (const backend of ["cpu", "wasm"]) {
      const got = await runOn(backend, inputs, step);
      for (let i = 0; i < want.length; i++) expect(relErr(got[i], want[i])).toBeLessThan(1e-4);
    }
    await compare(inputs, step); // leak check on wasm
  });

  // (an omitted scale or offset crashes tfjs-core's input saving on every backend, before any gradient
  // code runs; always pass both, see docs/ARCHITECTURE.md, "Kernels and the native layer")
  it("handles fixed (running) statistics", async () => {
    const fixed = (t: Record<string, tf.Tensor>) =>
      tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(xx, tf.fill([6], 2.5), tf.fill([6], 4), b, g, 1e-3), t.w)),
      )([t.x, t.gamma, t.beta]);
    const want = await stockCpu(inputs, fixed);
    const got = await runOn("wasm", inputs, fixed);
    for (let i = 0; i < want.length; i++) expect(relErr(got[i], want[i])).toBeLessThan(1e-4);
  });
});

describe("tiny resnet-like training step", () => {
  it("computes the same gradients on wasm as the stock cpu backend", async () => {
    const rng = new Rng(11);
    const shapes: Record<string, number[]> = {
      x: [4, 9, 9, 3],
      w1: [3, 3, 3, 16],
      g1: [16],
      b1: [16],
      w2: [3, 3, 16, 16],
      g2: [16],
      b2: [16],
      w3: [3, 3, 16, 32],
      wp: [1, 1, 16, 32],
      wd: [32, 10],
      bd: [10],
      y: [4, 10],
    };
    const inputs: Inputs = {};
    for (const [k, s] of Object.entries(shapes))
      inputs[k] = {
        data: randn(rng, tf.util.sizeFromShape(s)).map((v) => (k.startsWith("g") ? 1 + 0.1 * v : 0.3 * v)),
        shape: s,
      };
    inputs.y.data = inputs.y.data.map((_, i) => (i % 10 === (i / 10) % 10 ? 1 : 0));
    const params = ["w1", "g1", "b1", "w2", "g2", "b2", "w3", "wp", "wd", "bd"];
    const bn = (h: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      return tf.batchNorm(h, mean, variance, b, g, 1e-5);
    };
    const step = (t: Record<string, tf.Tensor>) =>
      tf.grads((...p: tf.Tensor[]) => {
        const [w1, g1, b1, w2, g2, b2, w3, wp, wd, bd] = p;
        const h1 = tf.relu(bn(tf.conv2d(t.x as tf.Tensor4D, w1 as tf.Tensor4D, 1, "same"), g1, b1)) as tf.Tensor4D;
        const h2 = tf.relu(tf.add(bn(tf.conv2d(h1, w2 as tf.Tensor4D, 1, "same"), g2, b2), h1)) as tf.Tensor4D;
        const h3 = tf.add(tf.conv2d(h2, w3 as tf.Tensor4D, 2, "same"), tf.conv2d(h2, wp as tf.Tensor4D, 2, "same"));
        const gap = tf.mean(tf.relu(h3), [1, 2]);
        const logits = tf.add(tf.matMul(gap, wd), bd);
        return tf.losses.softmaxCrossEntropy(t.y, logits);
      })(params.map((k) => t[k]));
    const want = await stockCpu(inputs, step);
    const got = await runOn("wasm", inputs, step);
    expect(got.length).toBe(params.length);
    for (let i = 0; i < want.length; i++) expect(relErr(got[i], want[i]), params[i]).toBeLessThan(1e-4);
    await compare(inputs, step);
  });
});
