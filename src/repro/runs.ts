/**
 * Cached runs for the reproduction: every run folder name carries the hash of its resolved config, so asking for
 * the same run again (a notebook re-opened, `npm run reproduce:table` re-run) reuses the finished run, resumes an
 * interrupted one, and never mixes results of different settings.
 */
import { join, relative } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { configHash, type LoadedConfig, loadConfig } from "../config/load.js";
import type { Dataset } from "../data/types.js";
import { readCheckedJson } from "../run/checksum.js";
import { describeHolder } from "../run/lock.js";
import { projectRoot } from "../run/manifest.js";
import { repairStaleRun, resumableFromBest, resumeCommand } from "../run/state.js";
import { trainStage1 } from "../train/stage1.js";
import { trainStage2 } from "../train/stage2.js";
import { CLASSIFIERS, type Profile } from "./profiles.js";

export const DATASET_DIR = "FashionMNIST_LT";

function configFile(stage: string): string {
  return join(projectRoot(), "config", DATASET_DIR, `${stage}.yaml`);
}

/**
 * Status of a run folder for the reproduction:
 *  - `finished`: the manifest (verified) says finished and results.json is there;
 *  - `running`: a live process holds its lock;
 *  - `resumable`: unfinished (failed, interrupted — a kill -9 is detected here and the manifest repaired to
 *    `interrupted`) with a latest.ckpt to continue from, or an attempt that completed no epoch (started again);
 *  - `blocked`: unfinished, but it cannot be continued without losing files (latest.ckpt missing while best.ckpt
 *    or results.json exist, or a damaged manifest); {@link ensureStage1} explains what to do;
 *  - `absent`: no run there.
 */
export function runStatus(dir: string): "finished" | "running" | "resumable" | "blocked" | "absent" {
  const st = repairStaleRun(dir);
  if (!st.hasRunFiles) return "absent";
  if (st.holder) return "running";
  if (st.manifestError) return "blocked";
  if (st.status === "finished") return st.files.results ? "finished" : "blocked";
  if (st.files.latest || resumableFromBest(st)) return "resumable";
  return st.files.best || st.files.results ? "blocked" : "resumable";
}

/** Refuse to touch a run folder the reproduction cannot continue safely, saying why and what to do. */
function assertUsable(dir: string, what: string): void {
  const st = repairStaleRun(dir);
  if (st.holder)
    throw new Error(
      `${what}: ${dir} is being trained by ${describeHolder(st.holder)}; wait for it to finish (or stop it) and run again`,
    );
  if (st.manifestError) throw st.manifestError;
  throw new Error(
    `${what}: ${dir} holds an unfinished run that cannot be continued without replacing its files (status ${st.status}; ` +
      `latest.ckpt ${st.files.latest ? "present" : "missing"}, best.ckpt ${st.files.best ? "present" : "missing"}, results.json ${st.files.results ? "present" : "missing"}). ` +
      `Try ${resumeCommand(dir)} for the exact reason, or delete the folder to train it again.`,
  );
}

/** The resolved config of a stage-1 run of the reproduction, and its cached folder. */
export function stage1Plan(stage: string, seed: number, profile: Profile): { loaded: LoadedConfig; dir: string } {
  const loaded = loadConfig(configFile(stage), [...profile.stage1, `seed=${seed}`, "training_opt.log_dir=null"]);
  const key = configHash(loaded.config).slice(0, 8);
  const rel = join("runs", profile.name, DATASET_DIR, `${stage}_seed${seed}-${key}`);
  return { loaded: withLogDir(loaded, rel), dir: join(projectRoot(), rel) };
}

/** The resolved config of a stage-2 run on a given stage-1 run folder, and its cached folder (inside it). */
export function stage2Plan(
  stage: string,
  stage1Dir: string,
  seed: number,
  profile: Profile,
): { loaded: LoadedConfig; dir: string } {
  const rel1 = relative(projectRoot(), stage1Dir);
  const trains = CLASSIFIERS.find((c) => c.stage === stage)?.trains ?? true;
  const loaded = loadConfig(configFile(stage), [
    ...profile.stage2,
    ...(trains ? profile.stage2Training : []),
    `seed=${seed}`,
    `model_dir=${rel1}`,
    "training_opt.log_dir=null",
  ]);
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
  if (st === "running" || st === "blocked") assertUsable(dir, `stage 1 ${stage} seed ${seed}`);
  o.onStart?.(`${stage} seed ${seed}${st === "resumable" ? " (resuming)" : ""}`);
  await trainStage1({ loaded, runDir: dir, resume: st === "resumable", dataset: o.dataset, quiet: o.quiet });
  return dir;
}

/** A finished stage-2 run folder on a stage-1 run: reused or run now. */
export async function ensureStage2(
  stage: string,
  stage1Dir: string,
  seed: number,
  profile: Profile,
  o: EnsureOpts = {},
): Promise<string> {
  const { loaded, dir } = stage2Plan(stage, stage1Dir, seed, profile);
  const st = runStatus(dir);
  if (st === "finished") return dir;
  if (st === "running" || st === "blocked")
    assertUsable(dir, `stage 2 ${stage} on ${relative(projectRoot(), stage1Dir)}`);
  o.onStart?.(`${stage} on ${relative(projectRoot(), stage1Dir)}`);
  await trainStage2({ loaded, runDir: dir, dataset: o.dataset, quiet: o.quiet });
  return dir;
}

/** Read a run's JSON file (results.json, manifest.json), verifying its checksum; errors name the file. */
export function readJson<T = Record<string, unknown>>(path: string): T {
  return readCheckedJson<T>(path);
}
