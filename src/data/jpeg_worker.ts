/**
 * Entry of a JPEG split's decoding worker (started by src/data/decode_worker.ts): the split's arguments arrive as
 * `workerData`; each message is a batch of rows with their forked random streams, answered with the pixels
 * (the buffer transferred) or the decoding error's message, which already names the file and its list line.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Rng } from "../rng.js";
import type { DecodeReply, DecodeRequest } from "./decode_worker.js";
import { JpegSplit, type JpegSplitArgs } from "./jpeg_split.js";

if (!parentPort) throw new Error("src/data/jpeg_worker.ts runs as a worker thread of a JpegSplit, not on its own");
const port = parentPort;
const split = new JpegSplit({ ...(workerData as JpegSplitArgs), decodeIn: "thread" });

// Batches are decoded one after another, in the order asked: the oldest batch is the one the model waits for, and
// one batch's rows already keep libuv's thread pool busy. (Started together, the first of the prefetched batches
// would be finished only with the last one: the model waited 0.2 s per 128 images that way, 0.07 s this way.)
let queue: Promise<void> = Promise.resolve();
port.on("message", (m: DecodeRequest) => {
  queue = queue.then(() =>
    split
      .decodeRows(
        m.rows,
        m.rngs.map((s) => (s ? new Rng(s) : null)),
      )
      .then(
        (x) => port.postMessage({ id: m.id, x } satisfies DecodeReply, [x.buffer]),
        (e: unknown) =>
          port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies DecodeReply),
      ),
  );
});
