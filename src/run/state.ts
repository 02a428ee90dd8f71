/**
 * What a run folder holds and whether it can be used: the one place that reads a folder's status, so the
 * reproduction (`runStatus`), `--resume`, stage 2 and `ltr test` all agree.
 *
 *  - {@link inspectRun}: files present, verified manifest, live lock holder, and the *effective* status: a manifest
 *    that says `running` while no live process holds the lock (a kill -9, a power cut) is `interrupted`.
 *  - {@link repairStaleRun}: writes that truth into the manifest (taking over the dead process's lock).
 *  - {@link assertFinishedStage1Run}: what stage 2, `ltr test` and `ltr tau-norm` require of their model_dir.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { removeStaleTemps } from "./atomic.js";
import { type Checkpoint, loadCheckpoint, readCheckpointMeta } from "./checkpoint.js";
import { acquireRunLock, describeHolder, type LockInfo, liveHolder, readLock } from "./lock.js";
import { finishManifest, type RunManifest, type RunStatus, readManifest, writeManifest } from "./manifest.js";
import { runPaths } from "./paths.js";
import { readRunConfig } from "./runconfig.js";

export interface RunState {
  dir: string;
  /** Which of the run's files exist. */
  files: { config: boolean; manifest: boolean; latest: boolean; best: boolean; results: boolean };
  /** Any run file at all (else the folder is free for a new run). */
  hasRunFiles: boolean;
  /** The verified manifest, or null (missing, or unreadable: see manifestError). */
  manifest: RunManifest | null;
  manifestError: Error | null;
  /** A live process (not this one) holding the folder's lock. */
  holder: LockInfo | null;
  /** Effective status: the manifest's, except `running` without a live holder, which is `interrupted`. */
  status: RunStatus | "absent" | "unknown";
  /** The manifest says `running` but nobody runs it: a kill -9 or a crash (repairStaleRun fixes the manifest). */
  stale: boolean;
}

/** Look at a run folder without changing anything. */
export function inspectRun(dir: string): RunState {
  const p = runPaths(dir);
  const files = {
    config: existsSync(p.config),
    manifest: existsSync(p.manifest),
    latest: existsSync(p.latest),
    best: existsSync(p.best),
    results: existsSync(p.results),
  };
  const hasRunFiles = Object.values(files).some(Boolean);
  let manifest: RunManifest | null = null;
  let manifestError: Error | null = null;
  if (files.manifest) {
    try {
      manifest = readManifest(p.manifest);
    } catch (e) {
      manifestError = e as Error;
    }
  }
  const holder = existsSync(dir) ? liveHolder(dir) : null;
  let status: RunState["status"] = !hasRunFiles ? "absent" : manifest ? manifest.status : "unknown";
  const stale = manifest?.status === "running" && !holder;
  if (stale) status = "interrupted";
  return { dir, files, hasRunFiles, manifest, manifestError, holder, status, stale };
}

/**
 * latest.ckpt is missing but best.ckpt holds the full resumable state of this run (a kill between the two writes
 * of the first epoch): the run can continue from best.ckpt. Reads only best.ckpt's header.
 */
export function resumableFromBest(st: RunState): boolean {
  if (st.files.latest || !st.files.best || st.files.results || st.status === "finished" || !st.manifest?.run_id)
    return false;
  const m = readCheckpointMeta<{ epoch?: number; bestEpoch?: number; rngState?: unknown; run_id?: string }>(
    runPaths(st.dir).best,
  );
  return (
    !!m &&
    typeof m.epoch === "number" &&
    m.bestEpoch === m.epoch &&
    m.rngState !== undefined &&
    m.run_id === st.manifest.run_id
  );
}

/** `ltr train` command line that resumes a run with its own settings. */
export function resumeCommand(dir: string): string {
  return `ltr train --cfg ${join(dir, "config.yaml")} --run-dir ${dir} --resume`;
}

/** Last time anything was written in the folder (for the end time of a run that was killed). */
function lastWrite(dir: string): Date | null {
  const p = runPaths(dir);
  let t = 0;
  for (const f of [p.log, p.latest, p.best, p.manifest]) {
    try {
      t = Math.max(t, statSync(f).mtimeMs);
    } catch {
      /* absent */
    }
  }
  return t ? new Date(t) : null;
}

/**
 * If the folder's manifest says `running` but its process is gone, rewrite it as `interrupted` (naming the dead
 * process and the last checkpoint), remove the temporary files it left, and return the new state. A folder in
 * use by a live process, or one that is not stale, is left alone.
 */
export function repairStaleRun(dir: string): RunState {
  const st = inspectRun(dir);
  if (!st.stale || !st.manifest) return st;
  const dead = readLock(dir);
  let lock;
  try {
    lock = acquireRunLock(dir);
  } catch {
    return inspectRun(dir); // someone live took it meanwhile
  }
  try {
    const again = readManifest(runPaths(dir).manifest);
    if (again.status !== "running") return inspectRun(dir);
    markInterrupted(dir, again, dead);
    removeStaleTemps(dir);
    removeStaleTemps(join(dir, "features"));
  } finally {
    lock.release();
  }
  return inspectRun(dir);
}

