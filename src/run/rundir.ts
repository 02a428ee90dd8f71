/**
 * Opening a run folder for writing — the guard in front of every training run:
 *
 *  1. the folder's lock is taken (lock.ts) before anything is written;
 *  2. what is there is checked (state.ts) and the request decided — start, resume, or refuse — reading only;
 *  3. on resume, the stored config (config.yaml) is compared with the new one (only SAFE_RESUME_KEYS may differ),
 *     latest.ckpt and best.ckpt are read and verified, and the data must hash as the run's;
 *  4. only then is config.yaml (re)written and the run registered for clean-up on SIGINT/SIGTERM.
 *
 * A finished run is never restarted, a run whose latest.ckpt is missing is never silently restarted over its
 * best.ckpt and results, and every refusal leaves the folder exactly as it was and says what to do.
 * `runs/` is git-ignored; results meant for publication are copied into `results/` with their manifests
 * (publishRun).
 */
import { randomUUID } from "node:crypto";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { ensureDir, removeOwnTemps, removeStaleTemps } from "./atomic.js";
import { type Checkpoint, loadCheckpoint, readCheckpointMeta } from "./checkpoint.js";
import { acquireRunLock, describeHolder, type RunLock } from "./lock.js";
import { JsonlLogger } from "./logger.js";
import {
  finishManifest,
  projectRoot,
  type ResumeRecord,
  type RunManifest,
  type RunStatus,
  writeManifest,
} from "./manifest.js";
import { type RunPaths, runPaths } from "./paths.js";
import { readRunConfig, resumeDiff, SAFE_RESUME_KEYS, writeRunConfig } from "./runconfig.js";
import { type ActiveRun, registerRun, unregisterRun } from "./signals.js";
import {
  checkpointFix,
  inspectRun,
  kept,
  markInterrupted,
  type RunState,
  resumableFromBest,
  resumeCommand,
} from "./state.js";

export { type RunPaths, resolveRunDir, runName, runPaths } from "./paths.js";
export { readRunConfig, SAFE_RESUME_KEYS, writeRunConfig } from "./runconfig.js";

/** What a resumable checkpoint's metadata holds (written by the training loop). */
export interface ResumeMeta {
  epoch: number;
  bestEpoch: number;
  bestAcc: number;
  samplerState: unknown;
  rngState: unknown;
  history: unknown[];
  run_id?: string;
}

/** What the data of a run are, to check on resume that they did not change. */
export interface DataIdentity {
  sha256: string | null;
  sourceFiles?: Record<string, string>;
}

export interface OpenRunOptions {
  /** stage1 (default): resume only on request. stage2: a folder with an unfinished attempt is resumed (images
   *  mode, from its latest.ckpt) or started again; a finished one is refused. */
  mode?: "stage1" | "stage2";
  /** The data the new process built; on resume they must match the run's. */
  data?: DataIdentity;
  /** The tensor backend in use (initBackend's name): a changed `backend` setting is accepted on resume when the
   *  run was trained on this one. */
  backendName?: string;
}

export interface OpenedRun {
  paths: RunPaths;
  logger: JsonlLogger;
  /** Continuing from latest.ckpt (verified: {@link resumeCheckpoint}). */
  resumed: boolean;
  /** This run's id (kept across resumes), stored in the manifest and every checkpoint. */
  runId: string;
  /** The state to continue from (latest.ckpt, read and verified), when resuming. */
  resumeCheckpoint: Checkpoint<ResumeMeta> | null;
  /** The file it came from. */
  resumeFrom: string | null;
  /** The manifest found in the folder (a resumed or restarted run), else null. */
  previous: RunManifest | null;
  /** Safe keys that changed on this resume. */
  changes: ResumeRecord["changed"];
  /** Write the run's manifest (started_at, run_id and resume history filled in); becomes the current one. */
  begin(m: RunManifest): RunManifest;
  /** Rewrite the current manifest. */
  update(m: RunManifest): void;
  /** The manifest last written by begin/update/finish, or null before begin. */
  manifest(): RunManifest | null;
  /** Write the final manifest (status and summary) and release the folder. */
  finish(status: RunStatus, summary?: Record<string, unknown>): RunManifest;
  /** Release the folder's lock without writing (idempotent). */
  close(): void;
}

function refuse(msg: string): never {
  throw new Error(msg);
}

