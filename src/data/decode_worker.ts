/**
 * The main-thread side of a JPEG split's decoding worker (docs/PERFORMANCE.md, "Decoding off the main thread").
 *
 * Why a worker: a JPEG costs several event-loop hops (the file's open, stat, read and close, then sharp's decode,
 * then the uint8 -> float conversion in JS), and while the model runs its forward pass the main thread turns the
 * event loop once per batch, so each prefetched image moved one hop per batch and the model waited for images;
 * the conversion ran on the main thread too, between batches, while the OpenMP worker idled. A worker thread has
 * its own event loop: it takes a batch of rows and hands back the finished float pixels (transferred, not
 * copied), so the model's thread only ever receives one message per batch.
 *
 * The worker runs the same `JpegSplit` code in-thread (src/data/jpeg_worker.ts), with the random streams forked
 * on this side in batch order, so its pixels are the in-thread pixels bit for bit. It does not keep the process
 * alive while no batch is pending, and a worker that fails rejects every pending batch with its reason.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { RngState } from "../rng.js";
import type { JpegSplitArgs } from "./jpeg_split.js";

/** A batch request: the rows and, per row, the state of its forked augmentation stream (null: no augmentation). */
export interface DecodeRequest {
  id: number;
  rows: Int32Array;
  rngs: (RngState | null)[];
}

/** A reply: the batch's pixels (rows × S × S × 3) or the decoding error's message. */
export type DecodeReply = { id: number; x: Float32Array } | { id: number; error: string };

interface Pending {
  resolve: (x: Float32Array) => void;
  reject: (e: Error) => void;
}

interface TsxPackage {
  exports: Record<"./esm/api", { import: { default: string } }>;
}

/**
 * What the worker runs: the compiled `.js` beside this file in the package; or, when this file itself runs from
 * TypeScript source (tests, `node --import tsx` scripts), a two-line bootstrap that registers tsx in the worker and
 * imports the `.ts` entry (a worker's `--import` flag does not apply to its own entry module in Node 20).
 */
function workerEntry(): { script: URL | string; eval: boolean; file: string } {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./jpeg_worker.ts" : "./jpeg_worker.js", import.meta.url);
  if (!fromSource) return { script: entry, eval: false, file: fileURLToPath(entry) };
  // tsx's ES-module API, as its package.json exports it (require.resolve would give the CommonJS twin).
  const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
  const exp = (JSON.parse(readFileSync(pkg, "utf8")) as TsxPackage).exports["./esm/api"].import.default;
  const api = new URL(exp, pathToFileURL(pkg)).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return { script: boot, eval: true, file: fileURLToPath(entry) };
}

/** One decoding worker for one split, started on the first batch. */
export class DecodeWorker {
  private w: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /**
   * @param splitName for error messages
   * @param workerData the split's arguments, cloned into the worker once
   */
  constructor(
    private readonly splitName: string,
    private readonly workerData: JpegSplitArgs,
  ) {}

  /** Decode `rows` in the worker; resolves with the batch's pixels. */
  decode(rows: Int32Array, rngs: (RngState | null)[]): Promise<Float32Array> {
    const w = this.w ?? this.start();
    const id = this.nextId++;
    const p = new Promise<Float32Array>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) w.ref(); // a pending batch keeps the process alive until it is answered
    w.postMessage({ id, rows, rngs } satisfies DecodeRequest);
    return p;
  }

  /** Stop the worker (pending batches are rejected); the next `decode` starts a new one. */
  async close(): Promise<void> {
    await this.fail(new Error(`the decoding worker of split '${this.splitName}' was closed`));
  }

  private start(): Worker {
    const entry = workerEntry();
    const w = new Worker(entry.script, { workerData: this.workerData, eval: entry.eval });
    w.unref();
    w.on("message", (m: DecodeReply) => this.settle(m));
    w.on("error", (e) => {
      void this.fail(
        new Error(
          `the decoding worker of split '${this.splitName}' (${entry.file}) failed: ${e.message}; ` +
            `decodeIn: "thread" decodes on the calling thread instead`,
        ),
      );
    });
    w.on("exit", (code) => {
      if (this.w === w)
        void this.fail(new Error(`the decoding worker of split '${this.splitName}' exited (code ${code})`));
    });
    this.w = w;
    return w;
  }

  private settle(m: DecodeReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.w?.unref();
    if ("error" in m) p.reject(new Error(m.error));
    else p.resolve(m.x);
  }

  /** Reject every pending batch and forget the worker; resolves when it has stopped. */
  private async fail(e: Error): Promise<void> {
    const w = this.w;
    this.w = null;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    if (w) await w.terminate();
  }
}
