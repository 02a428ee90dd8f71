/** `ltr train --cfg FILE`: stage 1 (representation) or stage 2 (classifier) training. */

import { configHash } from "../config/load.js";
import { type CommandSpec, parseCommand } from "./args.js";
import { CFG_OPTIONS, loadFromArgs } from "./common.js";
import { checkComponents } from "./components.js";

export const spec: CommandSpec = {
  name: "train",
  summary: "train a stage-1 representation (feat_*.yaml) or a stage-2 classifier (cls_*.yaml)",
  usage:
    "ltr train --cfg FILE [--model_dir DIR|FILE.pth] [--set KEY=VALUE ...] [--resume] [--backend NAME] [--run-dir DIR]",
  options: {
    ...CFG_OPTIONS,
    resume: {
      type: "boolean",
      help: "continue an unfinished run from its latest checkpoint (same result as an uninterrupted run); the config may only change in training_opt.num_epochs (increase) and the few keys in docs/run-folders.md",
    },
    "run-dir": {
      type: "string",
      arg: "DIR",
      help: "run folder (default runs/<dataset>/<stage>_seed<seed>, or training_opt.log_dir)",
    },
    model_dir: {
      type: "string",
      arg: "DIR",
      help: "stage 2: the stage-1 weights (sets model_dir, as the original --model_dir): a run folder, or an original-code checkpoint (.pth, or a folder with final_model_checkpoint.pth), imported as a run first",
    },
    "model-dir": { type: "string", arg: "DIR", help: "same as --model_dir" },
  },
  notes: [
    "Stage 1 (no `stage2` section): writes runs/<name>/{config.yaml,log.jsonl,latest.ckpt,best.ckpt,results.json,manifest.json}.",
    "Stage 2 (a `stage2` section and model_dir pointing at a stage-1 run): joint | ncm | crt | tau_norm | lws.",
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  const md = [p.values.model_dir, p.values["model-dir"]].find((v): v is string => typeof v === "string");
  if (md) p.values.set = [...((p.values.set as string[] | undefined) ?? []), `model_dir=${JSON.stringify(md)}`];
  const loaded = loadFromArgs(p.values, "train");
  await checkComponents(loaded.config, loaded.source);
  if (loaded.config.stage2 && loaded.config.model_dir) {
    // An original-code checkpoint as model_dir is imported as a stage-1 run; stage 2 then starts from that run.
    const { resolveModelDir } = await import("../torch/import_run.js");
    const { dir, imported } = await resolveModelDir(loaded.config.model_dir, loaded);
    if (imported) {
      console.error(
        `${imported.reused ? "using the import of" : "imported"} ${imported.checkpoint} as the stage-1 run ${dir}`,
      );
      loaded.config.model_dir = dir;
      loaded.hash = configHash(loaded.config);
    }
  }
  const runDir = typeof p.values["run-dir"] === "string" ? p.values["run-dir"] : undefined;
  if (loaded.config.stage2) {
    const { trainStage2 } = await import("../train/stage2.js");
    const r = await trainStage2({ loaded, runDir });
    console.log(
      JSON.stringify({ run: r.runDir, method: r.method, val: r.val, test: r.test, ...(r.extra ?? {}) }, null, 2),
    );
  } else {
    const { trainStage1 } = await import("../train/stage1.js");
    const r = await trainStage1({ loaded, resume: Boolean(p.values.resume), runDir });
    console.log(
      JSON.stringify(
        { run: r.runDir, best_epoch: r.bestEpoch, val: r.val, test: r.test, wall_time_s: r.wallTimeS },
        null,
        2,
      ),
    );
  }
  return 0;
}
