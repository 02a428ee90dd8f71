/**
 * Feature rows written in verified chunks, so that a long extraction (ImageNet-LT's 115,846 train rows take hours
 * on a laptop CPU) that is interrupted continues where it stopped, and memory stays bounded by one chunk.
 *
 * A chunk folder (`<output>.chunks/` by convention) holds:
 *  - `chunk-000000.f32`, `chunk-000001.f32`, ...: rows [k·chunkRows, min((k+1)·chunkRows, rows)) of the feature
 *    matrix, raw little-endian float32, row-major; each written to a temporary file, fsynced and renamed;
 *  - `manifest.json`: the extraction's identity (`key`: checkpoint and data hashes, backbone, batch size, ...),
 *    the geometry (`rows`, `dim`, `chunkRows`) and one entry per finished chunk with its byte length and SHA-256.
 *    The manifest is rewritten atomically after each chunk, so it only ever lists chunks that are complete on disk.
 *
 * Reopening the folder with the same identity verifies every listed chunk (size and SHA-256) and keeps those that
 * pass; a chunk file the manifest does not list (a kill between its rename and the manifest update) or that fails
 * verification is computed again. A folder with another identity belongs to another extraction and is replaced.
 * {@link ChunkedFeatures.assemble} reads the chunks back, verifying each checksum again, into one matrix.
 *
 * One writer at a time: `lock` holds the writing process's id while the folder is open; a second process gets a
 * clear error, and a lock whose process no longer runs (a kill) is taken over.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../hash.js";
import { writeAtomicWith, writeJsonAtomic } from "../run/atomic.js";
import { readInto, withReadFd, writeAll } from "./io.js";

/** The `format` string of a chunk manifest. */
export const CHUNK_MANIFEST_FORMAT = "decoupling-lt/feature-chunks";
/** Current manifest version; other versions are not resumed (the folder is replaced). */
export const CHUNK_MANIFEST_VERSION = 1;

/** One finished chunk as the manifest lists it. */
export interface ChunkEntry {
  /** Chunk number k; rows start at k·chunkRows. */
  index: number;
  /** First row. */
  start: number;
  /** Rows in this chunk (chunkRows, or fewer for the last). */
  rows: number;
  /** File name inside the chunk folder. */
  file: string;
  /** Byte length = rows·dim·4. */
  bytes: number;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
}

/** The chunk folder's `manifest.json`. */
export interface ChunkManifest {
  format: string;
  version: number;
  /** What was extracted (checkpoint and data hashes, backbone, batch size, transform...): resume only on equality. */
  key: Record<string, unknown>;
  rows: number;
  dim: number;
  chunkRows: number;
  /** Finished chunks, sorted by index. */
  chunks: ChunkEntry[];
}

/** Arguments of {@link ChunkedFeatures.open}. */
export interface ChunkedArgs {
  /** The chunk folder (created when missing). */
  dir: string;
  /** Total rows of the matrix. */
  rows: number;
  /** Feature dimension. */
  dim: number;
  /** Rows per chunk (the last chunk may be shorter). */
  chunkRows: number;
  /** Identity of the extraction; must be JSON-serialisable. */
  key: Record<string, unknown>;
}

/** What reopening a chunk folder found. */
export interface ResumeReport {
  /** Chunks verified and kept. */
  kept: number;
  /** Listed chunks that failed verification (missing, wrong size or checksum) and will be recomputed. */
  rejected: string[];
  /** Why an existing folder was replaced instead of resumed, if it was. */
  replaced?: string;
}

const MANIFEST = "manifest.json";
const LOCK = "lock";

/** True when a process with this id exists (signal 0 only checks). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Take the folder's lock for this process, or throw naming the process that holds it. */
function acquireLock(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new Error(
          `${dir} is being written by process ${holder} (an extraction of the same features); wait for it to finish, or delete ${path} if that process is not an extraction`,
        );
      }
      rmSync(path, { force: true }); // left by a process that is gone (or by us): take it over
    }
  }
  throw new Error(`${dir}: could not take the lock ${path}`);
}

function chunkFile(index: number): string {
  return `chunk-${String(index).padStart(6, "0")}.f32`;
}

