/**
 * The golden run (docs/DETERMINISM.md, "The golden test"): a short stage-1 run — ResNet-8, seed 0, 3 epochs on an
 * 807-image Fashion-MNIST-LT subset (300 → 5 per class, the smoke profile's subset) — and the five stage-2
 * classifiers on its features, in a temporary folder. Its values are the SHA-256 of the final stage-1 weights (every
 * tensor of latest.ckpt: weights, BN statistics, momentum buffers) and of the cRT and LWS heads, the per-epoch training
 * losses, and the val/test metrics and τ. With deterministic numerics they are the same bits on every machine of this
 * kind; test/golden/fmnist_short.json holds them, per engine.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend } from "../../src/backend.js";
import { loadConfig } from "../../src/config/load.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { gitState, machineInfo, projectRoot } from "../../src/run/manifest.js";
import { buildDataset } from "../../src/train/build.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { trainStage2 } from "../../src/train/stage2.js";

/** The subset and schedule of the golden run (overrides of config/FashionMNIST_LT/*.yaml). */
export const GOLDEN_STAGE1 = [
  "seed=0",
  "training_opt.num_epochs=3",
  "dataset.n_max=300",
  "dataset.imb_factor=60",
  "dataset.val_per_class=20",
  "training_opt.log_dir=null",
];
export const GOLDEN_STAGE2 = [
  "seed=0",
  "dataset.n_max=300",
  "dataset.imb_factor=60",
  "dataset.val_per_class=20",
  "training_opt.log_dir=null",
];
export const GOLDEN_CLASSIFIERS = ["cls_joint", "cls_ncm", "cls_crt", "cls_taunorm", "cls_lws"] as const;

export interface Metrics {
  top1: number;
  many: number;
  medium: number;
  few: number;
}

/** Everything the golden test compares. */
export interface GoldenValues {
  data_sha256: string;
  stage1: { weights_sha256: string; best_epoch: number; train_loss: number[]; val: Metrics; test: Metrics };
  /** By classifier method (joint, ncm, crt, tau_norm, lws). */
  stage2: Record<string, { val: Metrics; test: Metrics; tau?: number; head_sha256?: string }>;
}

/** What a golden entry was generated with, so a mismatch can say "generated on X, this machine Y". */
export interface GoldenMachine {
  engine: string;
  commit: string | null;
  dirty: boolean | null;
  cpu: string;
  cpu_flags: string[];
  native: Record<string, unknown> | null;
  node: string;
}

/** SHA-256 over every tensor of a checkpoint, in key order: the key, then the float32 bytes. */
export function tensorsSha256(path: string): string {
  const ck = loadCheckpoint(path);
  const h = createHash("sha256");
  for (const key of Object.keys(ck.tensors).sort()) {
    const t = ck.tensors[key];
    h.update(key);
    h.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest("hex");
}

const metrics = (m: Metrics): Metrics => ({ top1: m.top1, many: m.many, medium: m.medium, few: m.few });
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;

/** The engine the numbers come from: "native-<numerics>" when the native layer serves kernels, else "wasm". */
export async function activeEngine(): Promise<{ engine: string; native: Record<string, unknown> | null }> {
  const b = await initBackend("wasm");
  const native = (b.kernels.native as unknown as Record<string, unknown> | undefined) ?? null;
  return { engine: native ? `native-${String(native.numerics)}` : "wasm", native };
}

/** Train the golden run in a temporary folder (removed afterwards) and return its values. */
export async function computeGolden(
  log: (s: string) => void = () => {},
): Promise<{ values: GoldenValues; machine: GoldenMachine }> {
  const { engine, native } = await activeEngine();
  const cfgFile = (stage: string) => join(projectRoot(), "config", "FashionMNIST_LT", `${stage}.yaml`);
  const tmp = mkdtempSync(join(tmpdir(), "ltr-golden-"));
  try {
    const s1 = loadConfig(cfgFile("feat_uniform"), [...GOLDEN_STAGE1, "backend=wasm"]);
    const dataset = await buildDataset(s1.config);
    const s1dir = join(tmp, "stage1");
    log(
      `golden: stage 1 (${dataset.trainCounts.reduce((a, b) => a + b, 0)} images, ${s1.config.training_opt.num_epochs} epochs, engine ${engine})`,
    );
    await trainStage1({ loaded: s1, runDir: s1dir, dataset, quiet: true });
    const r1 = readJson(join(s1dir, "results.json")) as { best_epoch: number; val: Metrics; test: Metrics };
    const losses = readFileSync(join(s1dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; train_loss: number })
      .filter((l) => l.kind === "epoch")
      .map((l) => l.train_loss);
    const values: GoldenValues = {
      data_sha256: dataset.manifest.indicesSha256,
      stage1: {
        weights_sha256: tensorsSha256(join(s1dir, "latest.ckpt")),
        best_epoch: r1.best_epoch,
        train_loss: losses,
        val: metrics(r1.val),
        test: metrics(r1.test),
      },
      stage2: {},
    };
    for (const stage of GOLDEN_CLASSIFIERS) {
      log(`golden: stage 2 ${stage}`);
      const l2 = loadConfig(cfgFile(stage), [...GOLDEN_STAGE2, `model_dir=${s1dir}`, "backend=wasm"]);
      const dir = join(tmp, stage);
      await trainStage2({ loaded: l2, runDir: dir, dataset, quiet: true });
      const r2 = readJson(join(dir, "results.json")) as {
        method: string;
        val: Metrics;
        test: Metrics;
        extra?: { tau?: number };
      };
      const entry: GoldenValues["stage2"][string] = { val: metrics(r2.val), test: metrics(r2.test) };
      if (r2.extra?.tau !== undefined) entry.tau = r2.extra.tau;
      if (stage === "cls_crt" || stage === "cls_lws") entry.head_sha256 = tensorsSha256(join(dir, "classifier.ckpt"));
      values.stage2[r2.method] = entry;
    }
    const m = machineInfo();
    const git = gitState();
    return {
      values,
      machine: {
        engine,
        commit: git.commit,
        dirty: git.dirty,
        cpu: m.cpu,
        cpu_flags: m.cpu_flags,
        native,
        node: process.version,
      },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
