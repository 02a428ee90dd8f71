/**
 * Checkpoint files: named float32 tensors plus JSON metadata (epoch, optimiser and sampler state, RNG state).
 *
 * Layout (little-endian), version 2:
 *   bytes 0..7    magic "LTRCKPT2"
 *   bytes 8..11   uint32 header length H
 *   bytes 12..    UTF-8 JSON header {version, meta, tensors: [{name, shape, offset, length}]}, space-padded
 *   then, 4-byte aligned, the float32 data of every tensor at its `offset` (in bytes from the data start)
 *   last 40 bytes: "LTRSHA25" + SHA-256 of every byte before them (checksum.ts).
 * Every read verifies the checksum, the layout and that every value is finite; errors name the file.
 * Version 1 files (magic "LTRCKPT1", no trailer) are still read, unverified, after a notice.
 * Written atomically (see atomic.ts), so an interrupted save never corrupts the previous checkpoint; the
 * temporary file is read back and verified before it replaces the old one.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { CorruptFileError, legacyNotice, TRAILER_BYTES, TRAILER_MAGIC, trailerBytes } from "./checksum.js";

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint<M = Record<string, unknown>> {
  tensors: Record<string, TensorData>;
  meta: M;
  /** SHA-256 (hex) of the file's content: the stored digest (version 2) or of the whole file (version 1). */
  sha256?: string;
}

const MAGIC_V1 = "LTRCKPT1";
const MAGIC = "LTRCKPT2";

/** What to do about a damaged checkpoint when the caller has nothing more specific to say. */
const GENERIC_FIX =
  "It cannot be used; restore it from a copy or write it again (for a run: train it again in a new folder)";

type HeaderEntry = { name: string; shape: number[]; offset: number; length: number };

export function encodeCheckpoint(ck: Checkpoint<unknown>): Uint8Array[] {
  const entries: HeaderEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ck.tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length)
      throw new Error(
        `checkpoint tensor '${name}': shape [${t.shape}] holds ${size} values but data has ${t.data.length}`,
      );
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length * 4;
  }
  const header = Buffer.from(JSON.stringify({ version: 2, meta: ck.meta, tensors: entries }), "utf8");
  const pad = (4 - ((12 + header.length) % 4)) % 4;
  const head = Buffer.alloc(12 + header.length + pad, 0x20);
  head.write(MAGIC, 0, "latin1");
  head.writeUInt32LE(header.length + pad, 8);
  header.copy(head, 12);
  const parts: Uint8Array[] = [head];
  for (const [, t] of Object.entries(ck.tensors))
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  parts.push(trailerBytes(h.digest()));
  return parts;
}

/** Write a checkpoint atomically; the new file is read back and verified before it replaces the old one. */
export function saveCheckpoint(path: string, ck: Checkpoint<unknown>): void {
  const parts = encodeCheckpoint(ck);
  writeFileAtomic(path, parts, { verify: (tmp) => void decodeCheckpoint(readFileSync(tmp), path, GENERIC_FIX) });
}

/** Read, verify and decode a checkpoint. `fix` replaces the generic advice in corruption errors. */
export function loadCheckpoint<M = Record<string, unknown>>(path: string, fix = GENERIC_FIX): Checkpoint<M> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(
      `cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
  return decodeCheckpoint<M>(buf, path, fix);
}

function parseHeader<M>(buf: Buffer, path: string, fix: string, hlen: number): { meta: M; tensors: HeaderEntry[] } {
  let header: { meta: M; tensors: HeaderEntry[] };
  try {
    header = JSON.parse(buf.toString("utf8", 12, 12 + hlen));
  } catch (e) {
    throw new CorruptFileError(path, `its JSON header cannot be parsed (${(e as Error).message})`, fix);
  }
  if (typeof header !== "object" || header === null || !Array.isArray(header.tensors))
    throw new CorruptFileError(path, "its header has no tensor list", fix);
  return header;
}

function decodeCheckpoint<M>(buf: Buffer, path: string, fix: string): Checkpoint<M> {
  const magic = buf.length >= 8 ? buf.toString("latin1", 0, 8) : "";
  if (buf.length < 12 || (magic !== MAGIC && magic !== MAGIC_V1))
    throw new Error(`${path} is not a decoupling-lt checkpoint (bad magic); expected a file written by 'ltr train'`);
  const v2 = magic === MAGIC;
  const hlen = buf.readUInt32LE(8);
  let dataEnd = buf.length;
  let sha256: string;
  if (v2) {
    if (
      buf.length < 12 + TRAILER_BYTES ||
      buf.toString("latin1", buf.length - TRAILER_BYTES, buf.length - 32) !== TRAILER_MAGIC
    )
      throw new Error(
        `checkpoint ${path} is truncated (its checksum trailer is missing: the write did not finish or the file was cut). ${fix}`,
      );
    dataEnd = buf.length - TRAILER_BYTES;
    const stored = buf.subarray(buf.length - 32);
    const actual = createHash("sha256").update(buf.subarray(0, dataEnd)).digest();
    if (!actual.equals(stored))
      throw new CorruptFileError(
        path,
        "its content does not match its SHA-256 checksum (bytes were changed on disk)",
        fix,
      );
    sha256 = actual.toString("hex");
  } else {
    sha256 = createHash("sha256").update(buf).digest("hex");
  }
  if (12 + hlen > dataEnd)
    throw new Error(`checkpoint ${path} is truncated (header says ${hlen} bytes, file has ${buf.length}). ${fix}`);
  const header = parseHeader<M>(buf, path, fix, hlen);
  if (!v2) legacyNotice("checkpoint", path, "train or save it again to get a verified copy");
  const dataStart = 12 + hlen;
  const tensors: Record<string, TensorData> = {};
  for (const e of header.tensors) {
    const start = dataStart + e.offset;
    if (!Number.isInteger(e.length) || e.length < 0 || !Number.isInteger(e.offset) || e.offset < 0)
      throw new CorruptFileError(path, `tensor '${e.name}' has a bad offset/length in the header`, fix);
    if (start + e.length * 4 > dataEnd)
      throw new Error(`checkpoint ${path} is truncated: tensor '${e.name}' runs past the end of the file. ${fix}`);
    // Copy out so the result does not pin the whole file buffer and is 4-byte aligned.
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + e.length * 4));
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new CorruptFileError(
          path,
          `tensor '${e.name}' holds ${data[i]} at element ${i} (checkpoints hold finite values only)`,
          fix,
        );
    }
    tensors[e.name] = { shape: e.shape, data };
  }
  return { tensors, meta: header.meta, sha256 };
}

/**
 * The metadata of a checkpoint without reading its tensors or verifying its checksum (cheap: for deciding whether a
 * file may be replaced). Returns null when the file is missing or unreadable.
 */
export function readCheckpointMeta<M = Record<string, unknown>>(path: string): M | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const pre = Buffer.alloc(12);
    if (readSync(fd, pre, 0, 12, 0) < 12) return null;
    const magic = pre.toString("latin1", 0, 8);
    if (magic !== MAGIC && magic !== MAGIC_V1) return null;
    const hlen = pre.readUInt32LE(8);
    const head = Buffer.alloc(hlen);
    if (readSync(fd, head, 0, hlen, 12) < hlen) return null;
    return (JSON.parse(head.toString("utf8")) as { meta: M }).meta;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