/** Canonical JSON (sorted object keys) so that key comparison does not depend on property order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** A chunk folder being filled; see the module comment. */
export class ChunkedFeatures {
  readonly dir: string;
  readonly rows: number;
  readonly dim: number;
  readonly chunkRows: number;
  /** Number of chunks the matrix is cut into. */
  readonly numChunks: number;
  private readonly manifest: ChunkManifest;
  private readonly have: Map<number, ChunkEntry>;

  private constructor(a: ChunkedArgs, manifest: ChunkManifest) {
    this.dir = a.dir;
    this.rows = a.rows;
    this.dim = a.dim;
    this.chunkRows = a.chunkRows;
    this.numChunks = Math.ceil(a.rows / a.chunkRows);
    this.manifest = manifest;
    this.have = new Map(manifest.chunks.map((c) => [c.index, c]));
  }

  /** Open (or create) a chunk folder, verifying what an earlier run left; see {@link ResumeReport}. */
  static open(a: ChunkedArgs): { store: ChunkedFeatures; report: ResumeReport } {
    if (!Number.isInteger(a.rows) || a.rows < 0)
      throw new Error(`${a.dir}: rows must be a non-negative integer, got ${a.rows}`);
    if (!Number.isInteger(a.dim) || a.dim <= 0)
      throw new Error(`${a.dir}: dim must be a positive integer, got ${a.dim}`);
    if (!Number.isInteger(a.chunkRows) || a.chunkRows <= 0)
      throw new Error(`${a.dir}: chunkRows must be a positive integer, got ${a.chunkRows}`);
    const fresh: ChunkManifest = {
      format: CHUNK_MANIFEST_FORMAT,
      version: CHUNK_MANIFEST_VERSION,
      key: a.key,
      rows: a.rows,
      dim: a.dim,
      chunkRows: a.chunkRows,
      chunks: [],
    };
    const report: ResumeReport = { kept: 0, rejected: [] };
    const mpath = join(a.dir, MANIFEST);
    acquireLock(a.dir);
    try {
      const why = existsSync(mpath) ? ChunkedFeatures.incompatible(mpath, a) : "no manifest";
      if (why === null) {
        const old = JSON.parse(readFileSync(mpath, "utf8")) as ChunkManifest;
        for (const c of old.chunks) {
          const bad = ChunkedFeatures.verifyEntry(a.dir, c, a);
          if (bad === null) fresh.chunks.push(c);
          else report.rejected.push(`${c.file}: ${bad}`);
        }
        report.kept = fresh.chunks.length;
      } else {
        if (existsSync(mpath)) report.replaced = why;
        // Nothing here is verifiable against this extraction: remove our kinds of file (chunks, the manifest,
        // temporaries of interrupted writes) and keep anything else.
        for (const f of readdirSync(a.dir)) {
          if (/^chunk-\d{6}\.f32$/.test(f) || f === MANIFEST || f.endsWith(".tmp"))
            rmSync(join(a.dir, f), { force: true });
        }
      }
    } catch (e) {
      rmSync(join(a.dir, LOCK), { force: true });
      throw e;
    }
    const store = new ChunkedFeatures(a, fresh);
    writeJsonAtomic(mpath, store.manifest);
    return { store, report };
  }

  /** null when the manifest at `mpath` describes the same extraction and geometry, else the reason it does not. */
  private static incompatible(mpath: string, a: ChunkedArgs): string | null {
    let m: ChunkManifest;
    try {
      m = JSON.parse(readFileSync(mpath, "utf8")) as ChunkManifest;
    } catch (e) {
      return `unreadable manifest (${(e as Error).message})`;
    }
    if (m.format !== CHUNK_MANIFEST_FORMAT || m.version !== CHUNK_MANIFEST_VERSION)
      return `manifest format ${m.format} v${m.version}`;
    if (m.rows !== a.rows || m.dim !== a.dim || m.chunkRows !== a.chunkRows) {
      return `geometry ${m.rows}x${m.dim} in chunks of ${m.chunkRows}, now ${a.rows}x${a.dim} in chunks of ${a.chunkRows}`;
    }
    if (canonical(m.key) !== canonical(a.key))
      return `another extraction (key ${canonical(m.key)}, now ${canonical(a.key)})`;
    if (!Array.isArray(m.chunks)) return "manifest without a chunk list";
    return null;
  }

