/**
 * Config problems in words: the ConfigError every config failure throws (the file, or the `--set`, and one line per
 * problem), and the translation of the schema's validation issues into those lines. Each line names the key path
 * and the bad value, says what was expected (read from the schema node at that path, so an integer key says
 * "an integer" and an enum lists its values) and, for an unknown key, lists the valid keys there — so a typo in a
 * YAML file is found before a run starts, not an hour into it.
 */
import { z } from "zod";

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${source}:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** The node under defaults, optional and nullable wrappers: what a given value is checked against. */
export function bare(s: z.ZodType): z.ZodType {
  let t = s;
  for (;;) {
    if (t instanceof z.ZodDefault || t instanceof z.ZodPrefault || t instanceof z.ZodNullable)
      t = t.unwrap() as z.ZodType;
    else if (t instanceof z.ZodOptional) t = t.unwrap() as z.ZodType;
    else return t;
  }
}

/** The keys of a mapping node, in declaration order; null when the node is not a mapping. */
export function keysOf(s: z.ZodType): string[] | null {
  const b = bare(s);
  return b instanceof z.ZodObject ? Object.keys(b.shape) : null;
}

/** What a node accepts, in words ("an integer", "one of exp | step", "a mapping"). */
export function expected(s: z.ZodType): string {
  const b = bare(s);
  if (b instanceof z.ZodNumber) return b.isInt ? "an integer" : "a number";
  if (b instanceof z.ZodString) return "a string";
  if (b instanceof z.ZodBoolean) return "true or false";
  if (b instanceof z.ZodEnum) return `one of ${b.options.join(" | ")}`;
  if (b instanceof z.ZodObject) return "a mapping";
  return "a valid value";
}

/** A found value in words: `the string "ten"`, `number 1`, `a mapping`, `a list`, `null`. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${String(v)}`;
}

/** The node at a dotted key path, or an error naming the first unknown segment and the valid keys there. */
export function schemaAt(root: z.ZodType, path: string): z.ZodType {
  let node = root;
  const seen: string[] = [];
  for (const seg of path.split(".")) {
    const b = bare(node);
    if (!(b instanceof z.ZodObject))
      throw new Error(`'${seen.join(".")}' is not a mapping, so '${path}' does not exist`);
    const shape = b.shape as Record<string, z.ZodType>;
    if (!Object.hasOwn(shape, seg)) {
      const here = seen.length ? `under '${seen.join(".")}'` : "at the top level";
      throw new Error(
        `unknown key '${[...seen, seg].join(".")}'; valid keys ${here}: ${Object.keys(shape).join(", ")}`,
      );
    }
    node = shape[seg];
    seen.push(seg);
  }
  return node;
}

/** The node at an issue's path (the path of a value that was parsed, so every segment exists). */
function nodeAt(root: z.ZodType, path: PropertyKey[]): z.ZodType {
  return path.length ? schemaAt(root, path.map(String).join(".")) : root;
}

/** One line per problem of a failed parse (parsed with `reportInput: true`, so each issue carries its value). */
export function problemLines(root: z.ZodType, error: z.ZodError): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".");
    const at = path === "" ? "(top level)" : `key '${path}'`;
    const node = nodeAt(root, issue.path);
    const got = issue.input;
    switch (issue.code) {
      case "unrecognized_keys":
        for (const k of issue.keys)
          lines.push(`unknown key '${path ? `${path}.${k}` : k}'; valid keys here: ${(keysOf(node) ?? []).join(", ")}`);
        break;
      case "invalid_type":
        // A fractional number where an integer belongs is named by its value, as for a range error.
        if (expected(node) === "an integer" && typeof got === "number" && Number.isFinite(got))
          lines.push(`${at}: expected an integer, got ${got}`);
        else lines.push(`${at}: expected ${expected(node)}, got ${describeValue(got)}`);
        break;
      case "invalid_value":
        lines.push(`${at}: expected ${expected(node)}, got ${describeValue(got)}`);
        break;
      case "too_small":
        lines.push(`${at}: must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}, got ${String(got)}`);
        break;
      case "too_big":
        lines.push(`${at}: must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}, got ${String(got)}`);
        break;
      default:
        lines.push(`${at}: ${issue.message}`);
    }
  }
  return lines;
}
