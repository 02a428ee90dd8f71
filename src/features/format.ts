/**
 * The project's feature file (`*.ltf`): one split's pooled backbone features, labels and dataset indices, the
 * replacement for the original code's `{train,val,test}feat_all.pkl` (docs/ARCHITECTURE.md, "Saved features").
 *
 * Layout (all integers little-endian):
 *
 * | bytes              | content                                                                          |
 * |--------------------|----------------------------------------------------------------------------------|
 * | 0 – 7              | magic, the 8 ASCII bytes `LTRFEATS`                                              |
 * | 8 – 11             | uint32 H = byte length of the JSON header                                        |
 * | 12 – 12+H−1        | UTF-8 JSON header ({@link FeatureHeader}), space-padded so 12+H is a multiple of 64 |
 * | header.blobs[k]... | the blobs at their absolute `offset`s (each 64-byte aligned, zero-padded gaps):  |
 * |                    |   `feats`   float32, shape [rows, dim], row-major                                |
 * |                    |   `labels`  int32,   shape [rows]                                                |
 * |                    |   `indices` int32,   shape [rows]  (row index into the split's list file)        |
 *
 * | last 40 bytes      | (version 2) the 8 ASCII bytes `LTRSHA25` + SHA-256 of every byte before them      |
 *
 * The JSON header repeats the magic as a string and carries `version` (currently 2), `dtype` ("float32"), `rows`,
 * `dim`, `blobs` (name, dtype, shape, offset, bytes for each), `split`, `source` (the run / checkpoint that
 * produced the features) and free-form `extra`. Files are written to a temporary file and renamed, so a reader
 * never sees a partial file under the real name. Readers validate everything — the checksum, the layout, and that
 * every feature is finite — and name the file in every error. Version 1 files (no checksum trailer) are still
 * read, unverified, after a notice.
 */
import { createHash } from "node:crypto";
import { CorruptFileError, legacyNotice, TRAILER_BYTES, TRAILER_MAGIC, trailerBytes } from "../run/checksum.js";
import { fileSize, readBytes, readInto, withReadFd, writeAll, writeAtomically } from "./io.js";
import { assertFiniteRows, checkFeatureSet, type FeatureSet } from "./types.js";

/** The 8-byte file signature. */
export const FEATURE_MAGIC = "LTRFEATS";
/** The `magic` string repeated inside the JSON header. */
export const FEATURE_HEADER_MAGIC = "decoupling-lt/features";
/** Current format version; readers accept 1 (unverified) and 2 and reject newer ones. */
export const FEATURE_FORMAT_VERSION = 2;
/** What to do about a damaged feature file. */
const FEATURE_FIX =
  "Delete it and write it again: a cache inside a run folder is re-extracted by the next stage-2 run or ltr test --save-feat SPLIT --run-dir RUN; " +
  "imported features must be exported again from their source";
const ALIGN = 64;

/** Descriptive metadata stored with the features. */
export interface FeatureMeta {
  /** Which split these rows are: "train", "train_plain", "val", "test", ... */
  split: string;
  /** The run directory or checkpoint that produced the features (provenance). */
  source?: string;
  /** Anything else worth keeping (backbone name, epoch, transform, ...); must be JSON-serialisable. */
  extra?: Record<string, unknown>;
}

/** One binary blob's entry in the header. */
export interface BlobEntry {
  /** "feats", "labels" or "indices". */
  name: string;
  /** Element type: "float32" for feats, "int32" for labels and indices. */
  dtype: string;
  /** Array shape: [rows, dim] for feats, [rows] for the others. */
  shape: number[];
  /** Absolute byte offset from the start of the file (64-byte aligned). */
  offset: number;
  /** Byte length = product(shape) × 4. */
  bytes: number;
}

/** The JSON header of a feature file. */
export interface FeatureHeader extends FeatureMeta {
  /** Always {@link FEATURE_HEADER_MAGIC}. */
  magic: string;
  /** Format version. */
  version: number;
  /** Feature element type; only "float32". */
  dtype: string;
  /** Number of rows N. */
  rows: number;
  /** Feature dimension d. */
  dim: number;
  /** The blobs, in file order. */
  blobs: BlobEntry[];
}

/** A FeatureSet read from disk, with its header metadata. */
export interface LoadedFeatures extends FeatureSet {
  /** The file's header (split, source, extra, layout). */
  meta: FeatureHeader;
}

const alignUp = (x: number) => Math.ceil(x / ALIGN) * ALIGN;

