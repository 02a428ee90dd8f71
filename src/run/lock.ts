/**
 * One writer per run folder: `run.lock` holds {pid, host, started_at, command} of the process writing the folder.
 * It is created with O_EXCL before anything else is written, so a second `ltr train` on the same folder stops at
 * once with an error naming the holder. A lock whose process is gone (same host, pid no longer running, or
 * running but started at another time — a reused pid) is stale and taken over; a lock from another host cannot
 * be checked and is respected, with the command to remove it by hand.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { pidAlive } from "./atomic.js";
import { fsFailure } from "./fserror.js";

export const LOCK_FILE = "run.lock";

export interface LockInfo {
  pid: number;
  host: string;
  started_at: string;
  /** Process start time in clock ticks since boot (Linux /proc), to tell a reused pid from the holder. */
  pid_start: string | null;
  command: string;
}

/** Held by another live process (or one on another host). */
export class RunLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockInfo,
    why: string,
  ) {
    super(why);
    this.name = "RunLockedError";
  }
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or null where /proc is not available. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** Locks this process holds, by folder (a second open of one folder in one process is refused too). */
const held = new Map<string, LockInfo>();

export function lockPath(dir: string): string {
  return join(dir, LOCK_FILE);
}

/** The lock of a folder, or null when there is none (an unreadable lock counts as held by an unknown process). */
export function readLock(dir: string): LockInfo | null {
  let text: string;
  try {
    text = readFileSync(lockPath(dir), "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as LockInfo;
  } catch {
    // Being written right now (O_EXCL create, then write), or damaged: judge it by its age.
    let age = 0;
    try {
      age = Date.now() - statSync(lockPath(dir)).mtimeMs;
    } catch {
      return null;
    }
    return {
      pid: -1,
      host: age > 10_000 ? "(unreadable lock)" : hostname(),
      started_at: "unknown",
      pid_start: null,
      command: "unknown",
    };
  }
}

/**
 * Is the lock's holder still running? `true` / `false` on this host; `null` when it cannot be told (another host,
 * or an unreadable lock file).
 */
export function holderAlive(info: LockInfo, dir?: string): boolean | null {
  if (info.host !== hostname()) return null;
  if (info.pid === -1) return true; // a lock being written this instant
  if (info.pid === process.pid) return dir !== undefined && held.get(dir)?.started_at === info.started_at;
  if (!pidAlive(info.pid)) return false;
  const now = processStart(info.pid);
  return info.pid_start === null || now === null || now === info.pid_start;
}

export function describeHolder(h: LockInfo): string {
  if (h.pid === -1)
    return h.host === hostname()
      ? "a process that is taking the lock right now"
      : "an unknown process (the lock file cannot be read)";
  return `pid ${h.pid} on ${h.host} (started ${h.started_at}: ${h.command})`;
}

function lockedError(dir: string, h: LockInfo, alive: boolean | null): RunLockedError {
  const lp = lockPath(dir);
  if (h.pid === process.pid && h.host === hostname() && alive)
    return new RunLockedError(
      dir,
      h,
      `run folder ${dir} is already open in this process (${describeHolder(h)}); close the other run first`,
    );
  if (alive === null)
    return new RunLockedError(
      dir,
      h,
      `run folder ${dir} is locked by ${describeHolder(h)}, which cannot be checked from ${hostname()}. ` +
        `If no process on ${h.host} is writing this folder any more, delete ${lp} and try again.`,
    );
  return new RunLockedError(
    dir,
    h,
    `run folder ${dir} is in use by ${describeHolder(h)}: only one process may write a run folder. ` +
      `Wait for it to finish, stop it (kill ${h.pid}), or use another folder (--run-dir).`,
  );
}

export interface RunLock {
  dir: string;
  info: LockInfo;
  /** The holder a stale lock was taken over from, if any. */
  tookOverFrom: LockInfo | null;
  release(): void;
}

function tryCreate(dir: string, info: LockInfo): boolean {
  const p = lockPath(dir);
  let fd: number;
  try {
    fd = openSync(p, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw fsFailure(e, p, "lock the run folder by creating");
  }
  try {
    writeSync(fd, `${JSON.stringify(info, null, 2)}\n`);
  } catch (e) {
    closeSync(fd);
    rmSync(p, { force: true });
    throw fsFailure(e, p, "write");
  } finally {
    try {
      closeSync(fd);
    } catch {
      /* closed above */
    }
  }
  return true;
}

/**
 * Take the lock of a run folder (which must exist), or throw {@link RunLockedError} naming the holder. A stale
 * lock (holder dead) is taken over; `tookOverFrom` says from whom.
 */
export function acquireRunLock(dir: string): RunLock {
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started_at: new Date().toISOString(),
    pid_start: processStart(process.pid),
    command: process.argv.slice(1).join(" ").slice(0, 300),
  };
  let tookOverFrom: LockInfo | null = null;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (attempt > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25 * attempt);
    if (tryCreate(dir, info)) {
      held.set(dir, info);
      let released = false;
      return {
        dir,
        info,
        tookOverFrom,
        release() {
          if (released) return;
          released = true;
          held.delete(dir);
          // Only remove the lock if it is still ours (it could have been taken over as stale by mistake).
          const now = readLock(dir);
          if (now && now.pid === info.pid && now.started_at === info.started_at) rmSync(lockPath(dir), { force: true });
        },
      };
    }
    const h = readLock(dir);
    if (!h) continue; // removed in between: try again
    // Our own pid without a lock of ours on this folder: left by an earlier process that had the same pid.
    if (h.pid === -1 && h.host === hostname() && attempt < 7) continue; // being written this instant: look again
    const alive = holderAlive(h, dir);
    if (alive !== false) throw lockedError(dir, h, alive);
    if (!takeOver(dir, h)) continue;
    tookOverFrom = h;
  }
  throw new Error(
    `could not lock run folder ${dir}: its lock ${lockPath(dir)} keeps changing (another process is starting there); try again`,
  );
}

/**
 * Remove a stale lock, guarded by a short-lived `run.lock.takeover` file so that two processes taking over the
 * same stale lock cannot both succeed. Returns false when someone else is doing it.
 */
function takeOver(dir: string, stale: LockInfo): boolean {
  const guard = `${lockPath(dir)}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw fsFailure(e, guard, "create");
    // A takeover guard older than 30 s belongs to a process that died while taking over.
    try {
      if (Date.now() - statSync(guard).mtimeMs > 30_000) rmSync(guard, { force: true });
    } catch {
      /* gone */
    }
    return false;
  }
  closeSync(fd);
  try {
    const again = readLock(dir);
    if (again && again.pid === stale.pid && again.started_at === stale.started_at)
      rmSync(lockPath(dir), { force: true });
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Is the folder locked by a live process (other than this one's own locks)? Returns the holder, else null. */
export function liveHolder(dir: string): LockInfo | null {
  const h = readLock(dir);
  if (!h) return null;
  if (held.get(dir)?.started_at === h.started_at) return null;
  return holderAlive(h, dir) === false ? null : h;
}
