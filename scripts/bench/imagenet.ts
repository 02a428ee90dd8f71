/**
 * ImageNet-scale inference and feature extraction against PyTorch on the same machine.
 *
 *  1. Inference: ResNet-50, ResNeXt-50 32x4d and ResNet-152 feature extractors, batch 8, 224x224, BN in eval mode,
 *     ours and PyTorch (scripts/bench/torch_imagenet.py, a persistent worker) alternated round by round on the same
 *     decoded pixels (real JPEGs through our eval transform). PyTorch is timed in both memory formats (contiguous
 *     NCHW as users run it, and channels_last); the better one counts, so the ratio does not flatter us.
 *  2. Feature extraction over a list of real JPEG files (generated at ImageNet-like sizes into a temporary folder,
 *     with a list file): decode-only speed (our JpegSplit, the resize-256 / centre-crop-224 / normalise transform),
 *     model-only speed on the pre-decoded pixels, and the full extraction (src/features/extract.ts: decoding
 *     prefetched in parallel with the model, chunked verified output), alternated; PyTorch model-only on the same
 *     pixels. Which of decoding and the model bounds is read off the extraction's measured wait for images.
 *
 * Load averages are recorded before and after every measurement. Writes <out>/imagenet.json and imagenet.md.
 * Standalone: node --import tsx scripts/bench/imagenet.ts [--quick] [--no-torch] [--rounds N] [--images N] [--out DIR]
 * From `npm run bench -- --imagenet` (scripts/bench/run.ts) with the same --quick / --no-torch / --out.
 */

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { initBackend } from "../../src/backend.js";
import { JpegSplit } from "../../src/data/jpeg_split.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../src/data/list_datasets.js";
import { readListFile } from "../../src/data/list_file.js";
import { extractFeatures } from "../../src/features/extract.js";
import { requestedThreads } from "../../src/kernels/native/index.js";
import { backbones } from "../../src/models/index.js";
import type { Backbone } from "../../src/models/types.js";
import { Rng } from "../../src/rng.js";
import { gitCommit } from "./machine.js";

export interface ImagenetBenchOpts {
  quick: boolean;
  torch: boolean;
  out: string;
  /** Alternation rounds (ours, then PyTorch, per round). */
  rounds?: number;
  /** JPEGs in the extraction list. */
  images?: number;
  /** Environment for the PyTorch worker (as it was before our addon set its OpenMP defaults). */
  peerEnv?: NodeJS.ProcessEnv;
}

const BATCH = 8;
const MODELS = ["resnet50", "resnext50", "resnet152"] as const;
const S = 224;
const PIX = S * S * 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const la = () => loadavg().map((x) => Math.round(x * 100) / 100);
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "–");

// ---- JPEG list ---------------------------------------------------------------------------------------------------

/** ImageNet-like sizes (the common 500x375 / 375x500 / 500x333 and a few larger or smaller ones). */
const SIZES: [number, number][] = [
  [500, 375],
  [375, 500],
  [500, 333],
  [500, 375],
  [640, 480],
  [333, 500],
  [500, 400],
  [400, 300],
];

/**
 * `n` JPEGs of smooth colour fields with texture and edges (so they compress like photographs, ~60-120 KB at
 * quality 90), one in 16 greyscale, and a "path label" list file. Returns the list path.
 */
