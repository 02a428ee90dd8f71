/**
 * Where a run's files live: `runs/<name>/` holds config.yaml (resolved), log.jsonl, checkpoints, manifest.json,
 * results.json, the lock of the process writing it (run.lock) and the run's outputs. `runs/` is git-ignored.
 */
import { isAbsolute, join } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { LOCK_FILE } from "./lock.js";
import { projectRoot } from "./manifest.js";

export interface RunPaths {
  dir: string;
  config: string;
  log: string;
  manifest: string;
  /** Latest resumable checkpoint (weights + optimiser + sampler + RNG). */
  latest: string;
  /** Best-on-val checkpoint: the same full state as latest.ckpt at the best epoch (so a run can resume from it). */
  best: string;
  results: string;
  lock: string;
}

/** Default run name: <dataset>/<stage>_seed<seed>, unless training_opt.log_dir is set. */
export function runName(cfg: ExperimentConfig): string {
  return cfg.training_opt.log_dir ?? join(cfg.training_opt.dataset, `${cfg.training_opt.stage}_seed${cfg.seed}`);
}

/** Resolve a run folder: absolute paths as given; relative ones under <project>/runs unless they already start with runs/. */
export function resolveRunDir(name: string): string {
  if (isAbsolute(name)) return name;
  // "runs/..." is the project's run store wherever the command runs from (notebooks run inside notebooks/).
  if (name.startsWith("runs/")) return join(projectRoot(), name);
  if (name.startsWith("./") || name.startsWith("../")) return join(process.cwd(), name);
  return join(projectRoot(), "runs", name);
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    config: join(dir, "config.yaml"),
    log: join(dir, "log.jsonl"),
    manifest: join(dir, "manifest.json"),
    latest: join(dir, "latest.ckpt"),
    best: join(dir, "best.ckpt"),
    results: join(dir, "results.json"),
    lock: join(dir, LOCK_FILE),
  };
}
