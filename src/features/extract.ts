/**
 * Feature extraction over a whole split at the model's speed, resumable, in bounded memory.
 *
 *  - Images are loaded ahead of the model: up to `prefetch` batches are being decoded (JPEG splits: in the split's
 *    worker thread, src/data/decode_worker.ts) while the backbone runs on the current one. The model's forward pass
 *    holds the JS thread, so the loop hands the event loop one turn per batch (`setImmediate`) for finished
 *    batches to arrive (and, for splits that decode on this thread, for their decodes to move on).
 *    The time the model spends waiting for images is measured and reported: it says whether decoding bounds.
 *  - Rows go to a chunk folder (src/features/chunked.ts) as they are computed: each chunk is its own file with a
 *    SHA-256 in a manifest, so an interrupted extraction (Ctrl-C, a kill, a crash) continues from the verified
 *    chunks. Batches never straddle chunks and the batch size is part of the extraction's identity, so a resumed
 *    run computes every row in the same batch as an uninterrupted one and the output is byte-identical.
 *  - Memory: one chunk buffer plus the prefetched batches during extraction; at the end the chunks are read back
 *    (verified again) into the one matrix the caller gets, written as the project's `.ltf` by `writeFeatures`, and
 *    the chunk folder is removed.
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch, Split } from "../data/types.js";
import type { Backbone } from "../models/types.js";
import { Rng } from "../rng.js";
import { ChunkedFeatures, type ResumeReport } from "./chunked.js";
import { type FeatureMeta, writeFeatures } from "./format.js";
import type { FeatureSet } from "./types.js";

/** Rows per chunk by default: about 16 MB of 2,048-d features, a couple of minutes of ResNeXt-50 on a laptop. */
export const DEFAULT_CHUNK_ROWS = 2048;
/** Batches loaded ahead of the model by default. */
export const DEFAULT_PREFETCH = 4;

/** Progress after each batch. */
export interface ExtractProgress {
  /** Rows on disk or computed so far, including those resumed from an earlier run. */
  done: number;
  /** Rows of the split. */
  total: number;
  /** Rows computed by this run (excludes resumed ones). */
  computed: number;
  /** Seconds since this run started computing. */
  elapsedS: number;
  /** Rows per second of this run. */
  imgPerS: number;
  /** Seconds left at the current rate (Infinity before the first batch). */
  etaS: number;
  /** Seconds the model waited for images in this run. */
  waitS: number;
}

/** Arguments of {@link extractFeatures}. */
export interface ExtractArgs {
  backbone: Backbone;
  split: Split;
  /** Images per forward pass. */
  batchSize: number;
  /** The output `.ltf` file; chunks go to `<out>.chunks/` until it is written. */
  out: string;
  /** Header metadata of the output file (`extra` should identify the checkpoint and data). */
  meta: FeatureMeta;
  /** Identity of the extraction for resuming; default `meta` (split, source, extra). Batch size and geometry are added. */
  key?: Record<string, unknown>;
  /** Rows per chunk, rounded up to a multiple of batchSize (default {@link DEFAULT_CHUNK_ROWS}). */
  chunkRows?: number;
  /** Batches loaded ahead (default {@link DEFAULT_PREFETCH}; 0 loads each batch when the model needs it). */
  prefetch?: number;
  /** Called after every batch. */
  onProgress?: (p: ExtractProgress) => void;
  /** Called once after the chunk folder was opened, with what was resumed. */
  onResume?: (r: ResumeReport & { rowsDone: number; dir: string }) => void;
  /** For tests and controlled stops: end with {@link ExtractionStopped} after this many chunks were written. */
  stopAfterChunks?: number;
}

/** Timing of one extraction. */
export interface ExtractStats {
  rows: number;
  /** Rows resumed from verified chunks of an earlier run. */
  resumedRows: number;
  /** Wall seconds of this run's computing loop (excludes the final assembly and write). */
  loopS: number;
  /** Seconds the model waited for images. */
  waitS: number;
  /** Seconds in the backbone (tensor in, forward, features out). */
  modelS: number;
  /** Seconds to assemble the chunks and write the output file. */
  writeS: number;
}

