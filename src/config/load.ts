/**
 * Load an experiment config: YAML file -> validated against the schema, which fills every default once
 * (schema.ts) -> `--set key.path=value` overrides, each validated the same way -> cross-field checks. Every error
 * names the file (or the override) and the key.
 */
import { existsSync, readFileSync } from "node:fs";
import { dump, load } from "js-yaml";
import { sha256Hex } from "../hash.js";
import type { ExperimentConfig } from "./defaults.js";
import { announceOriginal, isOriginalConfig, translateOriginalConfig } from "./original.js";
import { ConfigError, problemLines, schemaAt } from "./problems.js";
import { CONFIG_SCHEMA } from "./schema.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/**
 * Merge `over` onto `base` recursively (a mapping given for a mapping changes only the keys it names); unknown keys
 * are kept so the schema can report them. A null or absent section is started from nothing: the schema fills its
 * left-out keys with their defaults.
 */
function merge(base: unknown, over: unknown): unknown {
  if (!isRec(over) || !isRec(base)) return clone(over);
  const out: Rec = { ...clone(base) };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out;
}

/** Validate a whole config, filling the defaults; the problems are reported against `source`. */
function validated(value: unknown, source: string): ExperimentConfig {
  const r = CONFIG_SCHEMA.safeParse(value, { reportInput: true });
  if (!r.success) throw new ConfigError(source, problemLines(CONFIG_SCHEMA, r.error));
  return r.data;
}

/** Parse a YAML scalar or flow value given on the command line (`64`, `5e-4`, `null`, `{type: class_balanced}`). */
function parseOverrideValue(raw: string): unknown {
  if (raw === "") return "";
  try {
    return load(raw);
  } catch {
    return raw;
  }
}

/** Whether a dotted key path exists in the schema. */
function isKeyPath(path: string): boolean {
  try {
    schemaAt(CONFIG_SCHEMA, path);
    return true;
  } catch {
    return false;
  }
}

