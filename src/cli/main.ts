/**
 * `ltr`: the command line, mirroring the original code's entry points —
 *   ltr train --cfg FILE            stage 1 (feat_*.yaml) or stage 2 (cls_*.yaml) training
 *   ltr test --cfg FILE [--knn]     evaluate a run; --save-feat train|val|test dumps features
 *   ltr tau-norm --run DIR          tau-normalisation sweep with tau selected on val
 *   ltr classify --features DIR     the five classifiers on saved (e.g. imported .npy) features
 *   ltr data prepare --cfg FILE     build the long-tailed subset and print its class counts
 *   ltr config show --cfg FILE      print the resolved, validated config
 *   ltr --version                   the package version
 *
 * Each subcommand module is imported only when it runs, and imports its heavy modules (tfjs, the models) inside
 * `run`, after its options are parsed: `ltr`, `ltr --help`, `ltr --version` and `ltr <command> --help` load no tensors.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/schema.js";
import { UsageError } from "./args.js";

interface Subcommand {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Subcommand> = {
  train: {
    summary: "train a stage-1 representation or a stage-2 classifier from a config",
    load: () => import("./train_cmd.js"),
  },
  test: {
    summary: "evaluate a run on a split (joint or NCM with --knn), or save features",
    load: () => import("./test_cmd.js"),
  },
  "tau-norm": {
    summary: "tau-normalisation sweep over a run's saved features; tau chosen on val",
    load: () => import("./taunorm_cmd.js"),
  },
  classify: {
    summary: "Joint / NCM / cRT / tau-norm / LWS on saved features alone (.ltf or .npy)",
    load: () => import("./classify_cmd.js"),
  },
  data: {
    summary: "dataset tools: prepare (build the long-tailed subset, print counts)",
    load: () => import("./data_cmd.js"),
  },
  config: { summary: "validate a config and print it resolved", load: () => import("./config_cmd.js") },
};

/** This package's version, from its package.json (two folders above both src/cli/ and dist/cli/). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;
}

export function mainHelp(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    "ltr — Decoupling Representation and Classifier for Long-Tailed Recognition (Kang et al., ICLR 2020)",
    "",
    "usage: ltr <command> [options]     (ltr <command> --help for its options)",
    "       ltr --version | --help",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}${c.summary}`),
    "",
    "environment: LTR_BACKEND (auto|wasm|cpu|tensorflow), LTR_DATA_ROOT (data folder), LTR_NATIVE=0 (disable native kernels)",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(mainHelp());
    return 0;
  }
  if (cmd === "--version" || cmd === "-V") {
    console.log(packageVersion());
    return 0;
  }
  const sub = COMMANDS[cmd];
  if (!sub) {
    console.error(`ltr: unknown command '${cmd}'; valid commands: ${Object.keys(COMMANDS).join(", ")}`);
    return 2;
  }
  try {
    const mod = await sub.load();
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    console.error(`ltr ${cmd}: ${(e as Error).message}`);
    if (process.env.LTR_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}