export interface ExtractResult {
  features: FeatureSet;
  stats: ExtractStats;
}

/** Thrown when `stopAfterChunks` ends an extraction early; the chunks written so far stay for a resume. */
export class ExtractionStopped extends Error {
  constructor(
    readonly chunksWritten: number,
    readonly dir: string,
  ) {
    super(
      `feature extraction stopped after ${chunksWritten} chunk(s) as requested; ${dir} holds them and the next run resumes from it`,
    );
    this.name = "ExtractionStopped";
  }
}

/** The chunk folder of an output file. */
export function chunkDirFor(out: string): string {
  return `${out}.chunks`;
}

interface BatchJob {
  chunk: number;
  start: number;
  rows: number;
}

/**
 * Keeps up to `depth` batch loads in flight, handed out in order. A rejected load surfaces when its batch is
 * taken; loads still in flight when the consumer stops are drained silently.
 */
class Prefetcher {
  private readonly pending: { job: BatchJob; p: Promise<Batch> }[] = [];
  private next = 0;
  private readonly rng = new Rng(0); // unused: no augmentation at extraction

  constructor(
    private readonly split: Split,
    private readonly jobs: BatchJob[],
    private readonly depth: number,
  ) {
    this.fill(depth);
  }

  /** Start loads until `limit` are pending. */
  private fill(limit: number): void {
    while (this.next < this.jobs.length && this.pending.length < limit) {
      const job = this.jobs[this.next++];
      const rows = Int32Array.from({ length: job.rows }, (_, i) => job.start + i);
      const p = this.split.loadBatch(rows, { augment: false, rng: this.rng });
      p.catch(() => undefined); // observed when taken; never an unhandled rejection if we stop first
      this.pending.push({ job, p });
    }
  }

  /** The next batch and how long the caller waited for it. */
  async take(): Promise<{ job: BatchJob; batch: Batch; waitS: number }> {
    if (this.pending.length === 0) this.fill(1); // depth 0: load each batch when it is needed
    const head = this.pending.shift();
    if (!head) throw new Error("Prefetcher: no batch left");
    // Start the next loads before waiting, so that `depth` batches stay ahead of the model.
    this.fill(this.depth);
    let ready = false;
    void head.p.then(
      () => (ready = true),
      () => (ready = true),
    );
    // One event-loop turn: lets finished decodes run their continuations (the model held the thread).
    await new Promise<void>((r) => setImmediate(r));
    const t0 = performance.now();
    const wasReady = ready;
    const batch = await head.p;
    const waitS = wasReady ? 0 : (performance.now() - t0) / 1000;
    return { job: head.job, batch, waitS };
  }
}

