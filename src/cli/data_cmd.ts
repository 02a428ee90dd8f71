/** `ltr data prepare --cfg FILE`: build the dataset's long-tailed subset and print per-class counts and groups. */

import { describeDataset } from "../data/registry.js";
import { assertWritable, writeJsonAtomic } from "../run/atomic.js";
import { type CommandSpec, parseCommand, UsageError } from "./args.js";
import { CFG_OPTIONS, loadFromArgs } from "./common.js";
import { checkComponents } from "./components.js";

export const spec: CommandSpec = {
  name: "data",
  summary: "dataset tools",
  usage: "ltr data prepare --cfg FILE [--set KEY=VALUE ...] [--manifest OUT.json]",
  actions: ["prepare"],
  options: {
    ...CFG_OPTIONS,
    manifest: {
      type: "string",
      arg: "FILE",
      help: "also write the data manifest (chosen indices per class, SHA-256) to FILE",
    },
  },
  notes: [
    "prepare: loads the dataset named by training_opt.dataset with the config's `dataset` options, builds the",
    "long-tailed train subset (LDAM-DRW selection) and the balanced val split, and prints the per-class counts",
    "and the Many (>100) / Medium (20..100) / Few (<20) class split.",
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  const [action] = p.positionals;
  if (action !== "prepare")
    throw new UsageError(
      `ltr data: expected the action 'prepare', got ${action ? `'${action}'` : "none"}\n(usage: ${spec.usage})`,
    );
  const loaded = loadFromArgs(p.values, "data prepare");
  await checkComponents(loaded.config, loaded.source);
  if (typeof p.values.manifest === "string") assertWritable(p.values.manifest);
  const { buildDataset } = await import("../train/build.js"); // loads the models (tfjs): only now, not for --help
  const ds = await buildDataset(loaded.config);
  console.log(describeDataset(ds));
  if (typeof p.values.manifest === "string") {
    writeJsonAtomic(p.values.manifest, ds.manifest);
    console.log(`data manifest written to ${p.values.manifest}`);
  }
  return 0;
}
