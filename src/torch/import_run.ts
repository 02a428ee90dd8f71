/**
 * Import a checkpoint of the original code as a finished stage-1 run folder, so that everything after stage 1 —
 * `ltr test [--knn] [--save-feat]`, `ltr tau-norm`, stage 2 (`ltr train` with a cls config), the notebooks — runs
 * from it as from a run trained here. The folder holds config.yaml (the resolved stage-1 config), best.ckpt (the
 * `state_dict_best` weights in this project's names and layouts), log.jsonl and manifest.json (kind
 * "stage1-imported", status "finished", the source file and its sha256).
 *
 * Default folder: runs/<dataset>/imported/<name>_<sha256[0:8]>, so one checkpoint is imported once and two
 * checkpoints never share a folder. An existing import of the same file is reused (its config.yaml rewritten if the
 * config differs, e.g. another --data-root); a folder holding anything else is never overwritten.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { initBackend } from "../backend.js";
import type { ExperimentConfig } from "../config/defaults.js";
import { configHash, type LoadedConfig } from "../config/load.js";
import { sha256File } from "../hash.js";
import { backbones } from "../models/index.js";
import { saveCheckpoint } from "../run/checkpoint.js";
import { acquireRunLock } from "../run/lock.js";
import { type RunManifest, readManifest, startManifest, writeManifest } from "../run/manifest.js";
import { openRun, resolveRunDir, runPaths, writeRunConfig } from "../run/rundir.js";
import {
  checkpointStem,
  classifierTensors,
  featModelTensors,
  originalCheckpointPath,
  readOriginalCheckpoint,
} from "./original_checkpoint.js";

export const IMPORTED_KIND = "stage1-imported";

/** ImageNet-layout backbones, the only ones the original code has. */
const ORIGINAL_BACKBONES = ["resnet10", "resnet50", "resnet101", "resnet152", "resnext50", "resnext101", "resnext152"];

/** The stage-1 form of a config (a cls_*.yaml names the backbone and dataset too): no stage 2, a linear head. */
export function stage1Config(cfg: ExperimentConfig): ExperimentConfig {
  const c = structuredClone(cfg);
  c.stage2 = null;
  c.model_dir = null;
  c.networks.feat_model.fix = false;
  c.networks.classifier.type = "linear";
  c.training_opt.sampler = null;
  c.training_opt.log_dir = null;
  c.training_opt.stage = "imported";
  // The run's config.yaml is read from other folders later (notebooks run in notebooks/): absolute data paths.
  const d = c.dataset;
  for (const k of ["root", "image_root", "train_list", "val_list", "test_list"] as const)
    if (typeof d[k] === "string" && d[k] !== "") d[k] = resolve(d[k]!);
  return c;
}

export interface ImportArgs {
  /** A `.pth` file, or a folder holding final_model_checkpoint.pth (the original's --model_dir). */
  source: string;
  /** The config given with it (any stage; its backbone, dataset and class count describe the checkpoint). */
  loaded: LoadedConfig;
  /** Where to put the run (default runs/<dataset>/imported/<name>_<sha8>). */
  runDir?: string;
}

export interface ImportResult {
  runDir: string;
  checkpoint: string;
  sha256: string;
  /** True when an earlier import of the same file was reused. */
  reused: boolean;
}

interface ImportedManifest extends RunManifest {
  source?: {
    path: string;
    sha256: string;
    format: string;
    data_parallel: boolean;
    classifier: string;
    info: Record<string, number>;
  };
}

