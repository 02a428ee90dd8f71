/**
 * docs/CONFIG.md, written from the schema: one table per config section listing every key with its type, range,
 * default and description. `npm run docs:config` writes the file; test/foundation/config_doc.test.ts fails when the
 * file and the schema disagree, so the documentation of a key cannot drift from the key.
 *
 * The schema is read through zod's JSON Schema export (types, ranges, defaults and descriptions in a plain,
 * documented form) rather than through zod's internals.
 */
import { z } from "zod";
import { CONFIG_SCHEMA } from "./schema.js";

/** A JSON Schema node, as far as this page reads it. */
interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: Node[];
  properties?: Record<string, Node>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** One documented key: a row of its section's table. */
interface Row {
  key: string;
  type: string;
  fallback: string;
  doc: string;
}

/** A section: its dotted path, what it is, and its scalar keys. */
interface Section {
  path: string;
  doc: string;
  nullable: boolean;
  rows: Row[];
}

/** zod's integer bound, the largest safe integer: a limit of the number type, not of the key, so not shown. */
const SAFE = Number.MAX_SAFE_INTEGER;

/** The object node of a mapping (a nullable one is `anyOf: [object, null]`), or null for a scalar. */
function objectOf(n: Node): Node | null {
  if (n.properties) return n;
  const o = n.anyOf?.find((a) => a.properties);
  return o ?? null;
}

function typeText(n: Node): string {
  const alts = n.anyOf ?? [n];
  const parts: string[] = [];
  for (const a of alts) {
    const types = Array.isArray(a.type) ? a.type : a.type ? [a.type] : [];
    if (a.enum) parts.push(`one of ${a.enum.map((v) => `\`${String(v)}\``).join(", ")}`);
    else for (const t of types) parts.push(t === "null" ? "null" : t === "object" ? "mapping" : t);
  }
  const nullLast = parts.filter((p) => p !== "null");
  if (parts.includes("null") || n.enum?.includes(null)) nullLast.push("null");
  return [...new Set(nullLast)].join(" or ");
}

function rangeText(node: Node): string {
  const n = node.anyOf?.find((a) => a.type !== "null") ?? node;
  const lo =
    n.exclusiveMinimum !== undefined ? `> ${n.exclusiveMinimum}` : n.minimum !== undefined ? `≥ ${n.minimum}` : "";
  const hiVal = n.maximum !== undefined && n.maximum < SAFE ? n.maximum : undefined;
  const hi = n.exclusiveMaximum !== undefined ? `< ${n.exclusiveMaximum}` : hiVal !== undefined ? `≤ ${hiVal}` : "";
  return [lo, hi].filter(Boolean).join(", ");
}

function defaultText(n: Node): string {
  if (!("default" in n)) return "(left out)";
  const v = n.default;
  if (objectOf(n) && v !== null) return "its keys' defaults";
  return `\`${v === null ? "null" : typeof v === "string" ? v : JSON.stringify(v)}\``;
}

function collect(path: string, n: Node, nullable: boolean, out: Section[]): void {
  const obj = objectOf(n)!;
  const section: Section = { path, doc: n.description ?? "", nullable, rows: [] };
  out.push(section);
  const later: [string, Node][] = [];
  for (const [k, child] of Object.entries(obj.properties ?? {})) {
    const key = path ? `${path}.${k}` : k;
    if (objectOf(child)) {
      section.rows.push({ key, type: typeText(child), fallback: defaultText(child), doc: `See \`${key}\` below.` });
      later.push([key, child]);
      continue;
    }
    const range = rangeText(child);
    section.rows.push({
      key,
      type: range ? `${typeText(child)} (${range})` : typeText(child),
      fallback: defaultText(child),
      doc: child.description ?? "",
    });
  }
  for (const [key, child] of later) collect(key, child, child.anyOf !== undefined, out);
}

/** The sections of the schema, in declaration order (each followed by its sub-sections). */
export function configSections(): Section[] {
  const root = z.toJSONSchema(CONFIG_SCHEMA, { io: "input" }) as Node;
  const out: Section[] = [];
  collect("", root, false, out);
  return out;
}

