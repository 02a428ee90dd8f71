/**
 * Run folders: `runs/<name>/` holds config.yaml (resolved), log.jsonl, checkpoints, manifest.json and the
 * run's outputs. `runs/` is git-ignored; results meant for publication are copied into `results/` with
 * their manifests (publishRun).
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { dumpConfig } from "../config/load.js";
import { writeFileAtomic } from "./atomic.js";
import { JsonlLogger } from "./logger.js";
import { projectRoot } from "./manifest.js";

export interface RunPaths {
  dir: string;
  config: string;
  log: string;
  manifest: string;
  /** Latest resumable checkpoint (weights + optimiser + sampler + RNG). */
  latest: string;
  /** Best-on-val weights. */
  best: string;
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
  };
}

export interface OpenedRun {
  paths: RunPaths;
  logger: JsonlLogger;
  resumed: boolean;
}

/** Create (or reopen, when resuming) a run folder and write its resolved config. */
export function openRun(cfg: ExperimentConfig, dir: string, resume: boolean): OpenedRun {
  const paths = runPaths(dir);
  if (!resume && existsSync(paths.latest))
    throw new Error(`run folder ${dir} already holds a checkpoint; pass --resume to continue it, or choose another folder (training_opt.log_dir / --set training_opt.log_dir=...)`);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(paths.config, dumpConfig(cfg));
  return { paths, logger: new JsonlLogger(paths.log), resumed: resume && existsSync(paths.latest) };
}

/** Copy a finished run's publishable files (manifest, config, metrics) into results/<dest>. */
export function publishRun(dir: string, dest: string, files: string[]): string {
  const out = isAbsolute(dest) ? dest : join(projectRoot(), "results", dest);
  mkdirSync(out, { recursive: true });
  for (const f of files) if (existsSync(join(dir, f))) cpSync(join(dir, f), join(out, f));
  return out;
}
