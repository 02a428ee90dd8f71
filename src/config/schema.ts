/**
 * A small typed schema for experiment configs: it rejects unknown keys and wrong types and names the file and
 * the key path in every message, so a typo in a YAML file is found before a run starts, not an hour into it.
 */

export type Spec =
  | { kind: "number"; integer?: boolean; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: "string" }
  | { kind: "boolean" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "object"; fields: Record<string, Spec> }
  | { kind: "nullable"; inner: Spec }
  /** A key that may be left out altogether (absent from the defaults, so existing configs resolve and hash as before). */
  | { kind: "optional"; inner: Spec };

const num = (o: Omit<Extract<Spec, { kind: "number" }>, "kind"> = {}): Spec => ({ kind: "number", ...o });
const str: Spec = { kind: "string" };
const bool: Spec = { kind: "boolean" };
const en = (...values: string[]): Spec => ({ kind: "enum", values });
const obj = (fields: Record<string, Spec>): Spec => ({ kind: "object", fields });
const nul = (inner: Spec): Spec => ({ kind: "nullable", inner });
const opt = (inner: Spec): Spec => ({ kind: "optional", inner });

const optim = obj({
  lr: num({ min: 0 }),
  momentum: num({ min: 0, max: 1 }),
  weight_decay: num({ min: 0 }),
});

const network = obj({ type: str, fix: bool, optim_params: optim });

/** The schema of `ExperimentConfig` (defaults.ts); keep the two in step (a test checks they agree). */
export const CONFIG_SCHEMA: Spec = obj({
  seed: num({ integer: true, min: 0 }),
  backend: en("auto", "wasm", "cpu", "tensorflow"),
  training_opt: obj({
    dataset: str,
    num_classes: num({ integer: true, min: 2 }),
    batch_size: num({ integer: true, min: 1 }),
    num_epochs: num({ integer: true, min: 1 }),
    sampler: nul(
      obj({
        type: str,
        num_samples_cls: num({ integer: true, min: 1 }),
        q: num({ min: 0 }),
        epochs: opt(num({ integer: true, min: 1 })),
      }),
    ),
    log_dir: nul(str),
    stage: str,
    display_step: num({ integer: true, min: 1 }),
    eval_batch_size: num({ integer: true, min: 1 }),
  }),
  dataset: obj({
    root: nul(str),
    imb_factor: num({ min: 1 }),
    profile: en("exp", "step"),
    n_max: nul(num({ integer: true, min: 1 })),
    subset_seed: num({ integer: true, min: 0 }),
    val_per_class: num({ integer: true, min: 1 }),
    augment: bool,
    train_list: nul(str),
    val_list: nul(str),
    test_list: nul(str),
    image_root: nul(str),
  }),
  networks: obj({ feat_model: network, classifier: network }),
  coslr: bool,
  endlr: num({ min: 0 }),
  shuffle: bool,
  model_dir: nul(str),
  stage2: nul(
    obj({
      method: str,
      input: en("features", "images"),
      bn_mode: en("eval", "train"),
      tau_grid: obj({ start: num({ min: 0 }), stop: num({ min: 0 }), step: num({ min: 0, exclusiveMin: true }) }),
      ncm: obj({ feat_type: en("un", "l2n", "cl2n"), dist: en("l2", "cos", "dot") }),
    }),
  ),
});

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${source}:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${String(v)}`;
}

function expected(spec: Spec): string {
  switch (spec.kind) {
    case "number":
      return spec.integer ? "an integer" : "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${spec.values.join(" | ")}`;
    case "object":
      return "a mapping";
    case "nullable":
      return `${expected(spec.inner)} or null`;
    case "optional":
      return expected(spec.inner);
  }
}

/** Check `value` against `spec`; push one message per problem (key path + what was expected + what was found). */
export function checkValue(value: unknown, spec: Spec, path: string, problems: string[]): void {
  const at = path === "" ? "(top level)" : `key '${path}'`;
  switch (spec.kind) {
    case "nullable":
      if (value !== null) checkValue(value, spec.inner, path, problems);
      return;
    case "optional":
      checkValue(value, spec.inner, path, problems);
      return;
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        problems.push(`${at}: expected ${expected(spec)}, got ${describe(value)}`);
        return;
      }
      if (spec.integer && !Number.isInteger(value)) problems.push(`${at}: expected an integer, got ${value}`);
      if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min))
        problems.push(`${at}: must be ${spec.exclusiveMin ? ">" : ">="} ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) problems.push(`${at}: must be <= ${spec.max}, got ${value}`);
      return;
    }
    case "string":
      if (typeof value !== "string") problems.push(`${at}: expected a string, got ${describe(value)}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") problems.push(`${at}: expected true or false, got ${describe(value)}`);
      return;
    case "enum":
      if (typeof value !== "string" || !spec.values.includes(value))
        problems.push(`${at}: expected ${expected(spec)}, got ${describe(value)}`);
      return;
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${at}: expected a mapping, got ${describe(value)}`);
        return;
      }
      const rec = value as Record<string, unknown>;
      for (const k of Object.keys(rec)) {
        const sub = path === "" ? k : `${path}.${k}`;
        if (!(k in spec.fields)) {
          problems.push(`unknown key '${sub}'; valid keys here: ${Object.keys(spec.fields).join(", ")}`);
          continue;
        }
        checkValue(rec[k], spec.fields[k], sub, problems);
      }
      for (const k of Object.keys(spec.fields)) {
        if (!(k in rec) && spec.fields[k].kind !== "optional")
          problems.push(`missing key '${path === "" ? k : `${path}.${k}`}'`);
      }
      return;
    }
  }
}

/** The spec at a dotted key path, or an error naming the first unknown segment and the valid keys there. */
export function specAt(root: Spec, path: string): Spec {
  let spec = root;
  const seen: string[] = [];
  for (const seg of path.split(".")) {
    while (spec.kind === "nullable" || spec.kind === "optional") spec = spec.inner;
    if (spec.kind !== "object") throw new Error(`'${seen.join(".")}' is not a mapping, so '${path}' does not exist`);
    if (!(seg in spec.fields)) {
      const here = seen.length ? `under '${seen.join(".")}'` : "at the top level";
      throw new Error(
        `unknown key '${[...seen, seg].join(".")}'; valid keys ${here}: ${Object.keys(spec.fields).join(", ")}`,
      );
    }
    spec = spec.fields[seg];
    seen.push(seg);
  }
  return spec;
}
