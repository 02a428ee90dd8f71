/**
 * The grouped-convolution op (src/kernels/grouped_conv.ts) on wasm + native (one oneDNN call per layer) against the
 * per-group split reference on the pure-JS cpu backend: forward and both gradients, on odd shapes (groups 2/4/32,
 * stride 1/2, 'same' / explicit / 'valid' padding, channel counts that are not multiples of 8, batch 1 and 3,
 * channels per group that differ between input and output), covering the direct forward kernel for 1, 2 and 4
 * channels per group (native/src/grouped.cc) and oneDNN's plans (jit, merged groups, GEMM fallback). Skipped with a
 * message when the addon is not built.
 */

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { hasGroupedConvKernels } from "../../src/kernels/grouped_conv.js";
import { loadAddon } from "../../src/kernels/native/index.js";
import { Bottleneck } from "../../src/models/blocks.js";
import { groupedConv2d, resolveGroupedConv } from "../../src/models/conv.js";
import { ParamStore } from "../../src/models/params.js";
import { Rng } from "../../src/rng.js";
import { maxAbsDiff, refConv2d } from "../models/reference.js";

const loaded = loadAddon();
if (!loaded.addon) console.warn(`grouped-convolution kernel tests skipped: ${loaded.reason}`);
const suite = loaded.addon ? describe : describe.skip;

type Pad = "valid" | "same" | number;

interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  oc: number;
  k: number;
  groups: number;
  stride: number;
  pad: Pad;
}

function rand(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Max |a-b| relative to max |b|. */
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

function outSize(inSize: number, k: number, s: number, pad: Pad): number {
  if (pad === "same") return Math.ceil(inSize / s);
  if (pad === "valid") return Math.ceil((inSize - k + 1) / s);
  return Math.floor((inSize + 2 * pad - k) / s) + 1;
}

/** y, dL/dx, dL/dw for L = Σ y·r on the active backend with the given implementation. */
function forwardAndGrads(c: Case, impl: "kernel" | "split", seed: number): Float32Array[] {
  const xs = [c.n, c.h, c.w, c.c] as const;
  const ws = [c.k, c.k, c.c / c.groups, c.oc] as const;
  const ys = [c.n, outSize(c.h, c.k, c.stride, c.pad), outSize(c.w, c.k, c.stride, c.pad), c.oc] as const;
  const outs = tf.tidy(() => {
    const x = tf.tensor4d(
      rand(
        seed,
        xs.reduce((a, b) => a * b),
      ),
      [...xs],
    );
    const w = tf.tensor4d(
      rand(
        seed + 1,
        ws.reduce((a, b) => a * b),
      ),
      [...ws],
    );
    const r = tf.tensor4d(
      rand(
        seed + 2,
        ys.reduce((a, b) => a * b),
      ),
      [...ys],
    );
    const f = (xx: tf.Tensor, ww: tf.Tensor) =>
      groupedConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.groups, c.stride, c.pad, impl);
    const y = f(x, w);
    expect(y.shape).toEqual([...ys]);
    const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(f(xx, ww), r)))([x, w]);
    return [y, gx, gw];
  });
  const vals = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return vals;
}

const CASES: Case[] = [
  // groups 2, 3 input / 5 output channels per group, odd sizes, batch 1
  { n: 1, h: 7, w: 9, c: 6, oc: 10, k: 3, groups: 2, stride: 1, pad: "same" },
  { n: 3, h: 7, w: 6, c: 6, oc: 10, k: 3, groups: 2, stride: 2, pad: 1 },
  // groups 4, channels not multiples of 8, 'valid', 1x1 and 5x5
  { n: 3, h: 9, w: 9, c: 12, oc: 20, k: 3, groups: 4, stride: 2, pad: "valid" },
  { n: 1, h: 8, w: 5, c: 12, oc: 12, k: 1, groups: 4, stride: 2, pad: "valid" },
  { n: 3, h: 8, w: 8, c: 20, oc: 28, k: 5, groups: 4, stride: 1, pad: 2 },
  // TF 'same' at stride 2 on even sizes pads (0, 1): the asymmetric pads reach oneDNN as given
  { n: 1, h: 8, w: 8, c: 12, oc: 12, k: 3, groups: 4, stride: 2, pad: "same" },
  // groups 32: 2 in / 3 out per group (oneDNN, merged groups), and ResNeXt 32x4d's 4 per group (direct kernel)
  { n: 3, h: 5, w: 7, c: 64, oc: 96, k: 3, groups: 32, stride: 1, pad: "same" },
  { n: 1, h: 9, w: 9, c: 128, oc: 128, k: 3, groups: 32, stride: 1, pad: "same" },
  { n: 3, h: 9, w: 8, c: 128, oc: 128, k: 3, groups: 32, stride: 2, pad: 1 },
  // 2 in / 4 out per group: oneDNN with merged groups
  { n: 3, h: 6, w: 7, c: 64, oc: 128, k: 3, groups: 32, stride: 1, pad: "same" },
  // 1 and 2 channels per group (direct kernel), 8 per group with a 5x5 filter (oneDNN jit)
  { n: 3, h: 7, w: 11, c: 16, oc: 16, k: 3, groups: 16, stride: 2, pad: 1 },
  { n: 1, h: 10, w: 13, c: 32, oc: 32, k: 3, groups: 16, stride: 1, pad: "same" },
  { n: 3, h: 9, w: 9, c: 64, oc: 64, k: 5, groups: 8, stride: 1, pad: 2 },
  // 8, 16 and 32 channels per group (ResNeXt's later stages), and 4 in / 8 out (oneDNN jit)
  { n: 3, h: 5, w: 6, c: 256, oc: 256, k: 3, groups: 8, stride: 1, pad: "same" },
  { n: 3, h: 7, w: 9, c: 128, oc: 256, k: 3, groups: 32, stride: 2, pad: 1 },
  { n: 3, h: 6, w: 6, c: 256, oc: 256, k: 3, groups: 32, stride: 2, pad: 1 },
  { n: 1, h: 5, w: 5, c: 512, oc: 512, k: 3, groups: 32, stride: 1, pad: "same" },
];

