/**
 * `ltr classify --features DIR`: the five stage-2 classifiers from saved features alone (no images, no backbone):
 * how a user reproduces the ImageNet-LT classifier table from features exported by the original PyTorch code.
 */
import { join } from "node:path";
import { CLASSIFIER_METHODS, type ClassifierMethod, classifierMethods, classifiers } from "../classifiers/registry.js";
import { checkFeatureDirClasses, loadFeatureDirWith } from "../features/dir.js";
import { classCounts } from "../features/types.js";
import { assertWritable } from "../run/atomic.js";
import { writeCheckedJson } from "../run/checksum.js";
import { featureEpochPrinter } from "../train/progress.js";
import { evalSummary } from "../train/report.js";
import { type CommandSpec, parseCommand, requireString, UsageError } from "./args.js";
import { printShotTable, shotColumns } from "./common.js";
import { parseGrid } from "./taunorm_cmd.js";

const ALL_METHODS = CLASSIFIER_METHODS.map((m) => m.name).join(",");

export const spec: CommandSpec = {
  name: "classify",
  summary: "run Joint / NCM / cRT / tau-norm / LWS on saved features alone (e.g. exported from the original code)",
  usage: `ltr classify --features DIR [--method ${ALL_METHODS}] [--epochs N] [--lr X] ... [--out FILE]`,
  options: {
    features: {
      type: "string",
      arg: "DIR",
      help: "folder with {train,val,test}.ltf, {split}_feats.npy + {split}_labels.npy, or the original's {split}feat_all.pkl; and fc_weight.npy / fc_bias.npy or the original's final_model_checkpoint.pth",
    },
    checkpoint: {
      type: "string",
      arg: "FILE",
      help: "an original-code checkpoint (.pth) whose classifier is the stage-1 one (default: fc_weight.npy, else DIR/final_model_checkpoint.pth)",
    },
    method: { type: "string", arg: "LIST", help: "comma-separated classifiers", default: ALL_METHODS },
    "num-classes": { type: "string", arg: "C", help: "number of classes (default: largest train label + 1)" },
    // No defaults here: what is not given is left to cRT / LWS themselves (src/classifiers/train-utils.ts).
    epochs: { type: "string", arg: "N", help: "cRT/LWS epochs (default 10 for cRT, 5 for LWS, as the paper)" },
    "batch-size": { type: "string", arg: "B", help: "cRT/LWS batch size (default 512)" },
    lr: { type: "string", arg: "X", help: "cRT/LWS learning rate (default 0.2)" },
    "weight-decay": { type: "string", arg: "X", help: "cRT/LWS weight decay (default 5e-4)" },
    seed: { type: "string", arg: "N", help: "seed of cRT/LWS initialisation and sampling (default 0)" },
    "feat-type": { type: "string", arg: "T", help: "NCM feature type: un | l2n | cl2n", default: "cl2n" },
    dist: { type: "string", arg: "D", help: "NCM distance: l2 | cos | dot", default: "l2" },
    grid: { type: "string", arg: "A:B:S", help: "tau grid (tau chosen on val)", default: "0:2:0.1" },
    out: { type: "string", arg: "FILE", help: "write all results as JSON (default DIR/classify_results.json)" },
    backend: { type: "string", arg: "NAME", help: "tensor backend: auto | wasm | cpu | tensorflow" },
  },
  notes: [
    "Many (>100 train images) / Medium / Few from the train labels' counts. Selection (epoch, tau) uses val only.",
  ],
};

const num = (v: unknown, key: string): number => {
  const x = Number(v);
  if (!Number.isFinite(x)) throw new UsageError(`ltr classify: --${key} must be a number, got '${v}'`);
  return x;
};

type Flags = Record<string, unknown>;
const numFlag = (flag: string) => (v: Flags) => (v[flag] !== undefined ? num(v[flag], flag) : undefined);

