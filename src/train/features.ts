/**
 * Pooled features of a stage-1 run, extracted once per split with the evaluation transform and BatchNorm in
 * eval mode (the original `--save_feat train_plain|val|test`), and cached in `<run>/features/<split>.ltf`.
 *
 * The cache key ({@link featureCacheKey}) covers everything the features depend on: the weights (SHA-256 of
 * best.ckpt's content), the backbone type and width, the evaluation transform (input shape, the dataset code's
 * normalisation), the split itself (its name, rows and the hash of its labels) and the data definition (the
 * dataset manifest: subset options, val_per_class, source-file hashes; for list-file datasets also the image
 * folder, since images are not hashed). A cache made under any other key is extracted again, never reused; a
 * damaged cache file (checksum mismatch) is reported and extracted again.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ExperimentConfig } from "../config/defaults.js";
import { canonicalJson } from "../config/load.js";
import type { Dataset } from "../data/types.js";
import { extractFeatures, progressPrinter } from "../features/extract.js";
import { readFeatureHeader, readFeatures } from "../features/format.js";
import type { FeatureSet } from "../features/types.js";
import { sha256Hex } from "../hash.js";
import type { Backbone } from "../models/types.js";
import { assertWritable } from "../run/atomic.js";
import { runPass } from "./evaluate.js";

export type SplitName = "train" | "val" | "test";

/** Version of the key below: bump it when extraction changes in a way the key does not see. */
const CACHE_KEY_VERSION = 2;

export interface FeatureCacheArgs {
  /** Stage-1 run folder (holds best.ckpt; features go to <runDir>/features/). */
  runDir: string;
  backbone: Backbone;
  dataset: Dataset;
  split: SplitName;
  batchSize: number;
  /** sha256 of the checkpoint the backbone weights came from (cache key). */
  ckptSha256: string;
  /** The config the dataset was built from (its image folder is part of the key for list-file datasets). */
  config?: ExperimentConfig;
  /** Where to write (default <runDir>/features/<split>.ltf). */
  path?: string;
}

export function featurePath(runDir: string, split: SplitName): string {
  return join(runDir, "features", `${split}.ltf`);
}

/** Everything the features of one split depend on (see the module comment). */
export function featureCacheKey(a: FeatureCacheArgs): Record<string, unknown> {
  const split = a.dataset[a.split];
  const { chosen: _chosen, ...manifest } = a.dataset.manifest;
  const listDataset = a.dataset.manifest.chosen === undefined;
  const d = a.config?.dataset;
  return {
    version: CACHE_KEY_VERSION,
    ckpt_sha256: a.ckptSha256,
    backbone: { type: a.backbone.name, feat_dim: a.backbone.featDim },
    transform: { mode: "eval", dataset: a.dataset.name, input_shape: a.dataset.inputShape },
    split: {
      name: a.split,
      rows: split.size,
      labels_sha256: sha256Hex(new Uint8Array(split.labels.buffer, split.labels.byteOffset, split.labels.byteLength)),
    },
    data: {
      manifest_sha256: sha256Hex(canonicalJson(manifest)),
      indices_sha256: a.dataset.manifest.indicesSha256,
      val_per_class: a.dataset.manifest.valPerClass,
    },
    images: listDataset && d ? imageFolder(d.image_root ?? d.root ?? process.env.LTR_DATA_ROOT ?? null) : null,
  };
}

const imageFolder = (p: string | null) => (p ? resolve(p) : "(default data folder)");

/** Features of one split: from the cache when it was made under the same key, else extracted (and cached). */
export async function splitFeatures(a: FeatureCacheArgs): Promise<FeatureSet> {
  const path = a.path ?? featurePath(a.runDir, a.split);
  const key = featureCacheKey(a);
  if (existsSync(path)) {
    let same = false;
    try {
      const ex = (readFeatureHeader(path).extra ?? {}) as Record<string, unknown>;
      same = canonicalJson(ex.cache_key ?? null) === canonicalJson(key);
    } catch {
      /* unreadable header: not the same */
    }
    if (same) {
      try {
        return readFeatures(path);
      } catch (e) {
        process.stderr.write(
          `notice: the feature cache ${path} cannot be used (${(e as Error).message.split(". ")[0]}); extracting the ${a.split} features again\n`,
        );
      }
    }
  }
  // A run folder that cannot be written (read-only, full) still gets its features, uncached, with a notice.
  let cache = true;
  try {
    assertWritable(path);
  } catch (e) {
    cache = false;
    process.stderr.write(
      `notice: the ${a.split} features are extracted but not cached: ${(e as Error).message.split(". ")[0]}\n`,
    );
  }
  const split = a.dataset[a.split];
  const meta = {
    split: a.split === "train" ? "train_plain" : a.split,
    source: a.runDir,
    extra: { cache_key: key, ckpt_sha256: a.ckptSha256, backbone: a.backbone.name },
  };
  if (!cache) {
    const pass = await runPass({ backbone: a.backbone, split, batchSize: a.batchSize, keepFeatures: true });
    return {
      feats: pass.feats!,
      dim: a.backbone.featDim,
      labels: Int32Array.from(pass.labels),
      indices: pass.indices,
      n: split.size,
    };
  }
  // Resumable and in bounded memory: rows go to <path>.chunks/ as they are computed (src/features/extract.ts).
  const { features } = await extractFeatures({
    backbone: a.backbone,
    split,
    batchSize: a.batchSize,
    out: path,
    meta,
    onProgress: progressPrinter(`features ${a.split}`),
  });
  return features;
}
