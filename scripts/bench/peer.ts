/**
 * scripts/bench/torch_peer.py under both thread-wait policies: as installed (libgomp spinning, OpenBLAS's default
 * thread timeout) and under our addon's settings (passive workers). Callers keep the better figure per workload, so
 * a ratio never flatters us.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const PEER_POLICIES = ["default", "passive"] as const;

/** One torch_peer.py run per policy: the parsed last stdout line of each that succeeded, and the last failure. */
export function runTorchPeer<T>(
  args: string[],
  peerEnv: NodeJS.ProcessEnv,
  threads: number,
): { runs: Partial<Record<(typeof PEER_POLICIES)[number], T>>; failed: string } {
  const runs: Partial<Record<(typeof PEER_POLICIES)[number], T>> = {};
  let failed = "";
  for (const policy of PEER_POLICIES) {
    const env: NodeJS.ProcessEnv = {
      ...peerEnv,
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
    };
    if (policy === "passive") Object.assign(env, { OMP_WAIT_POLICY: "passive", OPENBLAS_THREAD_TIMEOUT: "4" });
    const r = spawnSync("/usr/bin/python3", [join("scripts", "bench", "torch_peer.py"), ...args], {
      encoding: "utf8",
      env,
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) {
      failed = `torch_peer.py failed (exit ${r.status}, OMP_WAIT_POLICY ${policy}): ${(r.stderr ?? "").trim().split("\n").slice(-1)[0]}`;
      continue;
    }
    runs[policy] = JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]) as T;
  }
  return { runs, failed };
}