/** `cfg` with one `key.path=value` override applied and validated (problems are reported against the `--set`). */
function withOverride(cfg: unknown, assignment: string): ExperimentConfig {
  const eq = assignment.indexOf("=");
  if (eq <= 0)
    throw new ConfigError(`--set ${assignment}`, [`expected key.path=value, e.g. training_opt.batch_size=64`]);
  const path = assignment.slice(0, eq).trim();
  const source = `--set ${assignment}`;
  // `--set "a=1 b=2"` is two assignments in one argument: say so rather than store "1 b=2" in a string key.
  const second = /\s+([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)=/.exec(assignment.slice(eq + 1));
  if (second && isKeyPath(second[1])) {
    const [a, b] = [assignment.slice(0, eq + 1 + second.index).trim(), assignment.slice(eq + 1 + second.index).trim()];
    throw new ConfigError(source, [`holds two assignments; give each its own --set: --set ${a} --set ${b}`]);
  }
  try {
    schemaAt(CONFIG_SCHEMA, path);
  } catch (e) {
    throw new ConfigError(source, [(e as Error).message]);
  }
  const value = parseOverrideValue(assignment.slice(eq + 1));
  const tree = clone(cfg) as Rec;
  const segs = path.split(".");
  let node = tree;
  for (const seg of segs.slice(0, -1)) {
    if (!isRec(node[seg])) node[seg] = {};
    node = node[seg] as Rec;
  }
  const last = segs[segs.length - 1];
  node[last] = merge(node[last], value);
  return validated(tree, source);
}

/**
 * Apply one `key.path=value` override to a resolved config object in place, validating the value at that key
 * (a null section it reaches into is filled with its defaults).
 */
export function applyOverride(cfg: Rec, assignment: string): void {
  const next = withOverride(cfg, assignment);
  for (const k of Object.keys(cfg)) delete cfg[k];
  Object.assign(cfg, next);
}

/** Cross-field rules that a per-key type check cannot express. */
export function crossCheck(cfg: ExperimentConfig): string[] {
  const p: string[] = [];
  if (cfg.stage2 !== null && cfg.model_dir === null)
    p.push(
      `stage2.method '${cfg.stage2.method}' needs a stage-1 run to start from: set model_dir to its run folder (e.g. runs/FashionMNIST_LT/feat_uniform_seed0)`,
    );
  if (cfg.networks.feat_model.fix && cfg.model_dir === null)
    p.push(`networks.feat_model.fix is true but model_dir is null: a frozen backbone must come from a previous run`);
  // `fix` is honoured by what it implies: stage 2 always freezes the backbone and every stage trains (or, for NCM and
  // τ-norm, re-derives) the classifier, so the settings that would ask otherwise are refused rather than ignored.
  if (cfg.stage2 === null && cfg.networks.feat_model.fix && cfg.model_dir !== null)
    p.push(
      `networks.feat_model.fix is true but there is no stage2 section: only stage 2 freezes the backbone (a config without stage2 trains a new one and ignores model_dir); add stage2 (the classifier method to learn on model_dir's backbone) or set fix: false`,
    );
  if (cfg.stage2 !== null && !cfg.networks.feat_model.fix)
    p.push(
      `stage2.method '${cfg.stage2.method}' learns the classifier on a frozen backbone: set networks.feat_model.fix: true (fine-tuning the backbone is not part of the method)`,
    );
  const head = cfg.stage2?.method;
  const sampler = cfg.training_opt.sampler?.type;
  if (
    (head === "crt" || head === "lws") &&
    cfg.stage2!.input === "features" &&
    sampler !== undefined &&
    sampler !== "class_balanced"
  )
    p.push(
      `training_opt.sampler.type '${sampler}': ${head} on features draws class-balanced batches (the method's definition); set class_balanced, or stage2.input: images to train the head with another sampler`,
    );
  if (cfg.networks.classifier.fix)
    p.push(
      `networks.classifier.fix: true would freeze the classifier, which every stage here trains; remove it (or set false)`,
    );
  if (cfg.stage2 !== null && cfg.stage2.tau_grid.start > cfg.stage2.tau_grid.stop)
    p.push(`stage2.tau_grid: start (${cfg.stage2.tau_grid.start}) must not exceed stop (${cfg.stage2.tau_grid.stop})`);
  if (cfg.training_opt.sampler?.type === "q_power" && !(cfg.training_opt.sampler.q >= 0))
    p.push(`training_opt.sampler.q must be >= 0 for q_power`);
  return p;
}

export interface LoadedConfig {
  config: ExperimentConfig;
  /** The file it came from (or "<defaults>"). */
  source: string;
  /** The overrides applied, in order. */
  overrides: string[];
  /** sha256 of the canonical JSON of the resolved config. */
  hash: string;
  /** Set when the file was an original classifier-balancing config (translated by original.ts). */
  original?: { notes: string[] };
}

/** Resolve a config from parsed YAML content (already read); `source` names it in errors. */
export function resolveConfig(raw: unknown, source: string, overrides: string[] = []): LoadedConfig {
  if (!isRec(raw)) {
    const got =
      raw === null || raw === undefined
        ? "nothing (an empty file)"
        : Array.isArray(raw)
          ? "a list"
          : `${typeof raw} ${JSON.stringify(raw)}`.slice(0, 80);
    throw new ConfigError(source, [
      `the file must hold a YAML mapping (key: value lines) at the top level, got ${got}`,
    ]);
  }
  // An original classifier-balancing file is translated into this format first (src/config/original.ts).
  const original = isOriginalConfig(raw, source) ? translateOriginalConfig(raw, source) : null;
  if (original) announceOriginal(source, original.notes);
  let config = validated(original ? original.config : raw, source);
  for (const o of overrides) config = withOverride(config, o);
  const cross = crossCheck(config);
  if (cross.length)
    throw new ConfigError(
      overrides.length ? `${source} (after ${overrides.map((o) => `--set ${o}`).join(" ")})` : source,
      cross,
    );
  return {
    config,
    source,
    overrides,
    hash: configHash(config),
    ...(original ? { original: { notes: original.notes } } : {}),
  };
}

/** Load and resolve a YAML config file. */
export function loadConfig(file: string, overrides: string[] = []): LoadedConfig {
  if (!existsSync(file))
    throw new ConfigError(file, [
      `file not found; configs live under config/<Dataset>/, e.g. config/FashionMNIST_LT/feat_uniform.yaml`,
    ]);
  let raw: unknown;
  try {
    raw = load(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(file, [`not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  return resolveConfig(raw, file, overrides);
}

/** Canonical JSON (sorted keys) so equal configs hash equally whatever the key order in the file. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isRec(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

export function configHash(cfg: ExperimentConfig): string {
  return sha256Hex(canonicalJson(cfg));
}

export function dumpConfig(cfg: ExperimentConfig): string {
  return dump(cfg, { lineWidth: 120 });
}