const cell = (s: string) => s.replaceAll("|", "\\|");

/** A Markdown table with padded columns (the layout `npm run format` keeps). */
function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((r) => r.map(cell));
  const width = header.map((_, j) => Math.max(3, ...cells.map((r) => [...r[j]].length)));
  const line = (r: string[]) => `| ${r.map((c, j) => c + " ".repeat(width[j] - [...c].length)).join(" | ")} |`;
  return [line(cells[0]), `| ${width.map((w) => "-".repeat(w)).join(" | ")} |`, ...cells.slice(1).map(line)].join("\n");
}

/** The whole of docs/CONFIG.md. */
export function configDoc(): string {
  const parts = [
    "# Config keys",
    "",
    "<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit (a test compares the two). -->",
    "",
    "Every key of an experiment config, with its type, range, default and meaning. A YAML file under `config/` sets",
    "any subset of them; the rest take the defaults below (the resolved config, defaults included, is what",
    "`ltr config show` prints and what the config hash covers). Unknown keys and values of the wrong type or out of",
    "range are refused, naming the file, the key and, for an unknown key, the valid keys. `--set key.path=value`",
    "overrides any key and is checked the same way. A section whose default is `null` (`training_opt.sampler`,",
    "`stage2`) stays null until a file or a `--set` gives it; then its left-out keys take the defaults listed for it.",
    "",
    "## Keys with no effect",
    "",
    "Some keys are read only by some experiments. A key that the experiment would not read must hold its default;",
    "any other value is refused before anything runs (`ltr config show` too), naming the key, its value, why nothing",
    "reads it and what to do (src/train/unread_keys.ts). What is read comes from the components' own entries:",
    "",
    "- the dataset (src/data/registry.ts `DATASET_READS`): the generated ones (Fashion-MNIST-LT, CIFAR-LT) read the",
    "  subset keys `imb_factor`, `profile`, `n_max`, `subset_seed`, `val_per_class`; the list-file ones (ImageNet-LT,",
    "  Places-LT, iNaturalist 2018) read `train_list`, `val_list`, `test_list`, `image_root`;",
    "- the sampler (src/samplers/registry.ts `SAMPLER_READS`): `num_samples_cls` class-balanced, `q` q-power, `epochs`",
    "  progressive; the in-batch `shuffle` every sampler but the instance-balanced one, whose batches are already in",
    "  random order;",
    "- stage 1 reads no `model_dir` (it trains a new backbone);",
    "- stage 2 (src/classifiers/methods/, each entry's `configKeys` and `imagesHead`): the backbone is frozen, so",
    "  `networks.feat_model.optim_params` is not read; only the methods that train (cRT, LWS) read the training",
    "  settings (`num_epochs`, `batch_size`, `sampler`, `networks.classifier.optim_params`, `coslr`, `endlr`); only",
    "  τ-norm reads `stage2.tau_grid` and only NCM `stage2.ncm`; only cRT and LWS have `stage2.input: images`, and",
    "  `stage2.bn_mode` and `shuffle` are read in that mode only (a linear layer on fixed features averages the loss of",
    "  a batch whatever its order), as are `dataset.augment` and `training_opt.display_step` (on features the classifier",
    "  learns from features extracted once, without augmentation, and logs epochs only); `networks.classifier.type`",
    "  may only name the method's own head (`lws` for LWS).",
    "",
    "A key at its default is never refused: every resolved config holds every key of the schema.",
    "",
  ];
  for (const s of configSections()) {
    parts.push(`## ${s.path ? `\`${s.path}\`` : "Top level"}`, "");
    if (s.doc) parts.push(`${s.doc}${s.nullable ? " Null unless given." : ""}`, "");
    parts.push(
      table(
        ["key", "type", "default", "description"],
        s.rows.map((r) => [`\`${r.key}\``, r.type, r.fallback, r.doc]),
      ),
      "",
    );
  }
  return parts.join("\n");
}
