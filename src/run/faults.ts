/**
 * Fault injection for the reliability tests (test/reliability/): `LTR_FAULT_KILL=<point>:<n>` makes the process
 * SIGKILL itself the n-th time (1-based) it passes the named point, exactly as a power cut or `kill -9` would.
 * Points: `step` (after an optimiser step), `tmp-written` (a temporary file of an atomic write is complete and
 * flushed, not yet renamed), `best-saved` (best.ckpt renamed, latest.ckpt not yet written), `epoch` (after an
 * epoch's checkpoints). Unset (the normal case) it costs one comparison.
 */
const spec = process.env.LTR_FAULT_KILL;
const [target, nth] = spec ? [spec.split(":")[0], Number(spec.split(":")[1] ?? 1)] : ["", 0];
let count = 0;

export function faultPoint(name: string): void {
  if (!spec || name !== target) return;
  if (++count === nth) process.kill(process.pid, "SIGKILL");
}
