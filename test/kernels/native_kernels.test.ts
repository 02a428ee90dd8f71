/**
 * Native kernel layer (src/kernels/native): each kernel on wasm+native against the pure-JS cpu backend on random
 * shapes (strides, padding, odd sizes, broadcasts), no tensor leaks, and tensors placed above 2 GiB on the wasm heap.
 * Skipped with a message when the addon is not built (`npm run build:native`).
 */

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { batchNormTrain } from "../../src/models/batchnorm.js";
import { Rng } from "../../src/rng.js";
import { nativeSuite } from "../helpers/native.js";

const suite = nativeSuite("native kernel tests");

type Build = () => tf.Tensor | tf.Tensor[];

/** Run `build` on a backend and return every output as a plain array (inputs re-created per backend). */
async function on(backend: "wasm" | "cpu", build: Build): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = build();
    return Array.isArray(r) ? r : [r];
  });
  const vals = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return vals;
}

function rand(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

function size(s: number[]): number {
  return s.reduce((p, q) => p * q, 1);
}

/** Max |a-b| relative to max |b| (the scale of the reference). */
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

/** Compare wasm+native with cpu on the same build function; also assert that wasm leaks no tensors. */
async function same(build: Build, tol = 2e-5): Promise<void> {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const got = await on("wasm", build);
  await tf.setBackend("wasm");
  expect(tf.memory().numTensors).toBe(before);
  const want = await on("cpu", build);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) expect(relErr(got[i], want[i]), `output ${i}`).toBeLessThan(tol);
}

/** Every output of a NaN-containing input must contain NaN exactly where the cpu backend has it. */
async function setAndCheckNaN(xv: Float32Array): Promise<void> {
  const build = () => {
    const x = tf.tensor2d(xv, [60, 100]);
    const z = tf.zerosLike(x);
    return [
      tf.relu(x),
      tf.relu6(x),
      tf.maximum(x, z),
      tf.minimum(x, z),
      x.max(0),
      x.min(1),
      x.max(),
      x.sum(0),
      tf.grad((a: tf.Tensor) => tf.relu(a).sum())(x),
    ];
  };
  const got = await on("wasm", build);
  const want = await on("cpu", build);
  got.forEach((g, i) => {
    for (let k = 0; k < g.length; k++) expect(Number.isNaN(g[k])).toBe(Number.isNaN(want[i][k]));
  });
}