/** Build the header and the padded header bytes for a feature set. */
function buildHeader(fs: FeatureSet, meta: FeatureMeta): { header: FeatureHeader; headerBytes: Uint8Array } {
  const blobsNoOffset = [
    { name: "feats", dtype: "float32", shape: [fs.n, fs.dim], bytes: fs.n * fs.dim * 4 },
    { name: "labels", dtype: "int32", shape: [fs.n], bytes: fs.n * 4 },
    { name: "indices", dtype: "int32", shape: [fs.n], bytes: fs.n * 4 },
  ];
  // Offsets depend on the header length, which depends on the offsets' digits: iterate until stable.
  let start = ALIGN * 2;
  for (;;) {
    let off = start;
    const blobs: BlobEntry[] = blobsNoOffset.map((b) => {
      const e = { ...b, offset: off };
      off = alignUp(off + b.bytes);
      return e;
    });
    const header: FeatureHeader = {
      magic: FEATURE_HEADER_MAGIC,
      version: FEATURE_FORMAT_VERSION,
      dtype: "float32",
      rows: fs.n,
      dim: fs.dim,
      blobs,
      split: meta.split,
      ...(meta.source !== undefined ? { source: meta.source } : {}),
      ...(meta.extra !== undefined ? { extra: meta.extra } : {}),
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const need = alignUp(12 + json.length);
    if (need <= start) {
      const padded = new Uint8Array(start - 12).fill(0x20);
      padded.set(json);
      return { header, headerBytes: padded };
    }
    start = need;
  }
}

/** Write a feature set atomically (`<path>.tmp`, then rename). */
export function writeFeatures(path: string, fs: FeatureSet, meta: FeatureMeta): void {
  checkFeatureSet(fs, `writeFeatures(${path})`);
  assertFiniteRows(fs.feats, fs.dim, `${path} (${meta.split} features being written)`);
  const { header, headerBytes } = buildHeader(fs, meta);
  writeAtomically(path, (fd) => {
    const hash = createHash("sha256");
    const put = (v: ArrayBufferView) => {
      hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      writeAll(fd, v);
    };
    const pre = new Uint8Array(12);
    pre.set(new TextEncoder().encode(FEATURE_MAGIC));
    new DataView(pre.buffer).setUint32(8, headerBytes.length, true);
    put(pre);
    put(headerBytes);
    let pos = 12 + headerBytes.length;
    const data: Record<string, ArrayBufferView> = { feats: fs.feats, labels: fs.labels, indices: fs.indices };
    for (const b of header.blobs) {
      if (b.offset > pos) put(new Uint8Array(b.offset - pos));
      put(data[b.name]);
      pos = b.offset + b.bytes;
    }
    writeAll(fd, trailerBytes(hash.digest()));
  });
}

const EXPECTED: Record<string, { dtype: string; rank: number }> = {
  feats: { dtype: "float32", rank: 2 },
  labels: { dtype: "int32", rank: 1 },
  indices: { dtype: "int32", rank: 1 },
};

/** Parse and validate the header of an open feature file. */
function readHeader(fd: number, path: string): FeatureHeader {
  return parseHeaderAt(fd, path).header;
}

function parseHeaderAt(fd: number, path: string): { header: FeatureHeader; head: Uint8Array } {
  const size = fileSize(fd);
  if (size < 12) throw new Error(`${path}: truncated file: ${size} bytes, shorter than the 12-byte preamble`);
  const pre = readBytes(fd, 0, 12, path);
  const magic = new TextDecoder().decode(pre.subarray(0, 8));
  if (magic !== FEATURE_MAGIC) {
    throw new Error(
      `${path}: bad magic ${JSON.stringify(magic)} (expected ${JSON.stringify(FEATURE_MAGIC)}); not a decoupling-lt feature file — ` +
        `for NumPy exports use importNpyFeatures`,
    );
  }
  const hlen = new DataView(pre.buffer).getUint32(8, true);
  if (12 + hlen > size) throw new Error(`${path}: truncated file: header needs ${12 + hlen} bytes, file has ${size}`);
  let header: FeatureHeader;
  const headBytes = readBytes(fd, 12, hlen, path);
  try {
    header = JSON.parse(new TextDecoder().decode(headBytes)) as FeatureHeader;
  } catch (e) {
    throw new Error(`${path}: corrupt JSON header (${(e as Error).message}). ${FEATURE_FIX}`);
  }
  if (header.magic !== FEATURE_HEADER_MAGIC)
    throw new Error(`${path}: bad magic in header: ${JSON.stringify(header.magic)}`);
  if (header.version !== FEATURE_FORMAT_VERSION && header.version !== 1) {
    throw new Error(
      `${path}: unsupported format version ${header.version}; this reader handles versions 1 and ${FEATURE_FORMAT_VERSION}`,
    );
  }
  const end = header.version >= 2 ? size - TRAILER_BYTES : size;
  if (header.dtype !== "float32")
    throw new Error(`${path}: wrong dtype '${header.dtype}' in header; only float32 features are supported`);
  if (!Number.isInteger(header.rows) || header.rows < 0 || !Number.isInteger(header.dim) || header.dim <= 0) {
    throw new Error(`${path}: bad rows/dim in header: rows=${header.rows}, dim=${header.dim}`);
  }
  for (const name of Object.keys(EXPECTED)) {
    const b = header.blobs?.find((x) => x.name === name);
    if (!b) throw new Error(`${path}: header has no '${name}' blob`);
    const want = EXPECTED[name];
    if (b.dtype !== want.dtype)
      throw new Error(`${path}: wrong dtype for blob '${name}': '${b.dtype}', expected '${want.dtype}'`);
    if (!Array.isArray(b.shape) || b.shape.length !== want.rank) {
      throw new Error(`${path}: blob '${name}' has shape ${JSON.stringify(b.shape)}, expected rank ${want.rank}`);
    }
    if (b.shape[0] !== header.rows) {
      throw new Error(
        `${path}: row-count mismatch: blob '${name}' has ${b.shape[0]} rows but the header says rows=${header.rows}`,
      );
    }
    if (name === "feats" && b.shape[1] !== header.dim) {
      throw new Error(`${path}: blob 'feats' has dim ${b.shape[1]} but the header says dim=${header.dim}`);
    }
    const bytes = b.shape.reduce((a, x) => a * x, 4);
    if (b.bytes !== bytes)
      throw new Error(`${path}: blob '${name}' declares ${b.bytes} bytes but its shape needs ${bytes}`);
    if (b.offset % 4 !== 0 || b.offset < 12 + hlen)
      throw new Error(`${path}: blob '${name}' has bad offset ${b.offset}`);
    if (b.offset + b.bytes > end) {
      throw new Error(
        `${path}: truncated file: blob '${name}' ends at byte ${b.offset + b.bytes} but the file has ${size} bytes${end < size ? " (and a 40-byte checksum trailer)" : ""}`,
      );
    }
  }
  const head = new Uint8Array(12 + hlen);
  head.set(pre);
  head.set(headBytes, 12);
  return { header, head };
}

/** Read the header only (cheap: no blob is loaded, so the checksum is not verified — readFeatures does that). */
export function readFeatureHeader(path: string): FeatureHeader {
  return withReadFd(path, (fd) => readHeader(fd, path));
}

/** Read and validate a feature file written by {@link writeFeatures}. */
export function readFeatures(path: string): LoadedFeatures {
  return withReadFd(path, (fd) => {
    const { header: meta, head } = parseHeaderAt(fd, path);
    const arrays: Record<string, Float32Array | Int32Array> = {
      feats: new Float32Array(meta.rows * meta.dim),
      labels: new Int32Array(meta.rows),
      indices: new Int32Array(meta.rows),
    };
    // Read every byte once, in file order, hashing as we go (version 2 verifies the trailer).
    const hash = createHash("sha256").update(head);
    let pos = head.length;
    const size = fileSize(fd);
    for (const b of [...meta.blobs].filter((x) => x.name in arrays).sort((x, y) => x.offset - y.offset)) {
      if (b.offset < pos)
        throw new Error(`${path}: blob '${b.name}' overlaps the previous one (offset ${b.offset}). ${FEATURE_FIX}`);
      if (b.offset > pos) hash.update(readBytes(fd, pos, b.offset - pos, path));
      const a = arrays[b.name];
      readInto(fd, a, b.offset, path);
      hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      pos = b.offset + b.bytes;
    }
    if (meta.version >= 2) {
      const end = size - TRAILER_BYTES;
      if (end > pos) hash.update(readBytes(fd, pos, end - pos, path));
      const trailer = readBytes(fd, end, TRAILER_BYTES, path);
      if (new TextDecoder("latin1").decode(trailer.subarray(0, 8)) !== TRAILER_MAGIC)
        throw new Error(
          `${path}: truncated file: the checksum trailer is missing (the write did not finish or the file was cut). ${FEATURE_FIX}`,
        );
      if (!Buffer.from(hash.digest()).equals(Buffer.from(trailer.subarray(8))))
        throw new CorruptFileError(
          path,
          "its content does not match its SHA-256 checksum (bytes were changed on disk)",
          FEATURE_FIX,
        );
    } else legacyNotice("feature", path, "write it again (ltr test --save-feat SPLIT) to get a verified copy");
    const feats = arrays.feats as Float32Array;
    assertFiniteRows(feats, meta.dim, `${path} (${meta.split} features)`);
    return {
      feats,
      dim: meta.dim,
      labels: arrays.labels as Int32Array,
      indices: arrays.indices as Int32Array,
      n: meta.rows,
      meta,
    };
  });
}
