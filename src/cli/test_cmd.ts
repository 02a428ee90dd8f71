/** `ltr test --cfg FILE`: evaluate a run (joint classifier, or NCM with --knn), or save its features. */
import { type CommandSpec, notBuilt, parseCommand } from "./args.js";
import { CFG_OPTIONS } from "./common.js";

export const spec: CommandSpec = {
  name: "test",
  summary: "evaluate a trained run on a split, NCM with --knn, or save pooled features",
  usage: "ltr test --cfg FILE [--knn [--feat-type un|l2n|cl2n] [--dist l2|cos|dot]] [--save-feat train|val|test] [--split val|test]",
  options: {
    ...CFG_OPTIONS,
    knn: { type: "boolean", help: "nearest-class-mean classifier over training features" },
    "feat-type": { type: "string", arg: "T", help: "NCM feature type: un | l2n | cl2n", default: "cl2n" },
    dist: { type: "string", arg: "D", help: "NCM distance: l2 (squared Euclidean) | cos (true cosine) | dot (original code's scaled dot)", default: "l2" },
    "save-feat": { type: "string", arg: "SPLIT", help: "write pooled features of train|val|test to the run folder" },
    split: { type: "string", arg: "SPLIT", help: "split to evaluate: val | test", default: "test" },
  },
};

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  return notBuilt("test");
}