const label = (c: Case) => `N${c.n} ${c.h}x${c.w} ${c.c}->${c.oc} k${c.k} g${c.groups} s${c.stride} pad ${c.pad}`;

suite("grouped convolution kernels (wasm + native) against the split reference (cpu)", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it("registers the three kernels on wasm and 'auto' resolves to them", async () => {
    await tf.setBackend("wasm");
    expect(hasGroupedConvKernels("wasm")).toBe(true);
    expect(resolveGroupedConv("auto")).toBe("kernel");
    await tf.setBackend("cpu");
    expect(hasGroupedConvKernels("cpu")).toBe(false);
    expect(resolveGroupedConv("auto")).not.toBe("kernel");
    await tf.setBackend("wasm");
  });

  CASES.forEach((c, i) => {
    it(`forward, input and filter gradients: ${label(c)}`, async () => {
      await tf.setBackend("cpu");
      const want = forwardAndGrads(c, "split", 100 + 3 * i);
      await tf.setBackend("wasm");
      const before = tf.memory().numTensors;
      const got = forwardAndGrads(c, "kernel", 100 + 3 * i);
      expect(tf.memory().numTensors).toBe(before);
      ["y", "dx", "dw"].forEach((name, k) => {
        const e = relErr(got[k], want[k]);
        expect(e, `${name} relative error ${e}`).toBeLessThan(2e-5);
      });
    });
  });

  it("the forward pass equals the plain-JS PyTorch-semantics reference", async () => {
    await tf.setBackend("wasm");
    const xs: [number, number, number, number] = [3, 7, 7, 128];
    const xv = rand(
      5,
      xs.reduce((a, b) => a * b),
    );
    const wv = rand(6, 3 * 3 * 4 * 128);
    const y = tf.tidy(() => groupedConv2d(tf.tensor4d(xv, xs), tf.tensor4d(wv, [3, 3, 4, 128]), 32, 2, 1, "kernel"));
    const ref = refConv2d(xv, xs, wv, 3, 128, 2, 1, 32);
    expect(y.shape).toEqual(ref.shape);
    expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThan(1e-4);
    y.dispose();
  });

  it("a ResNeXt bottleneck trains the same through the kernel as through the split", async () => {
    const run = async (backend: "wasm" | "cpu", impl: "kernel" | "split") => {
      await tf.setBackend(backend);
      const store = new ParamStore("t", 3);
      const block = new Bottleneck(store, "layer2.0", {
        inC: 16,
        planes: 8,
        stride: 2,
        groups: 4,
        widthPerGroup: 16,
        groupedConv: impl,
      });
      const vars = [...store.trainable().values()];
      const x = tf.tensor4d(rand(9, 3 * 9 * 9 * 16), [3, 9, 9, 16]);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(block.apply(x, true))) as tf.Scalar, vars);
      const out = [value.dataSync()[0], ...vars.map((v) => grads[v.name].dataSync() as Float32Array)];
      tf.dispose([x, value, ...Object.values(grads)]);
      store.dispose();
      return out;
    };
    const want = await run("cpu", "split");
    const got = await run("wasm", "kernel");
    expect(Math.abs((got[0] as number) - (want[0] as number)) / Math.abs(want[0] as number)).toBeLessThan(1e-5);
    for (let k = 1; k < want.length; k++)
      expect(relErr(got[k] as Float32Array, want[k] as Float32Array)).toBeLessThan(1e-4);
  });

  it("rejects a filter whose channels disagree with the groups, naming the shapes", async () => {
    await tf.setBackend("wasm");
    const x = tf.zeros([1, 4, 4, 8]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 4, 8]) as tf.Tensor4D;
    expect(() => groupedConv2d(x, w, 4, 1, "same", "kernel")).toThrow(
      /input channels 8, filter \[3,3,4,8\] and groups=4/,
    );
    tf.dispose([x, w]);
  });

  it("impl 'kernel' on a backend without the kernels says what to use instead", async () => {
    await tf.setBackend("cpu");
    const x = tf.zeros([1, 4, 4, 8]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 8]) as tf.Tensor4D;
    expect(() => groupedConv2d(x, w, 4, 1, "same", "kernel")).toThrow(
      /backend 'cpu' does not register.*"auto", "split" or "depthwise"/,
    );
    tf.dispose([x, w]);
    await tf.setBackend("wasm");
  });
});