function describeState(st: RunState): string {
  const m = st.manifest;
  const meta = readCheckpointMeta<{ epoch?: number }>(runPaths(st.dir).latest);
  const epochs =
    m && typeof (m.config as ExperimentConfig)?.training_opt?.num_epochs === "number"
      ? (m.config as ExperimentConfig).training_opt.num_epochs
      : null;
  const at =
    typeof meta?.epoch === "number"
      ? `, last checkpoint at epoch ${meta.epoch + 1}${epochs ? ` of ${epochs}` : ""}`
      : "";
  return `status ${st.status}${st.stale ? " (its process is gone)" : ""}${at}`;
}

function finishedSummary(m: RunManifest | null): string {
  const s = m?.summary as { best_epoch?: number; val?: { top1?: number }; test?: { top1?: number } } | undefined;
  if (!s) return "";
  const parts = [];
  if (typeof s.best_epoch === "number") parts.push(`best epoch ${s.best_epoch + 1}`);
  if (typeof s.val?.top1 === "number") parts.push(`val top-1 ${s.val.top1}`);
  if (typeof s.test?.top1 === "number") parts.push(`test top-1 ${s.test.top1}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/**
 * Check the resume checkpoints of a run folder; returns the state to continue from, read and verified: latest.ckpt,
 * or best.ckpt when a kill between the two writes of an epoch left best.ckpt one epoch ahead.
 */
function verifyResumeCheckpoints(
  dir: string,
  p: RunPaths,
  manifest: RunManifest,
): { ck: Checkpoint<ResumeMeta>; path: string } {
  const latest = loadCheckpoint<ResumeMeta>(p.latest, checkpointFix(dir, "latest"));
  const meta = latest.meta;
  const resumable = (m: Partial<ResumeMeta> | undefined) =>
    typeof m?.epoch === "number" && typeof m.bestEpoch === "number" && m.rngState !== undefined;
  if (!resumable(meta))
    refuse(
      `${p.latest} is not a resumable checkpoint (its metadata has no epoch / sampler / RNG state). ${checkpointFix(dir, "latest")}`,
    );
  if (manifest.run_id && meta.run_id && manifest.run_id !== meta.run_id)
    refuse(
      `${p.latest} belongs to another run (run id ${meta.run_id}) than ${p.manifest} (run id ${manifest.run_id}); files of two runs were mixed in ${dir}. Nothing was changed; train again in a new folder (--run-dir).`,
    );
  if (!existsSync(p.best)) {
    if (meta.bestEpoch >= 0)
      refuse(
        `cannot resume ${dir}: latest.ckpt says the best epoch is ${meta.bestEpoch + 1} but best.ckpt is missing. ${checkpointFix(dir, "best")}`,
      );
    return { ck: latest, path: p.latest };
  }
  const best = loadCheckpoint<ResumeMeta>(p.best, checkpointFix(dir, "best"));
  if (best.meta.run_id && meta.run_id && best.meta.run_id !== meta.run_id)
    refuse(
      `cannot resume ${dir}: best.ckpt belongs to another run (run id ${best.meta.run_id}) than latest.ckpt (${meta.run_id}). Nothing was changed; train again in a new folder (--run-dir).`,
    );
  if (best.meta.epoch === meta.bestEpoch) return { ck: latest, path: p.latest };
  if (resumable(best.meta) && best.meta.epoch === meta.epoch + 1 && best.meta.bestEpoch === best.meta.epoch) {
    process.stderr.write(
      `notice: ${dir}: best.ckpt (epoch ${best.meta.epoch + 1}) is one epoch ahead of latest.ckpt (the process stopped between the two writes); continuing from best.ckpt\n`,
    );
    return { ck: best, path: p.best };
  }
  return refuse(
    `cannot resume ${dir}: best.ckpt holds epoch ${typeof best.meta.epoch === "number" ? best.meta.epoch + 1 : "?"} but latest.ckpt says the best epoch is ${meta.bestEpoch + 1}. ${checkpointFix(dir, "best")}`,
  );
}

/**
 * latest.ckpt is missing. The one legitimate way to get there is a kill between the two writes of the first epoch
 * (best.ckpt written, latest.ckpt not yet): best.ckpt then holds the full state of this run's best epoch and the
 * run continues from it (the epochs after it are trained again; the result is the same). Anything else — a
 * finished run, results.json present, a best.ckpt of another run or without the resume state — is refused, since
 * starting again would replace best.ckpt and results.json.
 */
function resumeFromBest(dir: string, p: RunPaths, st: RunState): { ck: Checkpoint<ResumeMeta>; path: string } {
  const what = [st.files.best && "best.ckpt", st.files.results && "results.json"].filter(Boolean).join(" and ");
  const no = `cannot resume ${dir}: latest.ckpt is missing but the folder holds ${what} of this run; starting again would replace ${st.files.best && st.files.results ? "them" : "it"}. ${checkpointFix(dir, "latest")}`;
  if (!resumableFromBest(st)) refuse(no);
  const best = loadCheckpoint<ResumeMeta>(p.best, checkpointFix(dir, "best"));
  const m = best.meta;
  process.stderr.write(
    `notice: ${dir}: latest.ckpt is missing; best.ckpt (epoch ${m.epoch + 1}) holds the full state of this run, continuing from it\n`,
  );
  return { ck: best, path: p.best };
}

function checkData(dir: string, manifest: RunManifest, data: DataIdentity | undefined): void {
  if (!data) return;
  const problems: string[] = [];
  if (manifest.data?.sha256 && data.sha256 && manifest.data.sha256 !== data.sha256)
    problems.push(
      `the train subset hashes to ${data.sha256.slice(0, 12)}… but the run used ${manifest.data.sha256.slice(0, 12)}… (dataset options or files changed)`,
    );
  const before = (manifest.data?.detail as { sourceFiles?: Record<string, string> } | undefined)?.sourceFiles;
  if (before && data.sourceFiles) {
    for (const [f, h] of Object.entries(before))
      if (data.sourceFiles[f] !== undefined && data.sourceFiles[f] !== h)
        problems.push(
          `source file ${f} has changed (sha256 ${data.sourceFiles[f].slice(0, 12)}…, the run used ${h.slice(0, 12)}…)`,
        );
  }
  if (problems.length)
    refuse(
      `cannot resume ${dir}: the data are not the run's: ${problems.join("; ")}. Nothing was changed. Point dataset.root / --data-root at the data the run was trained on, or train again in a new folder.`,
    );
}

