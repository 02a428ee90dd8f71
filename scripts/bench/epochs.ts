/**
 * The headline stage-1 figure: real training epochs, ours against PyTorch, in A/B alternation.
 *
 * Ours is `ltr train` itself (a child process, exactly as a user runs it); its training images/s per epoch come from
 * log.jsonl (src/train/loop.ts times sampler, augmentation, forward, backward and SGD; validation excluded). The
 * peer is scripts/bench/torch_epoch.py, a plain PyTorch epoch loop of the same recipe on the same training images,
 * timed the same way. Each pair runs both once (the order alternates between pairs, so a drift in machine speed does
 * not favour one side); a run's figure is the median over its epochs after the first (the first pays for warm-up:
 * JIT compilation, kernel plans, page faults).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface EpochWorkload {
  /** Key in the report, e.g. "resnet8 Fashion-MNIST-LT 28x28x1". */
  name: string;
  /** `ltr train` arguments after `train` (config, overrides, data root). */
  ltrArgs: string[];
  /** Backbone name for the peer. */
  model: string;
  /** Folder with the exported training split for the peer (scripts/bench/data.ts). */
  peerData: string;
  /** Training images per epoch (⌊N/128⌋·128). */
  imagesPerEpoch: number;
}

export interface RunResult {
  /** Training images/s of every epoch of the run. */
  epochs: number[];
  /** Median over epochs after the first (all epochs when there is only one). */
  img_s: number;
  /** Wall seconds of the whole child process (start-up, validation and checkpoints included for ours). */
  wall_s: number;
}

export interface PairResult {
  order: "ours-first" | "torch-first";
  ours: RunResult;
  torch: RunResult | null;
  /** ours.img_s / torch.img_s. */
  ratio: number | null;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarise(epochs: number[], wall: number): RunResult {
  return { epochs, img_s: median(epochs.length > 1 ? epochs.slice(1) : epochs), wall_s: wall };
}

export interface EpochOpts {
  epochs: number;
  threads: number;
  /** Environment for the peer (PyTorch as installed, or under our thread-wait settings). */
  peerEnv: NodeJS.ProcessEnv;
  runDir: (tag: string) => string;
  log: (s: string) => void;
}

/** One `ltr train` run of `epochs` epochs. */
export function runOurs(w: EpochWorkload, o: EpochOpts, tag: string): RunResult {
  const dir = o.runDir(tag);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ["bin/ltr.mjs", "train", ...w.ltrArgs, "--set", `training_opt.num_epochs=${o.epochs}`, "--run-dir", dir],
    {
      encoding: "utf8",
      env: { ...process.env, LTR_NUM_THREADS: String(o.threads) },
      maxBuffer: 1 << 26,
    },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(
      `bench: ltr train ${w.ltrArgs.join(" ")} failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`,
    );
  const epochs = readFileSync(join(dir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { kind: string; images_per_s: number })
    .filter((l) => l.kind === "epoch")
    .map((l) => l.images_per_s);
  return summarise(epochs, wall);
}

/** One run of the PyTorch epoch loop; null (with the reason logged) when it fails. */
export function runTorch(w: EpochWorkload, o: EpochOpts): RunResult | null {
  const t0 = performance.now();
  const r = spawnSync(
    "/usr/bin/python3",
    [
      join("scripts", "bench", "torch_epoch.py"),
      "--data",
      w.peerData,
      "--model",
      w.model,
      "--epochs",
      String(o.epochs),
      "--threads",
      String(o.threads),
    ],
    {
      encoding: "utf8",
      env: o.peerEnv,
      maxBuffer: 1 << 24,
    },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    o.log(`  PyTorch epoch loop failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-1)[0]}`);
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]) as { epochs: Array<{ images_per_s: number }> };
  return summarise(
    out.epochs.map((e) => e.images_per_s),
    wall,
  );
}

/** `pairs` alternated pairs of runs (ours-first, torch-first, ...); the peer is skipped when `torch` is false. */
export function epochPairs(w: EpochWorkload, o: EpochOpts, pairs: number, torch: boolean): PairResult[] {
  const out: PairResult[] = [];
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? "ours-first" : "torch-first";
    let ours: RunResult;
    let peer: RunResult | null = null;
    if (order === "ours-first" || !torch) {
      ours = runOurs(w, o, `${p}`);
      if (torch) peer = runTorch(w, o);
    } else {
      peer = runTorch(w, o);
      ours = runOurs(w, o, `${p}`);
    }
    const ratio = peer ? ours.img_s / peer.img_s : null;
    o.log(
      `  ${w.name} pair ${p + 1}/${pairs} (${order}): ours ${ours.img_s.toFixed(0)} img/s [${ours.epochs.map((e) => e.toFixed(0)).join(", ")}]` +
        (peer
          ? `, PyTorch ${peer.img_s.toFixed(0)} img/s [${peer.epochs.map((e) => e.toFixed(0)).join(", ")}], ratio ${ratio!.toFixed(2)}`
          : ""),
    );
    out.push({ order, ours, torch: peer, ratio });
  }
  return out;
}

export interface EpochSummary {
  ours_img_s: { median: number; min: number; max: number };
  torch_img_s: { median: number; min: number; max: number } | null;
  /** Median of the per-pair ratios, and their range. */
  ratio: { median: number; min: number; max: number } | null;
}

export function summarisePairs(pairs: PairResult[]): EpochSummary {
  const stat = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  const t = pairs.filter((p) => p.torch).map((p) => p.torch!.img_s);
  const r = pairs.filter((p) => p.ratio !== null).map((p) => p.ratio!);
  return {
    ours_img_s: stat(pairs.map((p) => p.ours.img_s)),
    torch_img_s: t.length ? stat(t) : null,
    ratio: r.length ? stat(r) : null,
  };
}
