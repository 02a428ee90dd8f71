/** `ltr tau-norm --run DIR`: tau-normalisation sweep over a stage-1 run; tau selected on val. */
import { type CommandSpec, notBuilt, parseCommand } from "./args.js";

export const spec: CommandSpec = {
  name: "tau-norm",
  summary: "tau-normalisation sweep on a stage-1 run's classifier; tau chosen on val, reported on test",
  usage: "ltr tau-norm --run DIR [--grid START:STOP:STEP]",
  options: {
    run: { type: "string", arg: "DIR", help: "stage-1 run folder (runs/<dataset>/<stage>_seed<seed>)" },
    grid: { type: "string", arg: "A:B:S", help: "tau grid, inclusive", default: "0:2:0.1" },
    backend: { type: "string", arg: "NAME", help: "tensor backend: auto | wasm | cpu | tensorflow" },
  },
};

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  return notBuilt("tau-norm");
}
