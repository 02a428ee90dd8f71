/**
 * A run's own config.yaml: the resolved config it was trained with, headed by a checksum comment, and the rule
 * for what may differ when the run is resumed.
 *
 * Resume refuses every change of the resolved config except the keys of {@link SAFE_RESUME_KEYS}; a changed
 * learning rate, batch size, sampler, val split or seed would make the folder hold a run that no config
 * describes. The error lists every differing key with its stored and new value.
 */
import { existsSync, readFileSync } from "node:fs";
import { load } from "js-yaml";
import type { ExperimentConfig } from "../config/defaults.js";
import { canonicalJson, configHash, dumpConfig, resolveConfig } from "../config/load.js";
import { writeFileAtomic } from "./atomic.js";
import { CorruptFileError, legacyNotice } from "./checksum.js";

/**
 * The keys that may differ between a run's stored config and the config it is resumed with, and why each is safe.
 * Everything else (learning rates, batch size, sampler, epochs schedule floor, data split options, seed, backend,
 * model) is refused.
 */
export const SAFE_RESUME_KEYS: Record<string, string> = {
  "training_opt.num_epochs":
    "may be increased, to train a run (finished or not) for longer; the remaining epochs follow the cosine schedule of the new length. Never decreased",
  "training_opt.display_step": "how often a step record is logged; no effect on the weights",
  "training_opt.log_dir": "names the run folder (the folder was moved or is given with --run-dir)",
  "dataset.root":
    "where the data files are; accepted only when the data hash the same as the run's (manifest data.sha256 and source files)",
  backend:
    "the tensor backend setting; accepted only when the backend in use is the one the run was trained on (manifest backend.name)",
};

const HEADER_RE = /^# decoupling-lt resolved config; sha256 ([0-9a-f]{64})/;

/** Write a run's resolved config (atomically), headed by the checksum of its content. */
export function writeRunConfig(path: string, cfg: ExperimentConfig): void {
  const body = dumpConfig(cfg);
  // Hash what a reader will parse back, so the comment verifies whatever YAML does to numbers.
  const hash = configHash(load(body) as ExperimentConfig);
  writeFileAtomic(
    path,
    `# decoupling-lt resolved config; sha256 ${hash} (canonical JSON of the mapping below)\n${body}`,
  );
}

/** Read, verify and resolve a run's config.yaml; errors name the file. */
export function readRunConfig(path: string): ExperimentConfig {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  const text = readFileSync(path, "utf8");
  const fix =
    "The run's settings cannot be trusted; restore the file from a copy (manifest.json holds the same config under 'config'), or train the run again in a new folder";
  let raw: unknown;
  try {
    raw = load(text);
  } catch (e) {
    throw new CorruptFileError(path, `not valid YAML (${(e as Error).message.split("\n")[0]})`, fix);
  }
  const m = HEADER_RE.exec(text);
  if (m) {
    const actual = configHash(raw as ExperimentConfig);
    if (actual !== m[1])
      throw new CorruptFileError(
        path,
        `its content does not match the sha256 in its first line (${m[1].slice(0, 12)}…, content ${actual.slice(0, 12)}…)`,
        fix,
      );
  } else legacyNotice("config.yaml", path, "it gets a checksum when the run is resumed or trained again");
  return resolveConfig(raw, path).config;
}

/** Dotted keys at which two configs differ (a null section against a mapping counts as the section's key). */
export function diffConfigs(a: unknown, b: unknown, prefix = ""): string[] {
  const isRec = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isRec(a) && isRec(b)) {
    const out: string[] = [];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      out.push(...diffConfigs(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    return out;
  }
  return canonicalJson(a ?? null) === canonicalJson(b ?? null) ? [] : [prefix];
}

/** The value at a dotted key, or undefined. */
export function valueAt(cfg: unknown, key: string): unknown {
  let v: unknown = cfg;
  for (const seg of key.split("."))
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

export interface ResumeDiff {
  /** Keys that changed and are allowed, with old and new values. */
  safe: Record<string, { from: unknown; to: unknown }>;
  /** Human-readable problems; empty when the resume may go ahead. */
  problems: string[];
}

const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));

/**
 * Compare a run's stored config with the one it is resumed with (see {@link SAFE_RESUME_KEYS}). `sameBackend`: the
 * tensor backend now in use is the one the run was trained on (manifest backend.name), so a changed `backend`
 * setting (e.g. auto -> wasm) changes nothing and is accepted.
 */
export function resumeDiff(stored: ExperimentConfig, next: ExperimentConfig, sameBackend = false): ResumeDiff {
  const safe: ResumeDiff["safe"] = {};
  const problems: string[] = [];
  for (const key of diffConfigs(stored, next)) {
    const from = valueAt(stored, key);
    const to = valueAt(next, key);
    if (key === "backend") {
      if (sameBackend) safe[key] = { from, to };
      else
        problems.push(
          `${key}: ${show(from)} in the run, ${show(to)} now (and the backend in use is not the one the run was trained on)`,
        );
    } else if (!(key in SAFE_RESUME_KEYS)) problems.push(`${key}: ${show(from)} in the run, ${show(to)} now`);
    else if (key === "training_opt.num_epochs" && (to as number) < (from as number))
      problems.push(`${key}: ${show(from)} in the run, ${show(to)} now (num_epochs may only be increased on resume)`);
    else safe[key] = { from, to };
  }
  return { safe, problems };
}
