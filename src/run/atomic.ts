/**
 * Atomic file writes: write a temporary file in the same folder, fsync it, optionally verify it, then rename over
 * the target. A crash or Ctrl-C mid-write leaves either the old file or the new one, never a torn one; a failed
 * write (disk full, read-only folder) removes its temporary file and names the path and the fix (fserror.ts).
 *
 * Temporary files are named `.<name>.<pid>.<time>.tmp`, so the ones a killed process left behind can be told
 * apart and removed by the next process that opens the folder ({@link removeStaleTemps}).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { faultPoint } from "./faults.js";
import { fsFailure } from "./fserror.js";

export interface AtomicWriteOptions {
  /** Check the complete temporary file before it replaces `path` (throw to keep the old file). */
  verify?: (tmpPath: string) => void;
}

const TEMP_RE = /^\..+\.(\d+)\.\d+\.tmp$/;

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/** Flush a folder's entry table so a rename survives a power cut (best effort: not every platform allows it). */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported here */
  }
}

/** Create a folder (and its parents), explaining a failure. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    // A recursive mkdir can report the wrong cause (ENOENT under a read-only parent): create the first missing
    // level on its own to get the real one.
    let first = dir;
    while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
    try {
      mkdirSync(first);
    } catch (e2) {
      throw fsFailure(e2, first, "create the folder");
    }
    throw fsFailure(e, dir, "create the folder");
  }
}

/**
 * Write a file atomically through a callback that writes into an open descriptor (large outputs written in pieces):
 * the temporary file is flushed, verified when asked, and renamed over `path`; on any error it is removed and the
 * error rethrown (file-system errors explained, naming `path`).
 */
export function writeAtomicWith(path: string, body: (fd: number) => void, opts: AtomicWriteOptions = {}): void {
  ensureDir(dirname(path));
  const tmp = tempName(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, "w");
    body(fd);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    faultPoint("tmp-written");
    opts.verify?.(tmp);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    rmSync(tmp, { force: true });
    throw (e as NodeJS.ErrnoException)?.code ? fsFailure(e, path, "write") : e;
  }
  fsyncDir(dirname(path));
}

export function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Uint8Array[],
  opts: AtomicWriteOptions = {},
): void {
  const parts = Array.isArray(data) ? data : [typeof data === "string" ? Buffer.from(data, "utf8") : data];
  writeAtomicWith(
    path,
    (fd) => {
      for (const p of parts) {
        let off = 0;
        while (off < p.byteLength) off += writeSync(fd, p, off, p.byteLength - off);
      }
    },
    opts,
  );
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Is a process with this id alive on this machine? (EPERM: it exists but belongs to someone else.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the temporary files of atomic writes that a dead process left in `dir` (a kill -9 between write and
 * rename). Files of live processes, this one included, are left alone. Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    rmSync(join(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}

/** Remove this process's own temporary files in `dir` (on a signal, before exiting). */
export function removeOwnTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (m && Number(m[1]) === process.pid) rmSync(join(dir, n), { force: true });
  }
}

/**
 * Fail now, before any long computation, if `file` cannot be written: a one-byte probe file is written and removed
 * in its folder (this catches read-only folders, missing permissions and a full disk). Missing folders are created
 * for the probe and removed again, so a check leaves no trace. The error names the file and the fix.
 */
export function assertWritable(file: string): void {
  const dir = dirname(file);
  const created: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    created.unshift(d);
    if (dirname(d) === d) break;
  }
  ensureDir(dir);
  const probe = join(dir, `.${basename(file)}.probe.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(probe, "w");
    try {
      writeSync(fd, "x");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw fsFailure(e, file, "write");
  } finally {
    rmSync(probe, { force: true });
    for (const d of created.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* not empty any more: keep it */
      }
    }
  }
}