/** Import (or reuse an import of) an original checkpoint; see the module comment. */
export async function importOriginalCheckpoint(a: ImportArgs): Promise<ImportResult> {
  const pth = originalCheckpointPath(a.source);
  if (!pth)
    throw new Error(
      `${a.source}: no checkpoint there; --model_dir takes a .pth file or a folder holding final_model_checkpoint.pth (as the original main.py)`,
    );
  const cfg = stage1Config(a.loaded.config);
  const type = cfg.networks.feat_model.type;
  if (!ORIGINAL_BACKBONES.includes(type))
    throw new Error(
      `${pth}: networks.feat_model.type is ${type}, but the original code's checkpoints hold one of ${ORIGINAL_BACKBONES.join(", ")}`,
    );
  const sha256 = sha256File(pth);
  const dir =
    a.runDir ??
    resolveRunDir(join(cfg.training_opt.dataset, "imported", `${checkpointStem(pth)}_${sha256.slice(0, 8)}`));
  const paths = runPaths(dir);
  const hash = configHash(cfg);

  const prev = existsSync(paths.manifest) ? (readManifest(paths.manifest) as ImportedManifest) : null;
  if (prev || existsSync(paths.best) || existsSync(paths.latest)) {
    if (!prev || prev.kind !== IMPORTED_KIND || prev.source?.sha256 !== sha256)
      throw new Error(
        `${dir} already holds ${prev?.kind === IMPORTED_KIND ? `an import of another file (${prev.source?.path})` : "a run that is not this import"}; choose another folder with --run-dir`,
      );
    if (prev.status === "finished" && existsSync(paths.best)) {
      if (prev.config_hash !== hash) {
        // Same weights, another config (e.g. a new --data-root): keep best.ckpt, describe the run anew.
        const lock = acquireRunLock(dir);
        try {
          writeRunConfig(paths.config, cfg);
          writeManifest(paths.manifest, {
            ...prev,
            config: cfg,
            config_hash: hash,
            config_source: a.loaded.source,
            config_overrides: a.loaded.overrides,
          });
        } finally {
          lock.release();
        }
      }
      return { runDir: dir, checkpoint: pth, sha256, reused: true };
    }
  }

  const backend = await initBackend(cfg.backend);
  const ck = readOriginalCheckpoint(pth);
  try {
    const net = backbones.get(type, "networks.feat_model.type")({ inputShape: [224, 224, 3], seed: 0 });
    let feat;
    const d = net.featDim;
    try {
      const shapes = new Map([...net.trainable(), ...net.buffers()].map(([k, v]) => [k, v.shape]));
      feat = featModelTensors(ck, shapes, type);
    } finally {
      net.dispose();
    }
    const clf = classifierTensors(ck);
    const C = cfg.training_opt.num_classes;
    if (clf.numClasses !== C)
      throw new Error(`${pth}: the classifier has ${clf.numClasses} classes but training_opt.num_classes is ${C}`);
    if (clf.featDim !== d)
      throw new Error(`${pth}: the classifier takes ${clf.featDim}-d features but ${type} gives ${d}`);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(feat)) tensors[`feat_model.${k}`] = t;
    tensors["classifier.fc.weight"] = { shape: [C, d], data: clf.weight };
    tensors["classifier.fc.bias"] = { shape: [C], data: clf.bias };

    const source = {
      path: resolve(pth),
      sha256,
      format: ck.format,
      data_parallel: ck.dataParallel,
      classifier: clf.kind,
      info: ck.info,
    };
    writeImportedRun(dir, cfg, a.loaded, hash, tensors, source, backend);
    return { runDir: dir, checkpoint: pth, sha256, reused: false };
  } finally {
    ck.close();
  }
}

/**
 * The one place that writes an imported run folder, through the project's run-folder API (openRun writes
 * config.yaml and opens log.jsonl; saveCheckpoint; the manifest helpers): manifest "running", best.ckpt, then the
 * manifest "finished" — an interrupted import is never taken for a finished run.
 */
function writeImportedRun(
  dir: string,
  cfg: ExperimentConfig,
  loaded: LoadedConfig,
  hash: string,
  tensors: Record<string, { shape: number[]; data: Float32Array }>,
  source: NonNullable<ImportedManifest["source"]>,
  backend: Awaited<ReturnType<typeof initBackend>>,
): void {
  const paths = runPaths(dir);
  // openRun takes the folder's lock and writes the checksummed config.yaml; finish() releases the lock.
  const run = openRun(cfg, dir, false);
  try {
    const started: ImportedManifest = startManifest({
      kind: IMPORTED_KIND,
      name: dir,
      config: cfg,
      configSource: loaded.source,
      configOverrides: loaded.overrides,
      configHash: hash,
      seed: cfg.seed,
      data: { dataset: cfg.training_opt.dataset, sha256: null },
      backend,
    });
    started.source = source;
    run.begin(started);
    saveCheckpoint(paths.best, {
      tensors,
      meta: {
        epoch: source.info.best_epoch ?? null,
        run_id: run.runId,
        imported_from: source.path,
        sha256: source.sha256,
      },
    });
    run.logger.log("info", {
      message: "imported",
      source: source.path,
      sha256: source.sha256,
      format: source.format,
      classifier: source.classifier,
      ...source.info,
    });
    run.finish("finished", {
      imported_from: source.path,
      sha256: source.sha256,
      classifier: source.classifier,
      ...source.info,
    });
  } finally {
    run.close();
  }
}

/**
 * A `model_dir` value (config or --model_dir) as a stage-1 run folder: a run of this project as it is, an original
 * checkpoint (a .pth, or a folder with final_model_checkpoint.pth and no config.yaml) imported first.
 */
export async function resolveModelDir(
  value: string,
  loaded: LoadedConfig,
  runDir?: string,
): Promise<{ dir: string; imported: ImportResult | null }> {
  const asRun = resolveRunDir(value);
  if (!value.endsWith(".pth") && existsSync(runPaths(asRun).config)) return { dir: asRun, imported: null };
  const local = resolve(value);
  const pth = originalCheckpointPath(local) ?? originalCheckpointPath(asRun);
  if (!pth) return { dir: asRun, imported: null };
  const imported = await importOriginalCheckpoint({ source: pth, loaded, runDir });
  return { dir: imported.runDir, imported };
}
