/**
 * The stage-2 workloads (features.ts: τ sweep, NCM, a cRT epoch) against PyTorch, in alternated rounds.
 *
 * One timing of each is not enough on this machine kind: the same workload varies by ±30% from one minute to the
 * next (a 2-core VM whose neighbours come and go), so a single pair says more about the minute than about the code.
 * Each round times our three workloads once (in this process, on features made once) and PyTorch's three once
 * (scripts/bench/torch_peer.py --stage2 1, a fresh process on the same synthetic features), and the order alternates
 * between rounds. PyTorch runs under both thread-wait policies in every round and keeps the better figure of each
 * workload, so the ratio does not flatter us. The report gives each workload's median over the rounds and the median
 * (min–max) of the per-round ratios.
 */
import { median } from "./epochs.js";
import { crtEpoch, type FeatureSizes, makeFeatures, ncm, tauSweep } from "./features.js";
import { runTorchPeer } from "./peer.js";

export const STAGE2_WORKLOADS = ["tau_sweep_s", "ncm_s", "crt_epoch_s"] as const;
export type Stage2Workload = (typeof STAGE2_WORKLOADS)[number];
export type Stage2Times = Record<Stage2Workload, number>;

export interface Stage2Round {
  order: "ours-first" | "torch-first";
  ours: Stage2Times;
  /** Null when PyTorch is not installed or its run failed (the note says why). */
  torch: Stage2Times | null;
}

export interface Stage2Result {
  rounds: Stage2Round[];
  /** Median seconds over the rounds. */
  ours: Stage2Times;
  torch: Stage2Times | null;
  /** Per workload: median, min and max of ours / torch time over the rounds (null without PyTorch). */
  ratio: Record<Stage2Workload, { median: number; min: number; max: number }> | null;
  /** Why PyTorch is missing, or which policies ran. */
  note: string;
}

export interface Stage2Opts {
  sizes: FeatureSizes;
  rounds: number;
  threads: number;
  /** Run the PyTorch side (false: --no-torch or torch not importable). */
  torch: boolean;
  /** Environment for the peer. */
  peerEnv: NodeJS.ProcessEnv;
  log: (s: string) => void;
}

function timeOnce(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/** PyTorch's three workloads once, under each wait policy (peer.ts); the better time per workload. */
function torchRound(o: Stage2Opts): { times: Stage2Times | null; note: string } {
  const z = o.sizes;
  const args = [
    ...["--threads", String(o.threads), "--configs", "", "--stage2", "1"],
    ...["--ntrain", String(z.nTrain), "--nquery", String(z.nQuery), "--nval", String(z.nVal)],
  ];
  const { runs, failed } = runTorchPeer<{ stage2: Stage2Times }>(args, o.peerEnv, o.threads);
  const got = Object.values(runs).map((r) => r.stage2);
  if (got.length === 0) return { times: null, note: failed };
  const best = { ...got[0] };
  for (const g of got.slice(1)) for (const k of STAGE2_WORKLOADS) best[k] = Math.min(best[k], g[k]);
  return { times: best, note: `the better of OMP_WAIT_POLICY ${Object.keys(runs).join(" / ")} per workload` };
}

export function runStage2(o: Stage2Opts): Stage2Result {
  const z = o.sizes;
  const train = makeFeatures(z.nTrain, z.dim, z.classes, 1);
  const query = makeFeatures(z.nQuery, z.dim, z.classes, 2);
  const val = makeFeatures(z.nVal, z.dim, z.classes, 4);
  const w = makeFeatures(z.classes, z.dim, 2, 3).x.map((v) => v - 0.2);
  tauSweep({ x: query.x.subarray(0, 5000 * z.dim), y: query.y.subarray(0, 5000) }, w, { ...z, taus: 2 }); // warm-up
  const ours = (): Stage2Times => ({
    tau_sweep_s: timeOnce(() => tauSweep(query, w, z)),
    ncm_s: timeOnce(() => ncm(train, query, z)),
    crt_epoch_s: timeOnce(() => crtEpoch(train, val, z, 0)),
  });
  const rounds: Stage2Round[] = [];
  let note = o.torch ? "" : "PyTorch not run";
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? "ours-first" : "torch-first";
    let peer: Stage2Times | null = null;
    if (order === "torch-first" && o.torch) ({ times: peer, note } = torchRound(o));
    const mine = ours();
    if (order === "ours-first" && o.torch) ({ times: peer, note } = torchRound(o));
    rounds.push({ order, ours: mine, torch: peer });
    const f = (t: Stage2Times | null) =>
      t ? STAGE2_WORKLOADS.map((k) => `${k.replace(/_s$/, "")} ${t[k].toFixed(2)} s`).join(", ") : "–";
    o.log(`stage 2 round ${r + 1}/${o.rounds} (${order}): ours ${f(mine)}; torch ${f(peer)}`);
  }
  const med = (pick: (r: Stage2Round) => Stage2Times | null): Stage2Times | null => {
    const got = rounds.map(pick).filter((t): t is Stage2Times => t !== null);
    if (got.length === 0) return null;
    return Object.fromEntries(STAGE2_WORKLOADS.map((k) => [k, median(got.map((t) => t[k]))])) as Stage2Times;
  };
  const paired = rounds.filter((r) => r.torch !== null);
  const ratio =
    paired.length === 0
      ? null
      : (Object.fromEntries(
          STAGE2_WORKLOADS.map((k) => {
            const xs = paired.map((r) => r.ours[k] / r.torch![k]);
            return [k, { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }];
          }),
        ) as Record<Stage2Workload, { median: number; min: number; max: number }>);
  return { rounds, ours: med((r) => r.ours)!, torch: med((r) => r.torch), ratio, note };
}
