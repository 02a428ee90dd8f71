/**
 * Kernel diagnostics (not a headline figure): where one real stage-1 training step spends its time. Builds the
 * Fashion-MNIST-LT dataset, the configured backbone + linear head and runs the same step as src/train/loop.ts
 * (augmented batch from the sampler, forward, backward, SGD) under tf.profile, then prints per-kernel totals.
 *
 *   node --import tsx scripts/bench/profile_step.ts [--backbone resnet8] [--cifar] [--steps 20] [--warmup 10] [--cpu]
 *
 * --cifar: synthetic CIFAR-shaped 32x32x3 data (scripts/bench/data.ts) instead of Fashion-MNIST-LT.
 *
 * --cpu: per-kernel CPU time instead of tf.profile's wall time (every wasm kernel wrapped in process.cpuUsage();
 * run with LTR_NUM_THREADS=1 on a shared machine, where CPU time is far less noisy than wall time).
 *
 * --native: the wall time of every call into the native addon (by function, convolution kind and shape), without
 * tf.profile's bookkeeping: what each native kernel costs inside a real step, where its inputs come from memory
 * rather than from cache as in a kernel microbenchmark (docs/PERFORMANCE.md, "Two threads").
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend.js";
import { datasets } from "../../src/data/registry.js";
import { loadAddon, preferSpinningWorkers } from "../../src/kernels/native/addon.js";
import { backbones } from "../../src/models/index.js";
import { LinearClassifier } from "../../src/models/linear.js";
import { Rng } from "../../src/rng.js";
import { samplers } from "../../src/samplers/registry.js";
import { Sgd } from "../../src/train/sgd.js";
import { writeSyntheticCifar10 } from "./data.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Per-call wall totals of the native addon's functions, keyed by function (convolution kind) and shape. */
const nativeTotals = new Map<string, { ms: number; n: number }>();

/** Wraps every function of the loaded addon in a wall-clock timer (before the kernels bind them). */
function timeNativeCalls(): void {
  const r = loadAddon();
  if (!r.addon) throw new Error(`--native needs the native addon: ${r.reason}`);
  const addon = r.addon as unknown as Record<string, (...a: unknown[]) => unknown>;
  const kinds = ["fwd", "bwdData", "bwdFilter"];
  for (const name of Object.keys(addon)) {
    const inner = addon[name];
    if (typeof inner !== "function") continue;
    addon[name] = (...a: unknown[]) => {
      const t0 = performance.now();
      const out = inner.apply(r.addon, a);
      const ms = performance.now() - t0;
      const key =
        name === "convOwn" || name === "conv"
          ? `${name} ${kinds[a[0] as number]} ${Array.from(a[1] as Int32Array).join(",")}`
          : name.startsWith("bn")
            ? `${name} ${a[0]}x${a[1]}`
            : name;
      const e = nativeTotals.get(key) ?? { ms: 0, n: 0 };
      e.ms += ms;
      e.n++;
      nativeTotals.set(key, e);
      return out;
    };
  }
}

