/**
 * File-system failures in words a user can act on. A raw `ENOSPC: no space left on device, write` names neither
 * the file nor the way out; every write of a run goes through {@link fsFailure}, which names the path, the cause
 * and a fix, and says that the previous file (if any) is unchanged — atomic writes never touch it before the
 * rename.
 */
import { dirname } from "node:path";

/** An error of the file system, explained: `path` and `code` stay available to callers. */
export class FsWriteError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "FsWriteError";
  }
}

/** Where to point a user who cannot write here. */
const ELSEWHERE = "or write somewhere else (ltr train --run-dir DIR, ltr classify --out FILE, ltr test --run-dir DIR)";

/**
 * Explain a failed file operation. `action` is what was being done ("write", "create the folder", "lock"), `path`
 * the file or folder concerned. Errors that are already explained pass through unchanged.
 */
export function fsFailure(e: unknown, path: string, action = "write"): Error {
  if (e instanceof FsWriteError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  const dir = dirname(path);
  let why: string;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      why = `no space left on the device holding ${dir} (${code}); free some space there ${ELSEWHERE}`;
      break;
    case "EROFS":
      why = `${dir} is on a read-only file system (EROFS); remount it read-write ${ELSEWHERE}`;
      break;
    case "EACCES":
    case "EPERM":
      why = `permission denied (${code}); make ${dir} writable for this user (chmod / chown) ${ELSEWHERE}`;
      break;
    case "ENOENT":
      why = `the folder ${dir} does not exist or was removed while writing (ENOENT); create it ${ELSEWHERE}`;
      break;
    case "ENOTDIR":
      why = `a component of ${path} is a file, not a folder (ENOTDIR); fix the path ${ELSEWHERE}`;
      break;
    case "EISDIR":
      why = `${path} is a folder, not a file (EISDIR); give a file name`;
      break;
    case "EMFILE":
    case "ENFILE":
      why = `too many open files (${code}); close other programs or raise the limit (ulimit -n)`;
      break;
    case "EIO":
      why = `input/output error (EIO): the disk or network share may be failing; check it`;
      break;
    default:
      why = err?.message ?? String(e);
  }
  const kept = action === "write" ? " Any previous version of the file is unchanged." : "";
  return new FsWriteError(`cannot ${action} ${path}: ${why}.${kept}`, path, code);
}

/** Run a synchronous file operation, rethrowing its failure as {@link fsFailure}. */
export function withFsErrors<T>(path: string, action: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    throw fsFailure(e, path, action);
  }
}
