/**
 * Is the machine quiet enough to time on? The load average at the start (a report is refused above 0.5 per core),
 * and a guard that compares the kernel's system-wide busy time with the CPU time of this process and its children:
 * whatever else ran during a measurement shows up as "foreign" cores.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

/** Load average per logical CPU above which a report is refused. */
export const BUSY_LOAD_PER_CORE = 0.5;

export interface LoadCheck {
  /** 1, 5, 15-minute load averages. */
  loadavg: number[];
  cores: number;
  /** loadavg[0] / cores. */
  perCore: number;
  busy: boolean;
}

export function loadCheck(): LoadCheck {
  const l = loadavg();
  const cores = cpus().length;
  const perCore = l[0] / cores;
  return { loadavg: l, cores, perCore, busy: perCore > BUSY_LOAD_PER_CORE };
}

const TICK = 100; // USER_HZ on Linux

/** System-wide busy seconds (all CPUs, from /proc/stat), or null where /proc is absent. */
function systemBusySeconds(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    const busy = f.reduce((s, v, i) => (i === 3 || i === 4 ? s : s + v), 0);
    return busy / TICK;
  } catch {
    return null;
  }
}

/** CPU seconds of this process plus its waited-for children (utime, stime, cutime, cstime of /proc/self/stat). */
function ownSeconds(): number | null {
  try {
    const s = readFileSync("/proc/self/stat", "utf8");
    const f = s
      .slice(s.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    return (f[11] + f[12] + f[13] + f[14]) / TICK;
  } catch {
    return null;
  }
}

export interface Guard {
  /** Average number of cores used by other processes since `startGuard` (null where /proc is absent). */
  foreignCores(): number | null;
}

export function startGuard(): Guard {
  const b0 = systemBusySeconds();
  const o0 = ownSeconds();
  const t0 = performance.now();
  return {
    foreignCores(): number | null {
      const b1 = systemBusySeconds();
      const o1 = ownSeconds();
      if (b0 === null || b1 === null || o0 === null || o1 === null) return null;
      const wall = (performance.now() - t0) / 1000;
      return wall > 0 ? Math.max(0, (b1 - b0 - (o1 - o0)) / wall) : null;
    },
  };
}

/** The commit being measured, "(uncommitted changes)" appended when tracked files differ from it. */
export function gitCommit(): string {
  try {
    const c = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return dirty ? `${c} (uncommitted changes)` : c;
  } catch {
    return "unknown";
  }
}