  /** null when a listed chunk is intact on disk, else what is wrong with it. */
  private static verifyEntry(dir: string, c: ChunkEntry, a: ChunkedArgs): string | null {
    const numChunks = Math.ceil(a.rows / a.chunkRows);
    if (!Number.isInteger(c.index) || c.index < 0 || c.index >= numChunks)
      return `index ${c.index} outside [0, ${numChunks})`;
    const start = c.index * a.chunkRows;
    const rows = Math.min(a.chunkRows, a.rows - start);
    if (c.start !== start || c.rows !== rows || c.bytes !== rows * a.dim * 4 || c.file !== chunkFile(c.index))
      return "entry disagrees with the geometry";
    const path = join(dir, c.file);
    if (!existsSync(path)) return "file missing";
    const size = statSync(path).size;
    if (size !== c.bytes) return `${size} bytes, manifest says ${c.bytes}`;
    const got = sha256Hex(readFileSync(path));
    return got === c.sha256 ? null : `SHA-256 ${got}, manifest says ${c.sha256}`;
  }

  /** Rows [start, start + rows) of chunk k. */
  chunkRange(k: number): { start: number; rows: number } {
    const start = k * this.chunkRows;
    return { start, rows: Math.min(this.chunkRows, this.rows - start) };
  }

  /** True when chunk k is written and verified. */
  has(k: number): boolean {
    return this.have.has(k);
  }

  /** Chunks still to compute, in order. */
  missing(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.numChunks; k++) if (!this.have.has(k)) out.push(k);
    return out;
  }

  /** Rows already on disk. */
  rowsDone(): number {
    let n = 0;
    for (const c of this.have.values()) n += c.rows;
    return n;
  }

  /** Write chunk k (its rows·dim values) durably, then record it in the manifest. */
  writeChunk(k: number, feats: Float32Array): void {
    const { start, rows } = this.chunkRange(k);
    if (k < 0 || k >= this.numChunks || !Number.isInteger(k))
      throw new Error(`${this.dir}: chunk ${k} outside [0, ${this.numChunks})`);
    if (feats.length !== rows * this.dim)
      throw new Error(`${this.dir}: chunk ${k} needs ${rows}x${this.dim} values, got ${feats.length}`);
    const bytes = new Uint8Array(feats.buffer, feats.byteOffset, feats.byteLength);
    const file = chunkFile(k);
    writeAtomicWith(join(this.dir, file), (fd) => writeAll(fd, bytes));
    const entry: ChunkEntry = { index: k, start, rows, file, bytes: bytes.length, sha256: sha256Hex(bytes) };
    this.have.set(k, entry);
    this.manifest.chunks = [...this.have.values()].sort((p, q) => p.index - q.index);
    writeJsonAtomic(join(this.dir, MANIFEST), this.manifest);
  }

  /**
   * The whole matrix from the chunks, each verified against its checksum as it is read (one copy in memory:
   * rows·dim floats). Throws naming the chunk when one is missing or does not match.
   */
  assemble(): Float32Array {
    const missing = this.missing();
    if (missing.length > 0)
      throw new Error(
        `${this.dir}: cannot assemble, ${missing.length} chunk(s) missing (first: ${chunkFile(missing[0])})`,
      );
    const out = new Float32Array(this.rows * this.dim);
    for (let k = 0; k < this.numChunks; k++) {
      const c = this.have.get(k)!;
      const view = out.subarray(c.start * this.dim, (c.start + c.rows) * this.dim);
      const path = join(this.dir, c.file);
      withReadFd(path, (fd) => readInto(fd, view, 0, path));
      const got = sha256Hex(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      if (got !== c.sha256)
        throw new Error(
          `${path}: SHA-256 ${got} does not match the manifest's ${c.sha256}; delete the file and run the extraction again to recompute it`,
        );
    }
    return out;
  }

  /** Give up the folder's lock, keeping the chunks for a later resume (after an error or a requested stop). */
  release(): void {
    const path = join(this.dir, LOCK);
    try {
      if (Number(readFileSync(path, "utf8").trim()) === process.pid) rmSync(path, { force: true });
    } catch {
      /* already gone */
    }
  }

  /** Remove the chunk folder (after the assembled output has been written). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
