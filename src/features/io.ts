/**
 * Chunked positional file I/O for large typed arrays. `fs.readFileSync` stops at 2 GiB and would hold a second copy
 * of a 0.9–3.6 GB feature matrix, so blobs are read straight into their destination array in pieces, and written
 * to a temporary file then renamed (run/atomic.ts) so a crash never leaves a half-written file under the real name.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

/** Largest single read/write; well under Node's 2 GiB per-call limit. */
const CHUNK = 1 << 28;

/** Size in bytes of an open file. */
export function fileSize(fd: number): number {
  return fstatSync(fd).size;
}

/** Fill `dest` with `dest.byteLength` bytes read at `position`; throws naming `path` if the file ends early. */
export function readInto(fd: number, dest: ArrayBufferView, position: number, path: string): void {
  const bytes = new Uint8Array(dest.buffer, dest.byteOffset, dest.byteLength);
  let done = 0;
  while (done < bytes.length) {
    const want = Math.min(CHUNK, bytes.length - done);
    const got = readSync(fd, bytes, done, want, position + done);
    if (got === 0) {
      throw new Error(`${path}: truncated file: expected ${bytes.length} bytes at offset ${position}, got ${done}`);
    }
    done += got;
  }
}

/** Read `length` bytes at `position` into a fresh buffer. */
export function readBytes(fd: number, position: number, length: number, path: string): Uint8Array {
  const b = new Uint8Array(length);
  readInto(fd, b, position, path);
  return b;
}

/** Write all bytes of `src` at the current position of `fd`. */
export function writeAll(fd: number, src: ArrayBufferView): void {
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(CHUNK, bytes.length - done));
}

/** Atomic writes through a descriptor: the project-wide implementation (temporary file, fsync, rename). */
export { writeAtomicWith as writeAtomically } from "../run/atomic.js";

/** Run `body` with a read-only fd for `path`, closing it afterwards; a missing file names the path. */
export function withReadFd<T>(path: string, body: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new Error(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return body(fd);
  } finally {
    closeSync(fd);
  }
}
