/**
 * Ctrl-C and `kill` (SIGINT, SIGTERM, SIGHUP) while a run is open: every open run's manifest is marked
 * `interrupted`, its temporary files are removed and its lock released, then the process exits with 128 + the
 * signal number — unless something else in the process (a notebook kernel, a test runner) also listens for the
 * signal: then the runs are only asked to stop ({@link interruptRequested}); the training loop checks that after
 * every step and stops as after `stopAfterEpochs`, through the normal clean-up path.
 *
 * A kill -9 cannot be caught; the next process that looks at the folder finds a `running` manifest whose lock
 * holder is gone and repairs it to `interrupted` (rundir.ts, `repairStaleRun`).
 */
import { constants } from "node:os";

export interface ActiveRun {
  dir: string;
  /** Mark the run interrupted on disk and release it (synchronous: runs inside the signal handler). */
  abort(signal: string): void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const active = new Set<ActiveRun>();
let requested: string | null = null;
let installed = false;
/** Whether other listeners were there when ours was installed (then we must not exit the process). */
let shared = false;

function onSignal(signal: NodeJS.Signals): void {
  requested = signal;
  if (shared) return;
  for (const r of [...active]) {
    try {
      r.abort(signal);
    } catch (e) {
      process.stderr.write(`while stopping the run in ${r.dir}: ${(e as Error).message}\n`);
    }
  }
  process.stderr.write(`\n${signal}: run stopped; continue it with --resume\n`);
  process.exit(128 + (constants.signals[signal] ?? 1));
}

export function registerRun(r: ActiveRun): void {
  active.add(r);
  if (!installed) {
    shared = SIGNALS.some((s) => process.listenerCount(s) > 0);
    for (const s of SIGNALS) process.on(s, onSignal);
    installed = true;
  }
}

export function unregisterRun(r: ActiveRun): void {
  active.delete(r);
  if (active.size === 0 && installed) {
    for (const s of SIGNALS) process.off(s, onSignal);
    installed = false;
    requested = null;
  }
}

/**
 * Let the event loop run once. Batches that load synchronously resolve as microtasks, and a loop of those never
 * reaches the phase where Node delivers signals: the training loop awaits this after every step so that Ctrl-C and
 * kill are handled within one step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The signal received while runs were open (the loop stops at the next step), or null. */
export function interruptRequested(): string | null {
  return requested;
}