/**
 * Open a run folder for writing (see the module comment). `resume` continues from latest.ckpt after the checks;
 * without it, a folder that already holds a run is refused. The returned run holds the folder's lock until
 * `finish` or `close`.
 */
export function openRun(cfg: ExperimentConfig, dir: string, resume: boolean, o: OpenRunOptions = {}): OpenedRun {
  const mode = o.mode ?? "stage1";
  const paths = runPaths(dir);
  ensureDir(dir);
  const lock = acquireRunLock(dir);
  if (lock.tookOverFrom)
    process.stderr.write(
      `notice: ${dir}: took over the lock of ${describeHolder(lock.tookOverFrom)}, which is no longer running\n`,
    );
  try {
    return openLocked(cfg, dir, resume, mode, o, paths, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}

function openLocked(
  cfg: ExperimentConfig,
  dir: string,
  resume: boolean,
  mode: "stage1" | "stage2",
  o: OpenRunOptions,
  paths: RunPaths,
  lock: RunLock,
): OpenedRun {
  // Temporary files of a killed writer are garbage (their content never replaced anything).
  removeStaleTemps(dir);
  removeStaleTemps(join(dir, "features"));
  let st = inspectRun(dir);
  if (st.stale && st.manifest) {
    // Its process is gone (kill -9, power cut): say so in the manifest now, whatever is decided below.
    markInterrupted(dir, st.manifest, lock.tookOverFrom ?? null);
    process.stderr.write(
      `notice: ${dir}: manifest.json said 'running' but the process is gone; it now says 'interrupted'\n`,
    );
    st = inspectRun(dir);
  }
  let resumeCheckpoint: Checkpoint<ResumeMeta> | null = null;
  let resumeFrom: string | null = null;
  let previous: RunManifest | null = null;
  let changes: ResumeRecord["changed"] = {};
  const again = `another folder (--run-dir, or --set training_opt.log_dir=...)`;

  const work = st.files.latest || st.files.best || st.files.results;
  if (st.hasRunFiles && !work) {
    // No epoch was completed (or a stage-2 attempt on features failed): nothing is lost by starting again.
    process.stderr.write(
      `notice: ${dir}: the previous attempt (${describeState(st)}) left no checkpoint or results; starting it again from the beginning\n`,
    );
  } else if (work) {
    if (st.manifestError) throw st.manifestError;
    if (st.status === "finished" && mode === "stage2")
      refuse(
        `${dir} already holds a finished run (${st.manifest?.kind ?? "unknown kind"})${finishedSummary(st.manifest)}; it is kept. Choose ${again}, or delete the folder to run it again.`,
      );
    if (!resume && mode === "stage1") {
      if (st.status === "finished")
        refuse(
          `${dir} already holds a finished run${finishedSummary(st.manifest)}; it is kept. To train it longer, resume it with a larger training_opt.num_epochs (--resume --set training_opt.num_epochs=N); to train again, choose ${again} or delete the folder.`,
        );
      refuse(
        `${dir} already holds an unfinished run (${describeState(st)}); pass --resume to continue it, or choose ${again}.`,
      );
    }
    if (!st.manifest)
      refuse(
        `cannot resume ${dir}: it holds checkpoints or results but no manifest.json, so it is not a run folder that ltr train can continue. Nothing was changed; choose ${again}.`,
      );
    previous = st.manifest;
    if (!st.files.config)
      refuse(
        `cannot resume ${dir}: its config.yaml is missing; restore it from a copy (manifest.json holds the config under 'config'), or choose ${again}.`,
      );
    const stored = readRunConfig(paths.config);
    const diff = resumeDiff(stored, cfg, !!o.backendName && st.manifest.backend?.name === o.backendName);
    if (diff.problems.length) {
      const safe = Object.keys(SAFE_RESUME_KEYS).join(", ");
      refuse(
        `cannot ${mode === "stage2" ? "continue" : "resume"} ${dir}: the config differs from the run's own (${paths.config}) at keys that change the training:\n  - ${diff.problems.join("\n  - ")}\n` +
          `${kept(dir)} Only these keys may change on resume: ${safe} (see src/run/runconfig.ts). ` +
          `To continue the run as it was: ${resumeCommand(dir)}; to train with the new settings, choose ${again}.`,
      );
    }
    changes = diff.safe;
    const extended = "training_opt.num_epochs" in changes;
    if (st.status === "finished" && !extended)
      refuse(
        `${dir} is already finished${finishedSummary(st.manifest)}; there is nothing to resume. To train it longer, resume with a larger training_opt.num_epochs (--set training_opt.num_epochs=N, now ${cfg.training_opt.num_epochs}).`,
      );
    const r = st.files.latest ? verifyResumeCheckpoints(dir, paths, st.manifest) : resumeFromBest(dir, paths, st);
    resumeCheckpoint = r.ck;
    resumeFrom = r.path;
    checkData(dir, st.manifest, o.data);
  } else if (resume && mode === "stage1") {
    refuse(
      `--resume: ${dir} holds no run to resume (no config.yaml, manifest.json or checkpoint). Drop --resume to start a new run there, or point --run-dir / training_opt.log_dir at the run's folder.`,
    );
  }

  writeRunConfig(paths.config, cfg);
  const runId = (resumeCheckpoint && (previous?.run_id ?? resumeCheckpoint.meta.run_id)) || randomUUID();
  let current: RunManifest | null = null;
  let closed = false;
  const active: ActiveRun = {
    dir,
    abort(signal) {
      if (current && current.status === "running")
        writeManifest(
          paths.manifest,
          finishManifest(current, "interrupted", { ...(current.summary ?? {}), error: `interrupted by ${signal}` }),
        );
      removeOwnTemps(dir);
      removeOwnTemps(join(dir, "features"));
      run.close();
    },
  };
  const run: OpenedRun = {
    paths,
    logger: new JsonlLogger(paths.log),
    resumed: resumeCheckpoint !== null,
    runId,
    resumeCheckpoint,
    resumeFrom,
    previous,
    changes,
    begin(m) {
      const resumes = [...(previous?.resumes ?? [])];
      if (resumeCheckpoint)
        resumes.push({ at: new Date().toISOString(), from_epoch: resumeCheckpoint.meta.epoch + 1, changed: changes });
      // Keep the first start time so the wall time covers the whole run, interruptions included.
      current = {
        ...m,
        run_id: runId,
        started_at: previous && resumeCheckpoint ? previous.started_at : m.started_at,
        ...(resumes.length ? { resumes } : {}),
      };
      writeManifest(paths.manifest, current);
      return current;
    },
    update(m) {
      current = m;
      writeManifest(paths.manifest, m);
    },
    manifest: () => current,
    finish(status, summary) {
      if (!current) throw new Error("OpenedRun.finish before begin");
      const m = finishManifest(current, status, summary);
      try {
        writeManifest(paths.manifest, m);
        current = m;
      } finally {
        run.close();
      }
      return m;
    },
    close() {
      if (closed) return;
      closed = true;
      unregisterRun(active);
      lock.release();
    },
  };
  registerRun(active);
  return run;
}

/** Copy a finished run's publishable files (manifest, config, metrics) into results/<dest>. */
export function publishRun(dir: string, dest: string, files: string[]): string {
  const out = isAbsolute(dest) ? dest : join(projectRoot(), "results", dest);
  mkdirSync(out, { recursive: true });
  for (const f of files) if (existsSync(join(dir, f))) cpSync(join(dir, f), join(out, f));
  return out;
}