/** Rewrite a dead run's manifest as interrupted (the caller holds the lock). */
export function markInterrupted(dir: string, m: RunManifest, dead: LockInfo | null): RunManifest {
  const p = runPaths(dir);
  const meta = readCheckpointMeta<{ epoch?: number }>(p.latest);
  const bestMeta = meta ? null : readCheckpointMeta<{ epoch?: number }>(p.best);
  const last =
    typeof meta?.epoch === "number"
      ? `its last checkpoint is latest.ckpt at the end of epoch ${meta.epoch + 1}`
      : typeof bestMeta?.epoch === "number"
        ? `its last checkpoint is best.ckpt at the end of epoch ${bestMeta.epoch + 1} (latest.ckpt was not written)`
        : "no checkpoint had been written";
  const who = dead ? describeHolder(dead) : "its process";
  const fixed = finishManifest(m, "interrupted", {
    ...(m.summary ?? {}),
    error: `${who} ended without closing the run (killed, or the machine stopped); ${last}`,
  });
  const end = lastWrite(dir);
  if (end) {
    fixed.ended_at = end.toISOString();
    fixed.wall_time_s = Math.round((end.getTime() - new Date(m.started_at).getTime()) / 100) / 10;
  }
  writeManifest(p.manifest, fixed);
  return fixed;
}

/**
 * The sentence that says a refusal left the run alone. Its checkpoints, config and results are untouched; the only
 * writes a refusal may have made are taking over a dead process's lock and marking its manifest `interrupted`
 * (each announced by its own notice), so the sentence does not claim more than that.
 */
export function kept(dir: string): string {
  return `The checkpoints, config.yaml and results in ${dir} were not changed.`;
}

/** What to do about a damaged or missing checkpoint of a run folder (depends on what else is there). */
export function checkpointFix(dir: string, which: "latest" | "best"): string {
  const p = runPaths(dir);
  if (which === "latest") {
    const bm = readCheckpointMeta<{ epoch?: number; rngState?: unknown }>(p.best);
    if (bm && typeof bm.epoch === "number" && bm.rngState !== undefined)
      return (
        `${kept(dir)} To continue from the best epoch instead (epoch ${bm.epoch + 1}; the epochs after it are trained again and the ` +
        `result is the same as without the damage): cp ${p.best} ${p.latest} and run again with --resume. Or train the run again in a new folder (--run-dir).`
      );
    return `${kept(dir)} The run cannot be continued; train it again in a new folder (--run-dir).`;
  }
  const lm = readCheckpointMeta<{ epoch?: number; bestEpoch?: number }>(p.latest);
  if (lm && typeof lm.epoch === "number" && lm.bestEpoch === lm.epoch)
    return `The best epoch (${lm.epoch + 1}) is also the latest: cp ${p.latest} ${p.best} restores it. ${kept(dir)}`;
  return `${kept(dir)} best.ckpt cannot be rebuilt from the other files; train the run again in a new folder (--run-dir).`;
}

export interface FinishedStage1Run {
  dir: string;
  config: ExperimentConfig;
  manifest: RunManifest;
  /** best.ckpt, read and verified (checksum, layout, finite values). */
  best: Checkpoint;
}

/**
 * Require a finished stage-1 run in `dir`: manifest.json verified with status `finished`, a stage-1 config.yaml,
 * and best.ckpt present and verified. Any run folder that meets this is accepted whatever its manifest `kind`
 * (ltr train writes "stage1"; folders imported from the original PyTorch code may say "stage1-imported").
 * Throws an error naming the folder, what is wrong and what to do.
 */
export function assertFinishedStage1Run(dir: string): FinishedStage1Run {
  const p = runPaths(dir);
  const not = `${dir} is not a finished stage-1 run`;
  if (!existsSync(dir))
    throw new Error(
      `${not}: the folder does not exist. Train one first (ltr train --cfg config/<Dataset>/feat_<sampler>.yaml) or fix model_dir / --run-dir`,
    );
  // A manifest that still says `running` for a dead process is corrected on this look (issue: run status is
  // true); a folder we cannot write (read-only media) is only described.
  let st = inspectRun(dir);
  const killed = st.stale;
  if (killed) {
    try {
      st = repairStaleRun(dir);
    } catch {
      /* left as it is; the message below still says the process is gone */
    }
  }
  if (st.manifestError) throw st.manifestError;
  if (!st.manifest)
    throw new Error(
      `${not}: it has no manifest.json (every folder written by ltr train has one; needs config.yaml, best.ckpt and a manifest with status 'finished')`,
    );
  if (st.status !== "finished") {
    const meta = readCheckpointMeta<{ epoch?: number }>(p.latest);
    const at = typeof meta?.epoch === "number" ? ` after epoch ${meta.epoch + 1}` : "";
    if (st.holder)
      throw new Error(
        `${not} yet: it is being trained right now by ${describeHolder(st.holder)}; wait for it to finish`,
      );
    // (For a run found killed just now, the manifest's error repeats what the sentence says.)
    const err = st.manifest.summary?.error && !killed ? ` (${String(st.manifest.summary.error)})` : "";
    const resumable = st.files.latest || resumableFromBest(st);
    const how = resumable ? `continue it with: ${resumeCommand(dir)}` : "train it again in a new folder";
    const said = killed
      ? `its manifest said 'running' but its process is gone (it was killed)${st.stale ? "" : "; manifest.json now says 'interrupted'"}`
      : `its manifest says '${st.manifest.status}'`;
    throw new Error(
      `${not}: ${said}${at}${err}; stage 2 and ltr test need the best weights of a finished run. ${how[0].toUpperCase()}${how.slice(1)}`,
    );
  }
  if (!st.files.config)
    throw new Error(
      `${not}: it has no config.yaml; restore it from a copy (manifest.json holds the config under 'config')`,
    );
  const config = readRunConfig(p.config);
  if (config.stage2)
    throw new Error(
      `${dir} is a stage-2 run (stage2.method=${config.stage2.method}); point model_dir at a stage-1 run`,
    );
  if (!st.files.best)
    throw new Error(`${not}: its manifest says finished but best.ckpt is missing. ${checkpointFix(dir, "best")}`);
  const best = loadCheckpoint(p.best, checkpointFix(dir, "best"));
  return { dir, config, manifest: st.manifest, best };
}