/** Extract the pooled features of every row of `split` into `out` (resuming from `<out>.chunks/`). */
export async function extractFeatures(a: ExtractArgs): Promise<ExtractResult> {
  const n = a.split.size;
  const dim = a.backbone.featDim;
  const bs = a.batchSize;
  if (!Number.isInteger(bs) || bs < 1)
    throw new Error(`extractFeatures(${a.out}): batchSize must be a positive integer, got ${bs}`);
  const chunkRows = Math.ceil((a.chunkRows ?? DEFAULT_CHUNK_ROWS) / bs) * bs;
  const prefetch = a.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch < 0)
    throw new Error(`extractFeatures(${a.out}): prefetch must be a non-negative integer, got ${prefetch}`);
  const dir = chunkDirFor(a.out);
  const key = {
    ...(a.key ?? { split: a.meta.split, source: a.meta.source ?? null, extra: a.meta.extra ?? null }),
    backbone: a.backbone.name,
    batchSize: bs,
  };
  const { store, report } = ChunkedFeatures.open({ dir, rows: n, dim, chunkRows, key });
  const resumedRows = store.rowsDone();
  a.onResume?.({ ...report, rowsDone: resumedRows, dir });

  try {
    const jobs: BatchJob[] = [];
    for (const k of store.missing()) {
      const { start, rows } = store.chunkRange(k);
      for (let s = 0; s < rows; s += bs) jobs.push({ chunk: k, start: start + s, rows: Math.min(bs, rows - s) });
    }
    const buf = new Float32Array(chunkRows * dim);
    const t0 = performance.now();
    let waitS = 0;
    let modelS = 0;
    let computed = 0;
    let written = 0;
    if (jobs.length > 0) {
      const pre = new Prefetcher(a.split, jobs, prefetch);
      for (let j = 0; j < jobs.length; j++) {
        const { job, batch, waitS: w } = await pre.take();
        waitS += w;
        const { start: cStart, rows: cRows } = store.chunkRange(job.chunk);
        const tm = performance.now();
        const feat = tf.tidy(() => a.backbone.apply(tf.tensor4d(batch.x, batch.shape), false));
        try {
          if (feat.shape[0] !== job.rows || feat.shape[1] !== dim) {
            throw new Error(
              `extractFeatures(${a.out}): backbone returned [${feat.shape.join(",")}] for ${job.rows} images, expected [${job.rows},${dim}]`,
            );
          }
          buf.set(feat.dataSync() as Float32Array, (job.start - cStart) * dim);
        } finally {
          feat.dispose();
        }
        modelS += (performance.now() - tm) / 1000;
        computed += job.rows;
        if (job.start + job.rows === cStart + cRows) {
          store.writeChunk(job.chunk, buf.subarray(0, cRows * dim));
          written++;
        }
        if (a.onProgress) {
          const elapsedS = (performance.now() - t0) / 1000;
          const rate = computed / Math.max(elapsedS, 1e-9);
          const done = resumedRows + computed;
          a.onProgress({ done, total: n, computed, elapsedS, imgPerS: rate, etaS: (n - done) / rate, waitS });
        }
        if (
          a.stopAfterChunks !== undefined &&
          written >= a.stopAfterChunks &&
          j < jobs.length - 1 &&
          job.start + job.rows === cStart + cRows
        ) {
          throw new ExtractionStopped(written, dir);
        }
      }
    }
    const loopS = (performance.now() - t0) / 1000;
    const tw = performance.now();
    const features: FeatureSet = {
      feats: store.assemble(),
      dim,
      labels: Int32Array.from(a.split.labels),
      indices: Int32Array.from({ length: n }, (_, i) => i),
      n,
    };
    writeFeatures(a.out, features, a.meta);
    store.remove();
    const writeS = (performance.now() - tw) / 1000;
    return { features, stats: { rows: n, resumedRows, loopS, waitS, modelS, writeS } };
  } catch (e) {
    store.release();
    throw e;
  }
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return "–";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec).padStart(2, "0")}s`;
}

/** One progress line: rows, percentage, images/s, ETA and the share of time spent waiting for images. */
export function formatProgress(label: string, p: ExtractProgress): string {
  const pct = p.total > 0 ? (100 * p.done) / p.total : 100;
  const wait = p.elapsedS > 0 ? (100 * p.waitS) / p.elapsedS : 0;
  return (
    `${label}: ${p.done.toLocaleString("en-US")}/${p.total.toLocaleString("en-US")} rows (${pct.toFixed(1)}%), ` +
    `${p.imgPerS.toFixed(1)} img/s, ETA ${clock(p.etaS)}, waited for images ${wait.toFixed(1)}% of the time`
  );
}

/**
 * A progress callback that writes {@link formatProgress} lines to `write` (default stderr) at most every
 * `everyS` seconds (default 10) and once at the end; short extractions print nothing until `everyS` has passed.
 */
export function progressPrinter(
  label: string,
  everyS = 10,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): (p: ExtractProgress) => void {
  let last = 0;
  return (p) => {
    const end = p.done === p.total;
    if (p.elapsedS - last >= everyS || (end && last > 0)) {
      last = p.elapsedS;
      write(formatProgress(label, p));
    }
  };
}
