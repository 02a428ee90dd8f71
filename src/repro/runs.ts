/**
 * Cached runs for the reproduction: every run folder name carries the hash of its resolved config, so asking for
 * the same run again (a notebook re-opened, `npm run reproduce:table` re-run) reuses the finished run, resumes an
 * interrupted one, and never mixes results of different settings.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { configHash, loadConfig, type LoadedConfig } from "../config/load.js";
import type { Dataset } from "../data/types.js";
import { projectRoot } from "../run/manifest.js";
import { runPaths } from "../run/rundir.js";
import { trainStage1 } from "../train/stage1.js";
import { trainStage2 } from "../train/stage2.js";
import type { Profile } from "./profiles.js";

export const DATASET_DIR = "FashionMNIST_LT";

function configFile(stage: string): string {
  return join(projectRoot(), "config", DATASET_DIR, `${stage}.yaml`);
}

/** Status of a run folder: finished (manifest says so), resumable (has a checkpoint), or absent. */
export function runStatus(dir: string): "finished" | "resumable" | "absent" {
  const p = runPaths(dir);
  if (existsSync(p.manifest)) {
    const m = JSON.parse(readFileSync(p.manifest, "utf8")) as { status?: string };
    if (m.status === "finished" && existsSync(join(dir, "results.json"))) return "finished";
  }
  return existsSync(p.latest) ? "resumable" : "absent";
}

/** The resolved config of a stage-1 run of the reproduction, and its cached folder. */
export function stage1Plan(stage: string, seed: number, profile: Profile): { loaded: LoadedConfig; dir: string } {
  const loaded = loadConfig(configFile(stage), [...profile.stage1, `seed=${seed}`, "training_opt.log_dir=null"]);
  const key = configHash(loaded.config).slice(0, 8);
  const rel = join("runs", profile.name, DATASET_DIR, `${stage}_seed${seed}-${key}`);
  return { loaded: withLogDir(loaded, rel), dir: join(projectRoot(), rel) };
}

/** The resolved config of a stage-2 run on a given stage-1 run folder, and its cached folder (inside it). */
export function stage2Plan(stage: string, stage1Dir: string, seed: number, profile: Profile): { loaded: LoadedConfig; dir: string } {
  const rel1 = relative(projectRoot(), stage1Dir);
  const loaded = loadConfig(configFile(stage), [...profile.stage2, `seed=${seed}`, `model_dir=${rel1}`, "training_opt.log_dir=null"]);
  const key = configHash(loaded.config).slice(0, 8);
  const rel = join(rel1, `${stage}_seed${seed}-${key}`);
  return { loaded: withLogDir(loaded, rel), dir: join(projectRoot(), rel) };
}

function withLogDir(l: LoadedConfig, rel: string): LoadedConfig {
  const config: ExperimentConfig = { ...l.config, training_opt: { ...l.config.training_opt, log_dir: rel } };
  return { ...l, config, hash: configHash(config) };
}

export interface EnsureOpts {
  dataset?: Dataset;
  quiet?: boolean;
  /** Called before a run that has to train (not for cached ones). */
  onStart?: (what: string) => void;
}

/** A finished stage-1 run folder: reused, resumed, or trained now. */
export async function ensureStage1(stage: string, seed: number, profile: Profile, o: EnsureOpts = {}): Promise<string> {
  const { loaded, dir } = stage1Plan(stage, seed, profile);
  const st = runStatus(dir);
  if (st === "finished") return dir;
  o.onStart?.(`${stage} seed ${seed}${st === "resumable" ? " (resuming)" : ""}`);
  await trainStage1({ loaded, runDir: dir, resume: st === "resumable", dataset: o.dataset, quiet: o.quiet });
  return dir;
}

/** A finished stage-2 run folder on a stage-1 run: reused or run now. */
export async function ensureStage2(stage: string, stage1Dir: string, seed: number, profile: Profile, o: EnsureOpts = {}): Promise<string> {
  const { loaded, dir } = stage2Plan(stage, stage1Dir, seed, profile);
  if (runStatus(dir) === "finished") return dir;
  o.onStart?.(`${stage} on ${relative(projectRoot(), stage1Dir)}`);
  await trainStage2({ loaded, runDir: dir, dataset: o.dataset, quiet: o.quiet });
  return dir;
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}
