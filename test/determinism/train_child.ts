/**
 * Child process of determinism.test.ts: a short stage-1 run (ResNet-8, synthetic Fashion-MNIST-LT, 2 epochs) with
 * the thread count and numerics mode of its environment; prints one JSON line with the sha256 of every trained
 * tensor of latest.ckpt (weights, BN running statistics, momentum buffers) and the per-epoch losses.
 *
 *   node --import tsx test/determinism/train_child.ts DATA_DIR RUN_DIR
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { trainStage1 } from "../../src/train/stage1.js";

const [dataDir, runDir] = process.argv.slice(2);
const info = await initBackend("wasm");
const loaded = resolveConfig(
  {
    seed: 5,
    backend: "wasm",
    training_opt: { dataset: "FashionMNIST_LT", num_classes: 10, batch_size: 32, num_epochs: 2, eval_batch_size: 64 },
    dataset: { root: dataDir, imb_factor: 10, n_max: 40, val_per_class: 10 },
    networks: { feat_model: { type: "resnet8", optim_params: { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 } } },
  },
  "determinism-test",
  [],
);
await trainStage1({ loaded, runDir, quiet: true });
const ck = loadCheckpoint(join(runDir, "latest.ckpt"));
const h = createHash("sha256");
for (const key of Object.keys(ck.tensors).sort()) {
  const t = ck.tensors[key];
  h.update(key);
  h.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}
const losses = readFileSync(join(runDir, "log.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l))
  .filter((l) => l.kind === "epoch")
  .map((l) => l.train_loss);
const manifest = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8")) as {
  machine: unknown;
  backend: { kernels: { native?: unknown } };
};
console.log(
  JSON.stringify({
    sha256: h.digest("hex"),
    losses,
    tensors: Object.keys(ck.tensors).length,
    native: info.kernels.native ?? null,
    manifest: { machine: manifest.machine, native: manifest.backend.kernels.native ?? null },
  }),
);
