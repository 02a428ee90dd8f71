/** `ltr test --cfg FILE`: evaluate a stage-1 run (joint classifier, or NCM with --knn), or save its features. */
import { STAGE2_DEFAULTS } from "../config/defaults.js";
import { resolveRunDir, runName } from "../run/rundir.js";
import { evalSummary } from "../train/report.js";
import { type CommandSpec, parseCommand, UsageError } from "./args.js";
import { CFG_OPTIONS, loadFromArgs, printShotTable, shotColumns } from "./common.js";

export const spec: CommandSpec = {
  name: "test",
  summary: "evaluate a trained stage-1 run on val/test (joint, or NCM with --knn), or save pooled features",
  usage:
    "ltr test --cfg FILE [--model_dir DIR|FILE.pth] [--knn [--feat-type un|l2n|cl2n] [--dist l2|cos|dot]] [--save-feat train|val|test [--npy]] [--run-dir DIR]",
  options: {
    ...CFG_OPTIONS,
    knn: { type: "boolean", help: "nearest-class-mean classifier over the training features (the original --knn)" },
    // --knn is NCM on the run's features: the same defaults as a config's stage2.ncm (config/schema.ts).
    "feat-type": {
      type: "string",
      arg: "T",
      help: "NCM feature type: un | l2n | cl2n",
      default: STAGE2_DEFAULTS.ncm.feat_type,
    },
    dist: {
      type: "string",
      arg: "D",
      help: "NCM distance: l2 (squared Euclidean) | cos (true cosine) | dot (the original code's scaled dot product)",
      default: STAGE2_DEFAULTS.ncm.dist,
    },
    "save-feat": {
      type: "string",
      arg: "SPLIT",
      help: "write pooled features of train|val|test to <run>/features/<split>.ltf (BN eval mode, no augmentation)",
    },
    npy: { type: "boolean", help: "with --save-feat: also write <split>_{feats,labels,idxs}.npy" },
    "run-dir": {
      type: "string",
      arg: "DIR",
      help: "the run folder (default: the one the config's stage-1 run writes)",
    },
    model_dir: {
      type: "string",
      arg: "DIR",
      help: "the weights, as the original --model_dir: a stage-1 run folder, or an original-code checkpoint (a .pth, or a folder with final_model_checkpoint.pth), imported as a run (into --run-dir if given)",
    },
    "model-dir": { type: "string", arg: "DIR", help: "same as --model_dir" },
  },
  notes: [
    "Prints Many / Medium / Few / All on val (selection split) and test. Features are cached in <run>/features/.",
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  const loaded = loadFromArgs(p.values, "test");
  // Heavy modules (tfjs, the models) load only now, so `ltr test --help` stays fast.
  const { resolveModelDir } = await import("../torch/import_run.js");
  const { classifyRun, saveRunFeatures } = await import("../train/stage2.js");
  const cfg = loaded.config;
  const backend = typeof p.values.backend === "string" ? p.values.backend : undefined;
  const runDirFlag = typeof p.values["run-dir"] === "string" ? p.values["run-dir"] : undefined;
  const md = [p.values.model_dir, p.values["model-dir"]].find((v): v is string => typeof v === "string");
  // The weights: --model_dir, else --run-dir, else the config's stage-1 run; an original checkpoint is imported first.
  const source = md ?? runDirFlag ?? (cfg.stage2 && cfg.model_dir ? cfg.model_dir : runName(cfg));
  const { dir, imported } = await resolveModelDir(
    source,
    loaded,
    md && runDirFlag ? resolveRunDir(runDirFlag) : undefined,
  );
  if (imported)
    console.log(
      `${imported.reused ? "using the import of" : "imported"} ${imported.checkpoint} (sha256 ${imported.sha256.slice(0, 12)}…) as the stage-1 run ${dir}`,
    );
  const save = p.values["save-feat"];
  if (typeof save === "string") {
    if (save !== "train" && save !== "val" && save !== "test")
      throw new UsageError(`ltr test: --save-feat must be train, val or test, got '${save}'`);
    const files = await saveRunFeatures(dir, save, Boolean(p.values.npy), backend);
    console.log(`features written:\n  ${files.join("\n  ")}`);
    return 0;
  }
  const method = p.values.knn ? "ncm" : "joint";
  const options = p.values.knn ? { featType: p.values["feat-type"], dist: p.values.dist } : {};
  const { result } = await classifyRun({ runDir: dir, method, options, backend });
  const v = evalSummary(result.val);
  const t = evalSummary(result.test);
  console.log(`${method}${p.values.knn ? ` (${options.featType}, ${options.dist})` : ""} on ${dir}`);
  printShotTable([
    { split: "val", ...shotColumns(v) },
    { split: "test", ...shotColumns(t) },
  ]);

  return 0;
}
