/** Options shared by the subcommands that take an experiment config. */
import { type LoadedConfig, loadConfig } from "../config/load.js";
import { tableText } from "../plot/table.js";
import type { OptionDoc, ParsedValues } from "./args.js";
import { requireString } from "./args.js";

export const CFG_OPTIONS: Record<string, OptionDoc> = {
  cfg: { type: "string", arg: "FILE", help: "experiment config (YAML), e.g. config/FashionMNIST_LT/feat_uniform.yaml" },
  set: {
    type: "string",
    multiple: true,
    arg: "KEY=VALUE",
    help: "override a config key, type-checked, e.g. --set training_opt.num_epochs=2",
  },
  backend: { type: "string", arg: "NAME", help: "tensor backend: auto | wasm | cpu | tensorflow (env LTR_BACKEND)" },
  "data-root": { type: "string", arg: "DIR", help: "data folder (same as --set dataset.root=DIR; env LTR_DATA_ROOT)" },
};

export function loadFromArgs(values: ParsedValues, command: string): LoadedConfig {
  const file = requireString(values, "cfg", command);
  const sets = [...((values.set as string[] | undefined) ?? [])];
  if (typeof values["data-root"] === "string") sets.push(`dataset.root=${JSON.stringify(values["data-root"])}`);
  const loaded = loadConfig(file, sets);
  if (typeof values.backend === "string") loaded.config.backend = values.backend as LoadedConfig["config"]["backend"];
  return loaded;
}

/** Many / Medium / Few / All of an evaluation summary as table columns (percent), for {@link printShotTable}. */
export function shotColumns(s: { many: number; medium: number; few: number; top1: number }, prefix = "") {
  return {
    [`${prefix}Many`]: s.many,
    [`${prefix}Medium`]: s.medium,
    [`${prefix}Few`]: s.few,
    [`${prefix}All`]: s.top1,
  };
}

/**
 * Print a result table of the command line, one console line per row: the shared text formatter
 * (src/plot/table.ts) with every accuracy column at one decimal, as the paper's tables print them; `fixed` adds
 * columns with their own decimals (τ at two).
 */
export function printShotTable(rows: Record<string, unknown>[], fixed: Record<string, number> = {}): void {
  const one: Record<string, number> = {};
  for (const r of rows) for (const k of Object.keys(r)) if (/(Many|Medium|Few|All)$/.test(k)) one[k] = 1;
  for (const line of tableText(rows, { fixed: { ...one, ...fixed } }).split("\n")) console.log(line);
}