async function main(): Promise<void> {
  // The wait policy `ltr train` uses (src/train/stage1.ts).
  preferSpinningWorkers();
  const nativeMode = process.argv.includes("--native");
  if (nativeMode) timeNativeCalls();
  const info = await initBackend("wasm");
  console.log(info.kernels.notes.join("\n"));
  const ds = process.argv.includes("--cifar")
    ? await datasets.get(
        "CIFAR10_LT",
        "x",
      )({
        root: writeSyntheticCifar10(mkdtempSync(join(tmpdir(), "ltr-profile-")), 1000),
        imbFactor: 1,
        nMax: 500,
        profile: "exp",
        subsetSeed: 0,
        valPerClass: 20,
        numClasses: 10,
      })
    : await datasets.get(
        "FashionMNIST_LT",
        "x",
      )({ imbFactor: 1000, profile: "exp", nMax: 5000, subsetSeed: 0, valPerClass: 100, numClasses: 10 });
  const name = arg("backbone", "resnet8");
  const steps = Number(arg("steps", "20"));
  const warmup = Number(arg("warmup", "10"));
  const net = backbones.get(name, "x")({ inputShape: ds.inputShape, seed: 0 });
  const head = new LinearClassifier({ featDim: net.featDim, numClasses: 10, seed: 1 });
  const opt = new Sgd([
    { name: "feat_model", params: net.trainable(), args: { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 } },
    { name: "classifier", params: head.trainable(), args: { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 } },
  ]);
  const vars = [...net.trainable().values(), ...head.trainable().values()];
  const sampler = samplers.get(
    "instance_balanced",
    "x",
  )({
    labels: ds.train.labels,
    numClasses: 10,
    batchSize: 128,
    seed: 0,
    numEpochs: 1,
    numSamplesCls: 4,
    shuffleInBatch: false,
  });
  const batches = sampler.epoch(0);
  const rng = new Rng(0);
  let tLoad = 0;
  const step = async (s: number) => {
    const t0 = performance.now();
    const b = await ds.train.loadBatch(batches[s % batches.length], { augment: true, rng });
    tLoad += performance.now() - t0;
    const stats = tf.tidy(() => {
      const x = tf.tensor4d(b.x, b.shape);
      const y = tf.oneHot(tf.tensor1d(b.labels, "int32"), 10);
      let kept: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const logits = head.apply(net.apply(x, true));
        kept = tf.keep(logits);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }, vars);
      opt.step(grads);
      const hit = tf.sum(tf.cast(tf.equal(tf.argMax(kept!, 1), tf.tensor1d(b.labels, "int32")), "float32"));
      (kept as tf.Tensor | null)?.dispose();
      return tf.stack([value, hit]);
    });
    stats.dataSync();
    stats.dispose();
  };
  const cpuMode = process.argv.includes("--cpu");
  const cpuTotals = new Map<string, { us: number; n: number }>();
  if (cpuMode) {
    for (const k of tf.getKernelsForBackend("wasm")) {
      const inner = k.kernelFunc;
      tf.unregisterKernel(k.kernelName, "wasm");
      tf.registerKernel({
        ...k,
        kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
          const c0 = process.cpuUsage();
          const out = inner(args);
          const c = process.cpuUsage(c0);
          const name = process.argv.includes("--shapes")
            ? `${k.kernelName} ${Object.values(args.inputs)
                .map((t) => `[${(t as tf.TensorInfo).shape}]`)
                .join("")}`
            : k.kernelName;
          const e = cpuTotals.get(name) ?? { us: 0, n: 0 };
          e.us += c.user + c.system;
          e.n++;
          cpuTotals.set(name, e);
          return out;
        }) as tf.KernelFunc,
      });
    }
  }
  for (let s = 0; s < warmup; s++) await step(s);
  cpuTotals.clear();
  nativeTotals.clear();
  tLoad = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) await step(s);
  const wall = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(c0);
  console.log(
    `plain: ${wall.toFixed(1)} ms/step wall (${(128000 / wall).toFixed(0)} img/s), cpu ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)} ms/step, loadBatch ${(tLoad / steps).toFixed(2)} ms/step`,
  );
  if (nativeMode) {
    const byFn = new Map<string, { ms: number; n: number }>();
    let tot = 0;
    for (const [k, v] of nativeTotals) {
      const f = k
        .split(" ")
        .slice(0, k.startsWith("conv") ? 2 : 1)
        .join(" ");
      const e = byFn.get(f) ?? { ms: 0, n: 0 };
      e.ms += v.ms;
      e.n += v.n;
      byFn.set(f, e);
      tot += v.ms;
    }
    console.log(`native calls: ${(tot / steps).toFixed(1)} ms wall/step of ${wall.toFixed(1)}`);
    const shapes = process.argv.includes("--shapes") ? [...nativeTotals].filter(([k]) => !byFn.has(k)) : [];
    const rows = [...byFn, ...shapes];
    for (const [k, v] of rows.sort((a, b) => b[1].ms - a[1].ms))
      if (v.ms / steps >= 0.05)
        console.log(`  ${(v.ms / steps).toFixed(2).padStart(7)} ms  ${String(v.n / steps).padStart(4)}x  ${k}`);
    return;
  }
  if (cpuMode) {
    let tot = 0;
    for (const v of cpuTotals.values()) tot += v.us;
    console.log(
      `kernels: ${(tot / 1000 / steps).toFixed(1)} ms cpu/step of ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)}`,
    );
    for (const [k, v] of [...cpuTotals].sort((a, b) => b[1].us - a[1].us).slice(0, 25))
      console.log(`  ${(v.us / 1000 / steps).toFixed(2).padStart(7)} ms  ${String(v.n / steps).padStart(4)}x  ${k}`);
    return;
  }
  const totals = new Map<string, { ms: number; n: number }>();
  let kernelMs = 0;
  const t1 = performance.now();
  const prof = await tf.profile(async () => {
    for (let s = 0; s < steps; s++) await step(s);
  });
  const profWall = (performance.now() - t1) / steps;
  for (const k of prof.kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join("")}`;
    const e = totals.get(key) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n++;
    totals.set(key, e);
    kernelMs += ms;
  }
  const byName = new Map<string, { ms: number; n: number }>();
  for (const [k, v] of totals) {
    const n = k.split(" ")[0];
    const e = byName.get(n) ?? { ms: 0, n: 0 };
    e.ms += v.ms;
    e.n += v.n;
    byName.set(n, e);
  }
  console.log(
    `profiled: ${profWall.toFixed(1)} ms/step wall, kernels ${(kernelMs / steps).toFixed(1)} ms/step, ${(prof.kernels.length / steps).toFixed(0)} kernel calls/step`,
  );
  for (const [k, v] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
    console.log(`  ${(v.ms / steps).toFixed(2).padStart(7)} ms  ${String(v.n / steps).padStart(4)}x  ${k}`);
  if (process.argv.includes("--shapes"))
    for (const [k, v] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40))
      console.log(`  ${(v.ms / steps).toFixed(2).padStart(7)} ms  ${String(v.n / steps).padStart(4)}x  ${k}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
