/**
 * Validation of the free-form `options` object a classifier receives from a config: every key must be known and of
 * the right kind, and errors name the classifier, the key, the bad value and the valid choices.
 */

/** Kinds of option values. A string array lists the allowed values of a string option. */
export type OptionKind = "number" | "integer" | "boolean" | "number[]" | readonly string[];

/** One option of a classifier method: its kind, the default the method applies when it is not given, one line. */
export interface OptionSpec {
  kind: OptionKind;
  /** What the method uses when the option is absent (the same constant the implementation applies). */
  default: unknown;
  /** One line on what it does. */
  doc: string;
}

/** A method's options by name. */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** Check `options` against `schema` and return it typed; unknown keys and wrong kinds throw. */
export function checkOptions<T>(
  classifier: string,
  options: Record<string, unknown> | undefined,
  schema: OptionSchema,
): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) {
    const kind = Object.hasOwn(schema, key) ? schema[key].kind : undefined;
    const at = `classifier '${classifier}', option '${key}'`;
    if (kind === undefined) {
      const valid = Object.keys(schema);
      throw new Error(`${at}: unknown option; valid options: ${valid.length ? valid.join(", ") : "(none)"}`);
    }
    if (value === undefined) continue;
    if (kind === "number" && (typeof value !== "number" || !Number.isFinite(value)))
      throw new Error(`${at}: expected a number, got ${JSON.stringify(value)}`);
    if (kind === "integer" && !Number.isInteger(value))
      throw new Error(`${at}: expected an integer, got ${JSON.stringify(value)}`);
    if (kind === "boolean" && typeof value !== "boolean")
      throw new Error(`${at}: expected true or false, got ${JSON.stringify(value)}`);
    if (
      kind === "number[]" &&
      !(Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" && Number.isFinite(v)))
    ) {
      throw new Error(`${at}: expected a non-empty list of numbers, got ${JSON.stringify(value)}`);
    }
    if (Array.isArray(kind) && !(typeof value === "string" && kind.includes(value))) {
      throw new Error(`${at}: got ${JSON.stringify(value)}; valid values: ${kind.join(", ")}`);
    }
    out[key] = value;
  }
  return out as T;
}
