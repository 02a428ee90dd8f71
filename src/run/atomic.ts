/**
 * Atomic file writes: write a temporary file in the same folder, fsync it, then rename over the target.
 * A crash or Ctrl-C mid-write leaves either the old file or the new one, never a torn one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Write a file atomically through a callback that writes into an open descriptor (large outputs written in pieces):
 * the temporary file is flushed and renamed over `path`; on error it is removed and the error rethrown.
 */
export function writeAtomicWith(path: string, body: (fd: number) => void): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    body(fd);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  const parts = Array.isArray(data) ? data : [typeof data === "string" ? Buffer.from(data, "utf8") : data];
  writeAtomicWith(path, (fd) => {
    for (const p of parts) {
      let off = 0;
      while (off < p.byteLength) off += writeSync(fd, p, off, p.byteLength - off);
    }
  });
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
