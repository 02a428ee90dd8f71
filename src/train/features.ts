/**
 * Pooled features of a stage-1 run, extracted once per split with the evaluation transform and BatchNorm in
 * eval mode (the original `--save_feat train_plain|val|test`), and cached in `<run>/features/<split>.ltf` keyed
 * by the checkpoint's hash, so NCM, tau-norm, cRT and LWS on features all reuse one extraction.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../data/types.js";
import { extractFeatures, progressPrinter } from "../features/extract.js";
import { readFeatureHeader, readFeatures } from "../features/format.js";
import type { FeatureSet } from "../features/types.js";
import type { Backbone } from "../models/types.js";

export type SplitName = "train" | "val" | "test";

export function fileSha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export interface FeatureCacheArgs {
  /** Stage-1 run folder (holds best.ckpt; features go to <runDir>/features/). */
  runDir: string;
  backbone: Backbone;
  dataset: Dataset;
  split: SplitName;
  batchSize: number;
  /** sha256 of the checkpoint the backbone weights came from (cache key). */
  ckptSha256: string;
  /** Where to write (default <runDir>/features/<split>.ltf). */
  path?: string;
}

export function featurePath(runDir: string, split: SplitName): string {
  return join(runDir, "features", `${split}.ltf`);
}

/** Features of one split: from the cache when it was made from the same checkpoint and data, else extracted. */
export async function splitFeatures(a: FeatureCacheArgs): Promise<FeatureSet> {
  const path = a.path ?? featurePath(a.runDir, a.split);
  const key = { ckpt_sha256: a.ckptSha256, data_sha256: a.dataset.manifest.indicesSha256, backbone: a.backbone.name };
  if (existsSync(path)) {
    try {
      const h = readFeatureHeader(path);
      const ex = (h.extra ?? {}) as Record<string, unknown>;
      if (ex.ckpt_sha256 === key.ckpt_sha256 && ex.data_sha256 === key.data_sha256 && h.dim === a.backbone.featDim) return readFeatures(path);
    } catch {
      /* unreadable cache: extract again */
    }
  }
  // Resumable and in bounded memory: rows go to <path>.chunks/ as they are computed (src/features/extract.ts).
  const { features } = await extractFeatures({
    backbone: a.backbone, split: a.dataset[a.split], batchSize: a.batchSize, out: path,
    meta: { split: a.split === "train" ? "train_plain" : a.split, source: a.runDir, extra: key },
    onProgress: progressPrinter(`features ${a.split}`),
  });
  return features;
}