/**
 * Method options the command line sets, by option name, each read from its flag (undefined: not given). A method
 * receives those its entry's `options` list (NCM featType / dist, τ-norm taus, cRT / LWS the training flags), so no
 * method is named here, and a flag is parsed only when a chosen method takes it.
 */
const CLI_OPTIONS: Record<string, (v: Flags) => unknown> = {
  featType: (v) => v["feat-type"],
  dist: (v) => v.dist,
  taus: (v) => parseGrid(String(v.grid)),
  epochs: numFlag("epochs"),
  batchSize: numFlag("batch-size"),
  lr: numFlag("lr"),
  weightDecay: numFlag("weight-decay"),
  seed: numFlag("seed"),
};

/** The command-line options one method takes. */
function optionsFor(m: ClassifierMethod, v: Flags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, read] of Object.entries(CLI_OPTIONS)) {
    if (!Object.hasOwn(m.options, key)) continue;
    const x = read(v);
    if (x !== undefined) out[key] = x;
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  const v = p.values;
  const dir = requireString(v, "features", "classify");
  const methods = String(v.method)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const entries = methods.map((m) => classifierMethods.get(m, "--method"));
  // Where the results go must be writable before anything is computed.
  const file = typeof v.out === "string" ? v.out : join(dir, "classify_results.json");
  assertWritable(file);
  const fixedC = v["num-classes"] !== undefined ? num(v["num-classes"], "num-classes") : null;
  if (fixedC !== null && !(Number.isInteger(fixedC) && fixedC >= 2))
    throw new UsageError(`ltr classify: --num-classes must be an integer >= 2, got '${v["num-classes"]}'`);
  const { initBackend } = await import("../backend.js"); // tfjs loads only now: `--help` stays fast
  await initBackend(v.backend as string | undefined);
  const fd = await loadFeatureDirWith(dir, typeof v.checkpoint === "string" ? v.checkpoint : undefined);
  let C = 0;
  for (const l of fd.train.labels) C = Math.max(C, l + 1);
  if (fixedC !== null) C = fixedC;
  checkFeatureDirClasses(
    fd,
    C,
    fixedC !== null ? "from --num-classes" : `from the largest train label in ${fd.files.train}`,
  );
  const trainCounts = Array.from(classCounts(fd.train.labels, C));
  const needs1 = entries.filter((m) => m.needsStage1Weights).map((m) => m.name);
  if (needs1.length && !fd.stage1)
    throw new UsageError(
      `ltr classify: ${needs1.join(", ")} need the stage-1 classifier: put fc_weight.npy [C×d] and fc_bias.npy [C] (or the original's final_model_checkpoint.pth) in ${dir}, or give --checkpoint FILE`,
    );
  const stage1 = fd.stage1 ?? { weight: new Float32Array(C * fd.train.dim), bias: new Float32Array(C) };
  const out: Record<string, unknown> = {};
  console.log(`features: train ${fd.train.n}×${fd.train.dim}, val ${fd.val.n}, test ${fd.test.n}; ${C} classes`);
  console.log("test accuracy, % (selection on val):");
  const table: Record<string, unknown>[] = [];
  for (const entry of entries) {
    const m = entry.name;
    // cRT / LWS train for a few epochs: one line each on stderr (epoch k/N, loss, val top-1, ETA).
    const onEpoch = entry.trains ? featureEpochPrinter(m) : undefined;
    const r = await classifiers.get(m)({
      train: fd.train,
      val: fd.val,
      test: fd.test,
      trainCounts,
      numClasses: C,
      stage1,
      options: optionsFor(entry, v),
      onEpoch,
    });
    const t = evalSummary(r.test);
    const tau = (r.extra as { tau?: number }).tau;
    table.push({ classifier: m + (tau !== undefined ? ` τ=${tau}` : ""), ...shotColumns(t) });
    out[m] = { val: evalSummary(r.val), test: t, ...(tau !== undefined ? { tau } : {}) };
  }
  printShotTable(table);
  writeCheckedJson(file, { features: dir, num_classes: C, train_counts: trainCounts, results: out });
  console.log(`written ${file}`);
  return 0;
}
