/** `ltr config show`: print the resolved config (defaults + file + overrides), after validation. */
import { dumpConfig } from "../config/load.js";
import { type CommandSpec, parseCommand } from "./args.js";
import { CFG_OPTIONS, loadFromArgs } from "./common.js";
import { checkComponents } from "./components.js";

export const spec: CommandSpec = {
  name: "config",
  summary: "validate a config and print it fully resolved",
  usage: "ltr config show --cfg FILE [--set KEY=VALUE ...]",
  actions: ["show"],
  options: { ...CFG_OPTIONS },
  notes: ["Exits non-zero with the file and key named when the config is invalid."],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  const loaded = loadFromArgs(p.values, "config");
  await checkComponents(loaded.config, loaded.source);
  process.stdout.write(
    `# ${loaded.source}${loaded.overrides.length ? ` with ${loaded.overrides.join(", ")}` : ""}\n# config hash ${loaded.hash}\n`,
  );
  process.stdout.write(dumpConfig(loaded.config));
  return 0;
}
