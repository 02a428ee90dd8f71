/** Options shared by the subcommands that take an experiment config. */
import { type LoadedConfig, loadConfig } from "../config/load.js";
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
