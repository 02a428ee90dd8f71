/**
 * The stage-1 epoch workloads the benches time (scripts/bench/run.ts against PyTorch, numerics.ts deterministic
 * against fast): one definition each, so both measure the same recipe on the same data.
 */
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { buildDataset } from "../../src/train/build.js";
import { exportSplits, writeSyntheticCifar10 } from "./data.js";
import type { EpochWorkload } from "./epochs.js";

/** The batch size of both recipes (config/*_LT/feat_uniform.yaml). */
export const BATCH = 128;

/**
 * ResNet-32 on 500 per class (5,000 images, 39 steps per epoch) of CIFAR-shaped noise written in the CIFAR-10 binary
 * format under `work`. With `peer`, the training split is also exported for the PyTorch peer.
 */
export async function cifarWorkload(work: string, peer: boolean): Promise<EpochWorkload> {
  const root = writeSyntheticCifar10(join(work, "cifar"), 1000);
  const sets = ["dataset.imb_factor=1", "dataset.n_max=500", "dataset.val_per_class=20"];
  const cfg = "config/CIFAR10_LT/feat_uniform.yaml";
  const cds = await buildDataset(loadConfig(cfg, [...sets, `dataset.root=${JSON.stringify(root)}`]).config);
  return {
    name: "resnet32 synthetic CIFAR-shaped 32x32x3",
    ltrArgs: ["--cfg", cfg, "--data-root", root, ...sets.flatMap((s) => ["--set", s])],
    model: "resnet32",
    peerData: peer ? join(exportSplits(cds, join(work, "cifar-export")), "train") : "",
    imagesPerEpoch: Math.floor(cds.train.size / BATCH) * BATCH,
  };
}
