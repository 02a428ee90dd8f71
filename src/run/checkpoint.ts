/**
 * Checkpoint files: named float32 tensors plus JSON metadata (epoch, optimiser and sampler state, RNG state).
 *
 * Layout (little-endian):
 *   bytes 0..7    magic "LTRCKPT1"
 *   bytes 8..11   uint32 header length H
 *   bytes 12..    UTF-8 JSON header {version, meta, tensors: [{name, shape, offset, length}]}
 *   then, 4-byte aligned, the float32 data of every tensor at its `offset` (in bytes from the data start).
 * Written atomically (see atomic.ts), so an interrupted save never corrupts the previous checkpoint.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint<M = Record<string, unknown>> {
  tensors: Record<string, TensorData>;
  meta: M;
}

const MAGIC = "LTRCKPT1";

export function encodeCheckpoint(ck: Checkpoint<unknown>): Uint8Array[] {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ck.tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`checkpoint tensor '${name}': shape [${t.shape}] holds ${size} values but data has ${t.data.length}`);
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length * 4;
  }
  const header = Buffer.from(JSON.stringify({ version: 1, meta: ck.meta, tensors: entries }), "utf8");
  const pad = (4 - ((12 + header.length) % 4)) % 4;
  const head = Buffer.alloc(12 + header.length + pad, 0x20);
  head.write(MAGIC, 0, "latin1");
  head.writeUInt32LE(header.length + pad, 8);
  header.copy(head, 12);
  const parts: Uint8Array[] = [head];
  for (const [, t] of Object.entries(ck.tensors)) parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return parts;
}

export function saveCheckpoint(path: string, ck: Checkpoint<unknown>): void {
  writeFileAtomic(path, encodeCheckpoint(ck));
}

export function loadCheckpoint<M = Record<string, unknown>>(path: string): Checkpoint<M> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  if (buf.length < 12 || buf.toString("latin1", 0, 8) !== MAGIC)
    throw new Error(`${path} is not a decoupling-lt checkpoint (bad magic); expected a file written by 'ltr train'`);
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw new Error(`checkpoint ${path} is truncated (header says ${hlen} bytes, file has ${buf.length})`);
  const header = JSON.parse(buf.toString("utf8", 12, 12 + hlen)) as {
    meta: M;
    tensors: { name: string; shape: number[]; offset: number; length: number }[];
  };
  const dataStart = 12 + hlen;
  const tensors: Record<string, TensorData> = {};
  for (const e of header.tensors) {
    const start = dataStart + e.offset;
    if (start + e.length * 4 > buf.length) throw new Error(`checkpoint ${path} is truncated: tensor '${e.name}' runs past the end of the file`);
    // Copy out so the result does not pin the whole file buffer and is 4-byte aligned.
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + e.length * 4));
    tensors[e.name] = { shape: e.shape, data };
  }
  return { tensors, meta: header.meta };
}