export async function writeJpegList(dir: string, n: number): Promise<string> {
  mkdirSync(join(dir, "img"), { recursive: true });
  const rng = new Rng(2024);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const [w, h] = SIZES[i % SIZES.length];
    const ch = i % 16 === 7 ? 1 : 3;
    const px = Buffer.alloc(w * h * ch);
    const f = [rng.uniform(2, 9), rng.uniform(2, 9), rng.uniform(2, 9)];
    const ph = [rng.uniform(0, 6), rng.uniform(0, 6), rng.uniform(0, 6)];
    const cx = rng.uniform(0.2, 0.8) * w;
    const cy = rng.uniform(0.2, 0.8) * h;
    const r2 = (rng.uniform(0.1, 0.3) * Math.min(w, h)) ** 2;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < r2;
        for (let c = 0; c < ch; c++) {
          const base = 128 + 90 * Math.sin((f[c] * x) / w + (f[(c + 1) % 3] * y) / h + ph[c]);
          const v = base + (inside ? 60 : 0) + 24 * (rng.next() - 0.5);
          px[(y * w + x) * ch + c] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
    }
    const name = `img/${String(i).padStart(5, "0")}.jpg`;
    writeFileSync(
      join(dir, name),
      await sharp(px, { raw: { width: w, height: h, channels: ch } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
    lines.push(`${name} ${i % 1000}`);
  }
  const list = join(dir, "list.txt");
  writeFileSync(list, `${lines.join("\n")}\n`);
  return list;
}

/** The eval split of a list file, as the ImageNet-LT loader builds it. */
export function evalSplit(listFile: string, imageRoot: string): JpegSplit {
  const { list } = readListFile(listFile, 1000, "--list");
  return new JpegSplit({
    name: "test",
    paths: list.paths.map((p) => join(imageRoot, p)),
    labels: list.labels,
    listFile,
    lines: list.lines,
    size: S,
    resize: 256,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    colourJitter: false,
    augmentEnabled: false,
  });
}

// ---- PyTorch worker ----------------------------------------------------------------------------------------------

class TorchPeer {
  private readonly p: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterableIterator<string>;
  private stderr = "";
  version = "";

  constructor(threads: number, env: NodeJS.ProcessEnv) {
    this.p = spawn("/usr/bin/python3", [join("scripts", "bench", "torch_imagenet.py"), "--threads", String(threads)], {
      env: { ...env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    });
    this.p.stderr.on("data", (d) => (this.stderr = (this.stderr + String(d)).slice(-4000)));
    this.lines = createInterface({ input: this.p.stdout })[Symbol.asyncIterator]();
  }

  private async read(): Promise<Record<string, unknown>> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`torch_imagenet.py exited: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  }

  async start(): Promise<void> {
    this.version = String((await this.read()).torch);
  }

  /** Seconds per rep (a rep = all n images in batches of 8). */
  async time(c: {
    model: string;
    pixels: string;
    n: number;
    warmup: number;
    reps: number;
    memoryFormat: "contiguous" | "channels_last";
  }): Promise<number[]> {
    this.p.stdin.write(
      `${JSON.stringify({ cmd: "time", model: c.model, pixels: c.pixels, n: c.n, batch: BATCH, warmup: c.warmup, reps: c.reps, memory_format: c.memoryFormat })}\n`,
    );
    const r = await this.read();
    if (r.error) throw new Error(`torch_imagenet.py ${c.model} (${c.memoryFormat}): ${r.error}`);
    return r.times as number[];
  }

  close(): void {
    this.p.stdin.write(`${JSON.stringify({ cmd: "quit" })}\n`);
    this.p.stdin.end();
  }
}

// ---- measurements ------------------------------------------------------------------------------------------------

/** Decode every row of the split in batches of 8 with `depth` batches in flight; returns pixels and seconds. */
async function decodeAll(split: JpegSplit, depth: number): Promise<{ x: Float32Array; s: number }> {
  const n = split.size;
  const x = new Float32Array(n * PIX);
  const rng = new Rng(0);
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let start = 0; start < n; start += BATCH) {
    const rows = Int32Array.from({ length: Math.min(BATCH, n - start) }, (_, i) => start + i);
    inFlight.push(split.loadBatch(rows, { augment: false, rng }).then((b) => x.set(b.x, start * PIX)));
    if (inFlight.length >= depth) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return { x, s: (performance.now() - t0) / 1000 };
}

/** One pass of the backbone over n pre-decoded images (forward + features read back, as the extraction does). */
function modelPass(m: Backbone, x: Float32Array, n: number): number {
  const t0 = performance.now();
  for (let start = 0; start < n; start += BATCH) {
    const k = Math.min(BATCH, n - start);
    const f = tf.tidy(() => m.apply(tf.tensor4d(x.subarray(start * PIX, (start + k) * PIX), [k, S, S, 3]), false));
    f.dataSync();
    f.dispose();
  }
  return (performance.now() - t0) / 1000;
}

interface Timed {
  img_s: number;
  img_s_range: [number, number];
  times_s: number[];
}
const timed = (n: number, ts: number[]): Timed => ({
  img_s: n / median(ts),
  img_s_range: [n / Math.max(...ts), n / Math.min(...ts)],
  times_s: ts,
});

export async function runImagenetBench(o: ImagenetBenchOpts): Promise<Record<string, unknown>> {
  const rounds = o.rounds ?? (o.quick ? 1 : 3);
  const reps = o.quick ? 1 : 2;
  const nImages = o.images ?? (o.quick ? 48 : 256);
  const threads = requestedThreads();
  const peerEnv = o.peerEnv ?? { ...process.env };
  const info = await initBackend("wasm");
  const work = mkdtempSync(join(tmpdir(), "ltr-bench-imagenet-"));
  const loads: Record<string, { before: number[]; after: number[] }> = {};
  const result: Record<string, unknown> = {};
  let peer: TorchPeer | null = null;
  try {
    console.log(`imagenet bench: writing ${nImages} JPEGs to ${work}`);
    const list = await writeJpegList(work, nImages);
    const split = evalSplit(list, work);
    const pixPath = join(work, "pixels.f32");
    const dec = await decodeAll(split, 4);
    writeFileSync(pixPath, Buffer.from(dec.x.buffer, dec.x.byteOffset, dec.x.byteLength));
    if (o.torch) {
      peer = new TorchPeer(threads, peerEnv);
      await peer.start();
    }

    // 1. inference, batch 8, on the first 8 decoded images
    const inference: Record<string, { ours: Timed; torch?: Timed & { memory_format: string } }> = {};
    for (const name of MODELS) {
      const m = backbones.get(name)({ inputShape: [S, S, 3], seed: 0 });
      const ours: number[] = [];
      const torch: Record<string, number[]> = { contiguous: [], channels_last: [] };
      loads[`inference ${name}`] = { before: la(), after: [] };
      modelPass(m, dec.x, BATCH); // warm-up (plans, weights reorders)
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < reps + 1; k++) ours.push(modelPass(m, dec.x, BATCH));
        if (peer) {
          for (const mf of ["contiguous", "channels_last"] as const) {
            torch[mf].push(
              ...(await peer.time({
                model: name,
                pixels: pixPath,
                n: BATCH,
                warmup: r === 0 ? 2 : 1,
                reps: reps + 1,
                memoryFormat: mf,
              })),
            );
          }
        }
      }
      m.dispose();
      loads[`inference ${name}`].after = la();
      const entry: (typeof inference)[string] = { ours: timed(BATCH, ours) };
      if (peer) {
        const best = median(torch.contiguous) <= median(torch.channels_last) ? "contiguous" : "channels_last";
        entry.torch = { ...timed(BATCH, torch[best]), memory_format: best };
      }
      inference[name] = entry;
      console.log(
        `${name.padEnd(10)} ours ${fmt(entry.ours.img_s)} img/s${entry.torch ? `   torch ${fmt(entry.torch.img_s)} img/s (${entry.torch.memory_format})   ratio ${fmt(entry.ours.img_s / entry.torch.img_s, 2)}` : ""}`,
      );
    }
    result.inference = inference;

    // 2. feature extraction over the JPEG list with the paper's backbone
    const name = "resnext50";
    const m = backbones.get(name)({ inputShape: [S, S, 3], seed: 0 });
    loads.extraction = { before: la(), after: [] };
    const decodeS: number[] = [dec.s];
    const modelS: number[] = [];
    const extractS: number[] = [];
    const waitS: number[] = [];
    const torchS: number[] = [];
    modelPass(m, dec.x, BATCH);
    for (let r = 0; r < rounds; r++) {
      modelS.push(modelPass(m, dec.x, nImages));
      const out = join(work, `features_${r}.ltf`);
      const t0 = performance.now();
      const ex = await extractFeatures({
        backbone: m,
        split,
        batchSize: BATCH,
        out,
        meta: { split: "test", extra: { bench: true } },
      });
      extractS.push((performance.now() - t0) / 1000);
      waitS.push(ex.stats.waitS);
      rmSync(out, { force: true });
      decodeS.push((await decodeAll(split, 4)).s);
      if (peer)
        torchS.push(
          ...(await peer.time({
            model: name,
            pixels: pixPath,
            n: nImages,
            warmup: r === 0 ? 1 : 0,
            reps: 1,
            memoryFormat: inference[name].torch!.memory_format as "contiguous" | "channels_last",
          })),
        );
    }
    m.dispose();
    loads.extraction.after = la();
    const ext = {
      backbone: name,
      images: nImages,
      decode_only: timed(nImages, decodeS),
      model_only: timed(nImages, modelS),
      extraction: timed(nImages, extractS),
      extraction_wait_for_images_s: waitS,
      torch_model_only: peer ? timed(nImages, torchS) : null,
    };
    const ratio = ext.extraction.img_s / ext.model_only.img_s;
    const bound =
      median(waitS) > 0.05 * median(extractS)
        ? "decoding (the model waited for images)"
        : "the model (images were ready)";
    result.extraction = { ...ext, extraction_over_model_only: ratio, bound_by: bound };
    console.log(
      `extraction ${name}, ${nImages} JPEGs: decode-only ${fmt(ext.decode_only.img_s)} img/s, model-only ${fmt(ext.model_only.img_s)} img/s, ` +
        `extraction ${fmt(ext.extraction.img_s)} img/s (${fmt(100 * ratio, 0)}% of model-only; waited ${fmt(median(waitS), 2)} s for images; bound by ${bound})` +
        (ext.torch_model_only ? `; torch model-only ${fmt(ext.torch_model_only.img_s)} img/s` : ""),
    );
  } finally {
    peer?.close();
    rmSync(work, { recursive: true, force: true });
  }
  const report = {
    manifest: {
      date: new Date().toISOString(),
      git_commit: gitCommit(),
      machine: { cpu: cpus()[0]?.model ?? "unknown", logical_cpus: cpus().length },
      threads,
      backend: { name: info.name, version: info.version },
      kernels: info.kernels.registered,
      native: info.kernels.native ?? null,
      torch: peer ? peer.version : "skipped",
      omp_wait_policy: { ours: process.env.OMP_WAIT_POLICY ?? "default", torch: peerEnv.OMP_WAIT_POLICY ?? "default" },
      rounds,
      reps_per_round: reps + 1,
      batch: BATCH,
      load_average: loads,
      note: "ours and PyTorch alternate round by round on the same decoded pixels; img/s = images / median time",
    },
    ...result,
  };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, "imagenet.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(o.out, "imagenet.md"), markdown(report));
  console.log(`wrote ${join(o.out, "imagenet.json")} and imagenet.md`);
  return report;
}

function markdown(r: Record<string, any>): string {
  const lines = [
    "# Benchmark: ImageNet-scale inference and feature extraction",
    "",
    "Generated by scripts/bench/imagenet.ts (`npm run bench -- --imagenet`); raw numbers in `imagenet.json`. Batch 8,",
    "224x224, BN in eval mode; ours and PyTorch (scripts/bench/torch_imagenet.py, best of NCHW / channels_last)",
    "alternated on the same decoded pixels, same thread count.",
    "",
    "| backbone | ours img/s | torch img/s | ratio |",
    "|---|---|---|---|",
  ];
  for (const [k, v] of Object.entries(r.inference ?? {}) as [string, any][]) {
    lines.push(
      `| ${k} | ${fmt(v.ours.img_s)} | ${v.torch ? fmt(v.torch.img_s) : "–"} | ${v.torch ? fmt(v.ours.img_s / v.torch.img_s, 2) : "–"} |`,
    );
  }
  const e = r.extraction;
  if (e) {
    lines.push(
      "",
      `Feature extraction (${e.backbone}, ${e.images} generated JPEGs at ImageNet-like sizes, resize 256 / centre crop 224):`,
      "",
      "| stage | img/s |",
      "|---|---|",
      `| decode + transform only | ${fmt(e.decode_only.img_s)} |`,
      `| model only (pre-decoded) | ${fmt(e.model_only.img_s)} |`,
      `| extraction (decode in parallel + chunked output) | ${fmt(e.extraction.img_s)} (${fmt(100 * e.extraction_over_model_only, 0)}% of model-only) |`,
      `| PyTorch model only (same pixels) | ${e.torch_model_only ? fmt(e.torch_model_only.img_s) : "–"} |`,
      "",
      `Bound by: ${e.bound_by}.`,
    );
  }
  lines.push("", "## Manifest", "", "```json", JSON.stringify(r.manifest, null, 2), "```", "");
  return lines.join("\n");
}

const invokedDirectly = (process.argv[1] ?? "").endsWith("imagenet.ts");
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  const val = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const peerEnv = { ...process.env };
  runImagenetBench({
    quick: argv.includes("--quick"),
    torch: !argv.includes("--no-torch"),
    out: val("--out") ?? "results/bench",
    rounds: val("--rounds") ? Number(val("--rounds")) : undefined,
    images: val("--images") ? Number(val("--images")) : undefined,
    peerEnv,
  }).catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
