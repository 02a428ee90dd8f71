/** Small helpers shared by the subcommands: option parsing with --help, and user-facing errors. */
import { type ParseArgsConfig, parseArgs } from "node:util";

/** An error whose message is meant for the user as is (no stack trace). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export interface OptionDoc {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Shown in --help, e.g. "FILE". */
  arg?: string;
  help: string;
  default?: string | boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionDoc>;
  /** Extra paragraphs after the options. */
  notes?: string[];
  /** The words allowed as one positional argument (an action such as "prepare"); none when absent. */
  actions?: string[];
}

export function helpText(spec: CommandSpec): string {
  const lines = [`ltr ${spec.name} — ${spec.summary}`, "", `usage: ${spec.usage}`, "", "options:"];
  const all: [string, OptionDoc][] = [
    ...Object.entries(spec.options),
    ["help", { type: "boolean", short: "h", help: "show this help" }],
  ];
  const left = all.map(([k, o]) => `  ${o.short ? `-${o.short}, ` : ""}--${k}${o.arg ? ` ${o.arg}` : ""}`);
  const w = Math.max(...left.map((l) => l.length)) + 2;
  all.forEach(([, o], i) => {
    const def = o.default !== undefined ? ` (default: ${o.default})` : "";
    lines.push(left[i].padEnd(w) + o.help + def + (o.multiple ? " (repeatable)" : ""));
  });
  if (spec.notes?.length) lines.push("", ...spec.notes);
  return lines.join("\n");
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/** Parse argv against a command spec; returns null when --help was printed. */
export function parseCommand(
  spec: CommandSpec,
  argv: string[],
): { values: ParsedValues; positionals: string[] } | null {
  const options: ParseArgsConfig["options"] = { help: { type: "boolean", short: "h" } };
  for (const [k, o] of Object.entries(spec.options)) {
    options[k] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
      ...(o.default !== undefined ? { default: o.default as never } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`ltr ${spec.name}: ${(e as Error).message}\n\n${helpText(spec)}`);
  }
  if (parsed.values.help) {
    console.log(helpText(spec));
    return null;
  }
  checkPositionals(spec, parsed.positionals, argv);
  return { values: parsed.values as ParsedValues, positionals: parsed.positionals };
}

/**
 * Reject arguments that are not options: a stray word would otherwise be ignored silently — most often a second
 * override after one --set (`--set a=1 b=2` drops `b=2`).
 */
function checkPositionals(spec: CommandSpec, positionals: string[], argv: string[]): void {
  const allowed = spec.actions ?? [];
  const extra = allowed.length ? positionals.filter((p, i) => i > 0 || !allowed.includes(p)) : positionals;
  if (!extra.length) return;
  const bad = extra[0];
  let hint = `see ltr ${spec.name} --help`;
  if (/^[A-Za-z_][\w.]*=/.test(bad)) {
    const i = argv.indexOf(bad);
    const prev = i > 0 ? argv[i - 1] : "";
    hint = `every override needs its own --set: write ${prev.includes("=") ? `--set ${prev} ` : ""}--set ${bad}`;
  } else if (allowed.length && positionals[0] !== bad)
    hint = `ltr ${spec.name} takes one action (${allowed.join(" | ")})`;
  else if (allowed.length) hint = `valid actions: ${allowed.join(" | ")}`;
  throw new UsageError(`ltr ${spec.name}: unexpected argument '${bad}'; ${hint}\n(usage: ${spec.usage})`);
}

export function requireString(values: ParsedValues, key: string, command: string): string {
  const v = values[key];
  if (typeof v !== "string" || v === "")
    throw new UsageError(`ltr ${command}: --${key} is required (see ltr ${command} --help)`);
  return v;
}