suite("native kernels vs cpu backend", () => {
  beforeAll(async () => {
    const info = await initBackend("wasm");
    expect(info.kernels.registered.Conv2D).toBe(
      info.kernels.native?.numerics === "fast" ? "native-dnnl" : "native-own",
    );
    expect(info.kernels.registered.BatchMatMul).toBe("native-openblas");
  });

  const convCases: Array<{
    x: number[];
    f: number[];
    s: number | [number, number];
    pad: "same" | "valid";
    d?: number;
  }> = [
    { x: [2, 7, 9, 3], f: [3, 3, 3, 5], s: 1, pad: "same" },
    { x: [3, 8, 8, 4], f: [3, 3, 4, 6], s: 2, pad: "same" },
    { x: [2, 9, 7, 5], f: [3, 2, 5, 4], s: [2, 1], pad: "valid" },
    { x: [2, 10, 10, 4], f: [1, 1, 4, 8], s: 2, pad: "same" },
    { x: [2, 10, 10, 4], f: [1, 1, 4, 8], s: 2, pad: "valid" },
    { x: [1, 11, 6, 2], f: [5, 3, 2, 3], s: 3, pad: "same" },
    // ResNet-sized channel counts select oneDNN's AVX-512 kernels.
    { x: [4, 14, 14, 16], f: [3, 3, 16, 32], s: 2, pad: "same" },
    { x: [4, 14, 14, 16], f: [1, 1, 16, 32], s: 2, pad: "same" },
    { x: [4, 7, 7, 32], f: [3, 3, 32, 32], s: 1, pad: "same" },
  ];
  for (const [i, c] of convCases.entries()) {
    it(`conv2d forward + both gradients, case ${i} (x ${c.x}, f ${c.f}, s ${c.s}, ${c.pad}${c.d ? `, dilation ${c.d}` : ""})`, async () => {
      const xv = rand(10 + i, size(c.x));
      const fv = rand(20 + i, size(c.f));
      await same(() => {
        const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
        const f = tf.tensor4d(fv, c.f as [number, number, number, number]);
        const fn = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, "NHWC", c.d ?? 1);
        const y = fn(x, f);
        // A non-uniform upstream gradient so every position matters.
        const w = tf.tensor(rand(30 + i, y.size), y.shape);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => fn(a, b).mul(w).sum())([x, f]);
        return [y, ...g];
      }, 1e-5);
    });
  }

  it("dilated conv2d forward (tfjs has no dilated conv gradient)", async () => {
    const xv = rand(25, 2 * 9 * 9 * 3);
    const fv = rand(26, 3 * 3 * 3 * 2);
    await same(
      () => tf.conv2d(tf.tensor4d(xv, [2, 9, 9, 3]), tf.tensor4d(fv, [3, 3, 3, 2]), 1, "same", "NHWC", 2),
      1e-5,
    );
  });

  it("matMul with transposes, batches and batch broadcast; fused bias + relu", async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[4, 5, 7], [4, 7, 6], false, false],
      [[4, 5, 7], [1, 6, 7], false, true],
    ];
    for (const [k, [as, bs, ta, tb]] of cases.entries()) {
      const av = rand(40 + k, size(as));
      const bv = rand(50 + k, size(bs));
      await same(() => tf.matMul(tf.tensor(av, as), tf.tensor(bv, bs), ta, tb));
    }
    const av = rand(60, 33 * 17);
    const bv = rand(61, 17 * 9);
    const cv = rand(62, 9);
    await same(() => {
      const a = tf.tensor2d(av, [33, 17]);
      const b = tf.tensor2d(bv, [17, 9]);
      const bias = tf.tensor1d(cv);
      const y = tf.fused.matMul({ a, b, bias, activation: "relu" });
      const g = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf
          .matMul(p as tf.Tensor2D, q as tf.Tensor2D)
          .square()
          .sum(),
      )([a, b]);
      return [y, ...g];
    });
  });

  it("element-wise binary ops over the supported broadcasts", async () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [4, 9, 9, 17],
        [4, 9, 9, 17],
      ],
      [[4, 9, 9, 17], [17]],
      [
        [4, 9, 9, 17],
        [1, 1, 1, 17],
      ],
      [
        [300, 21],
        [300, 1],
      ],
      [[300, 21], []],
      [[17], [4, 9, 9, 17]],
      [[], [300, 21]],
    ];
    for (const [k, [as, bs]] of shapes.entries()) {
      const av = rand(70 + k, size(as), 0.5, 2);
      const bv = rand(80 + k, size(bs), 0.5, 2);
      await same(() => {
        const a = tf.tensor(av, as);
        const b = tf.tensor(bv, bs);
        return [
          tf.add(a, b),
          tf.sub(a, b),
          tf.mul(a, b),
          tf.div(a, b),
          tf.squaredDifference(a, b),
          tf.maximum(a, b),
          tf.minimum(a, b),
          tf.pow(a, b),
        ];
      });
    }
  });

  it("element-wise unary ops", async () => {
    const xv = rand(90, 5000, -3, 3);
    const pv = rand(91, 5000, 0.1, 3);
    await same(() => {
      const x = tf.tensor1d(xv);
      const p = tf.tensor1d(pv);
      return [
        tf.abs(x),
        tf.norm(x),
        tf.relu(x),
        tf.step(x, 0.25),
        tf.neg(x),
        tf.square(x),
        tf.rsqrt(p),
        tf.sqrt(p),
        tf.exp(x),
        tf.log(p),
        tf.relu6(x.mul(3)),
      ];
    }, 1e-5);
  });

  it("reductions over contiguous axis blocks, with and without keepDims", async () => {
    const shape = [6, 7, 9, 13];
    const xv = rand(100, size(shape));
    await same(() => {
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      return [
        x.argMax(-1).toFloat(),
        x
          .reshape([6 * 7 * 9, 13])
          .argMax(1)
          .toFloat(),
        x.argMax(1).toFloat(),
        x.sum([0, 1, 2]),
        x.mean([0, 1, 2], true),
        x.sum(-1),
        x.mean([1, 2]),
        x.max([0, 1, 2]),
        x.min(3),
        x.sum([2, 3], true),
      ];
    });
  });

  it("batch norm forward and gradient (moments + batchNorm, per-channel), training-mode step", async () => {
    const shape = [8, 5, 7, 12];
    const xv = rand(110, size(shape), -2, 3);
    const gv = rand(111, 12, 0.5, 1.5);
    const bv = rand(112, 12);
    const wv = rand(113, size(shape));
    await same(() => {
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const gamma = tf.tensor1d(gv);
      const beta = tf.tensor1d(bv);
      const w = tf.tensor4d(wv, shape as [number, number, number, number]);
      const f = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf
          .batchNorm(a as tf.Tensor4D, mean, variance, o as tf.Tensor1D, s as tf.Tensor1D, 1e-5)
          .relu()
          .mul(w)
          .sum();
      };
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
      return [y, ...tf.grads(f)([x, gamma, beta])];
    }, 5e-5);
  });

  for (const shape of [
    [8, 5, 7, 12],
    [3, 4, 4, 1],
    [2, 9, 3, 37],
  ]) {
    it(`training-mode batch norm (native statistics + closed-form gradient) equals autodiff through tf.moments, x ${shape}`, async () => {
      const c = shape[3];
      const xv = rand(170 + c, size(shape), -2, 3);
      const gv = rand(171 + c, c, 0.5, 1.5);
      const bv = rand(172 + c, c);
      const wv = rand(173 + c, size(shape));
      await same(() => {
        const x = tf.tensor4d(xv, shape as [number, number, number, number]);
        const gamma = tf.tensor1d(gv);
        const beta = tf.tensor1d(bv);
        const w = tf.tensor4d(wv, shape as [number, number, number, number]);
        // cpu: the reference (autodiff through the statistics); wasm: the fused op and its helper kernels.
        const bn = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
          if (tf.getBackend() === "cpu") {
            const { mean, variance } = tf.moments(a, [0, 1, 2]);
            return {
              y: tf.batchNorm4d(
                a as tf.Tensor4D,
                mean as tf.Tensor1D,
                variance as tf.Tensor1D,
                o as tf.Tensor1D,
                s as tf.Tensor1D,
                1e-5,
              ),
              mean,
              variance,
            };
          }
          return batchNormTrain(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D, 1e-5);
        };
        const { y, mean, variance } = bn(x, gamma, beta);
        const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
          const r = bn(a, s, o);
          tf.dispose([r.mean, r.variance]); // batchNormTrain keeps them for the caller
          return r.y.relu().mul(w).sum();
        })([x, gamma, beta]);
        return [y, mean, variance, ...grads];
      }, 5e-5);
    });
  }

  it("gradient overrides: relu, mean, sum, square, squaredDifference (broadcast both ways)", async () => {
    const shape = [4, 6, 5, 32];
    const xv = rand(140, size(shape), -1, 1);
    const mv = rand(141, 32);
    const wv = rand(142, size(shape));
    await same(() => {
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const m = tf.tensor1d(mv);
      const w = tf.tensor4d(wv, shape as [number, number, number, number]);
      // tfjs 4.22's own SquaredDifference gradient does not reduce over broadcast axes (it throws a shape error),
      // so the cpu reference uses the equivalent square(a - b); on wasm the native override is exercised.
      const sqd = (p: tf.Tensor, q: tf.Tensor) =>
        tf.getBackend() === "cpu" ? tf.square(tf.sub(p, q)) : tf.squaredDifference(p, q);
      const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => sqd(a, b).mul(w).sum())([x, m]);
      const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor) => sqd(b, a).mul(w).sum())([x, m]);
      const g3 = tf.grad((a: tf.Tensor) => tf.relu(a).mul(w).sum())(x);
      const g4 = tf.grad((a: tf.Tensor) => tf.mean(a.mul(w), [0, 1, 2]).mul(m).sum())(x);
      const g5 = tf.grad((a: tf.Tensor) => tf.sum(a.mul(w), [1, 2], true).sum())(x);
      const g6 = tf.grad((a: tf.Tensor) => tf.square(a).mul(w).sum())(x);
      return [...g1, ...g2, g3, g4, g5, g6];
    });
  });

  it("global average pool gradient (mean over H, W): the bits of tfjs's own gradient, no leaks", async () => {
    const shape: [number, number, number, number] = [3, 7, 5, 13];
    const dyv = rand(143, 3 * 13, -3, 3);
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const build = () =>
      tf.grad((a: tf.Tensor) =>
        tf
          .mean(a, [1, 2])
          .mul(tf.tensor2d(dyv, [3, 13]))
          .sum(),
      )(tf.zeros(shape));
    const got = await on("wasm", build);
    expect(tf.memory().numTensors).toBe(before);
    const want = await on("cpu", build);
    expect(Buffer.from(got[0].buffer).equals(Buffer.from(want[0].buffer))).toBe(true);
    // dy / (H·W), correctly rounded (a float32 dy · (1/(H·W)) differs from it in the last bit for some dy).
    for (let i = 0; i < 3; i++)
      for (let p = 0; p < 35; p++)
        for (let k = 0; k < 13; k++) expect(got[0][(i * 35 + p) * 13 + k]).toBe(Math.fround(dyv[i * 13 + k] / 35));
  });

  it("NaN propagates through relu, its gradient, max/min and reductions (diverged losses stay NaN)", async () => {
    const xv = rand(160, 6000, -1, 1);
    xv[17] = NaN;
    xv[4000] = NaN;
    await setAndCheckNaN(xv);
  });

  it("unsortedSegmentSum over rows (ids out of range dropped)", async () => {
    const xv = rand(150, 300 * 70);
    const ids = Int32Array.from({ length: 300 }, (_, i) => ((i * 37) % 23) - 1);
    await same(() => [tf.unsortedSegmentSum(tf.tensor2d(xv, [300, 70]), tf.tensor1d(ids, "int32"), 21)]);
  });

  it("unsupported inputs fall back to the previous kernel (int32, non-contiguous axes)", async () => {
    await same(() => [
      tf.add(tf.tensor1d([1, 2, 3], "int32"), tf.tensor1d([4, 5, 6], "int32")).toFloat(),
      tf.tensor3d(rand(120, 40 * 30 * 20), [40, 30, 20]).sum([0, 2]),
    ]);
  });

  it("works on tensors above 2 GiB of the wasm heap (stays under the 4 GiB limit)", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    // 2.25 GiB filler via the in-heap Fill kernel, then small ops whose buffers sit above it.
    const filler = tf.fill([9, 1 << 26], 1);
    const a = tf.tensor2d(rand(130, 64 * 48), [64, 48]);
    const b = tf.tensor2d(rand(131, 48 * 80), [48, 80]);
    const got = tf
      .tidy(() => [tf.matMul(a, b, false, false), tf.matMul(a, b).sum(0), tf.relu(tf.matMul(a, b))])
      .map((t) => {
        const v = t.dataSync() as Float32Array;
        t.dispose();
        return v;
      });
    const av = a.dataSync();
    const bv = b.dataSync();
    tf.dispose([filler, a, b]);
    expect(tf.memory().numTensors).toBe(before);
    // Reference in plain JS.
    const ref = new Float32Array(64 * 80);
    for (let i = 0; i < 64; i++)
      for (let j = 0; j < 80; j++) {
        let s = 0;
        for (let k = 0; k < 48; k++) s += av[i * 48 + k] * bv[k * 80 + j];
        ref[i * 80 + j] = s;
      }
    expect(relErr(got[0], ref)).toBeLessThan(1e-5);
    expect(
      relErr(
        got[2],
        ref.map((v) => Math.max(v, 0)),
      ),
    ).toBeLessThan(1e-5);
  });
});

describe("native kernel layer without the addon", () => {
  it("LTR_NATIVE=0 leaves the wasm kernels and records a one-line note", async () => {
    const { spawnSync } = await import("node:child_process");
    const script =
      'import { initBackend } from "./src/backend.ts"; const i = await initBackend("wasm"); ' +
      "console.log(JSON.stringify(i.kernels));";
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, LTR_NATIVE: "0" },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const k = JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]) as {
      registered: Record<string, string>;
      notes: string[];
    };
    expect(Object.values(k.registered)).not.toContain("native-dnnl");
    expect(k.notes.some((n) => n.startsWith("native kernel layer skipped: disabled by LTR_NATIVE=0"))).toBe(true);
  });
});
