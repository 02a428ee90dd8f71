/**
 * The original classifier-balancing YAML configs, read as they are: detection of that format, and its translation
 * into this project's config (schema.ts), key by key, following docs/ORIGINAL_CODE.md ("Config files").
 *
 *  - What changes a result is honoured or refused: `def_file` of the feature model (ResNet…Feature.py, ResNext…Feature.py) and
 *    classifier (DotProductClassifier = linear, TauNormClassifier = LWS), samplers (ClassAwareSampler ->
 *    class_balanced; MixedPrioritizedSampler -> square_root / q_power from `nroot` and `lam`; ClassPrioritySampler
 *    -> progressive over its own `epochs`), optimiser settings, `coslr`/`endlr`, `shuffle`, `model_dir`/`fix`
 *    (stage 2: cRT, LWS; images through the frozen backbone with BatchNorm in train mode, as the original).
 *    Settings this project does not reproduce (loss-driven priorities, OLTR memory, StepLR, extra layers) are
 *    errors that name the key.
 *  - What has no effect here (worker counts, labels, OLTR leftovers, `scheduler_params` under cosine) is accepted
 *    and listed once in a notice.
 *
 * The output is a partial config in this project's format; load.ts merges it onto the defaults and validates it,
 * so `--set` overrides use this project's key names.
 */
import { basename } from "node:path";
import { ConfigError } from "./schema.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** Feature-model files of the original code -> backbone registry names (all ImageNet layout, width 64). */
export const ORIGINAL_FEATURE_MODELS: Record<string, string> = {
  "ResNet10Feature.py": "resnet10",
  "ResNet50Feature.py": "resnet50",
  "ResNet101Feature.py": "resnet101",
  "ResNet152Feature.py": "resnet152",
  "ResNet152FeatureCaffe.py": "resnet152",
  "ResNext50Feature.py": "resnext50",
  "ResNext101Feature.py": "resnext101",
  "ResNext152Feature.py": "resnext152",
};
/** Feature dimension of each backbone (512·expansion). */
const FEAT_DIM: Record<string, number> = { resnet10: 512 };
const featDimOf = (type: string) => FEAT_DIM[type] ?? 2048;

/** Classifier files -> this project's head (stage 1 and cRT: linear; LWS: lws; NCM: the ncm stage-2 method). */
const ORIGINAL_CLASSIFIERS = ["DotProductClassifier.py", "TauNormClassifier.py", "KNNClassifier.py"];

/** Markers only the original format has (a `def_file` on a network, the `criterions` section). */
function originalMarkers(raw: Rec): string[] {
  const out: string[] = [];
  if ("criterions" in raw) out.push("criterions");
  const nets = raw.networks;
  if (isRec(nets))
    for (const [k, v] of Object.entries(nets)) if (isRec(v) && "def_file" in v) out.push(`networks.${k}.def_file`);
  return out;
}

/** Keys only this project's format has. */
function ownMarkers(raw: Rec): string[] {
  const out = ["seed", "backend", "dataset", "stage2"].filter((k) => k in raw);
  const nets = raw.networks;
  if (isRec(nets))
    for (const [k, v] of Object.entries(nets)) if (isRec(v) && "type" in v) out.push(`networks.${k}.type`);
  return out;
}

/**
 * True when `raw` is an original classifier-balancing config: it has `criterions` or a network with `def_file`,
 * which this project's format never has. A file with markers of both formats is an error naming them.
 */
export function isOriginalConfig(raw: Rec, source: string): boolean {
  const theirs = originalMarkers(raw);
  if (theirs.length === 0) return false;
  const ours = ownMarkers(raw);
  if (ours.length)
    throw new ConfigError(source, [
      `mixes the original classifier-balancing format (${theirs.join(", ")}) with decoupling-lt's (${ours.join(", ")}); keep the original file as it is and override with --set, or write the whole file in decoupling-lt's format`,
    ]);
  return true;
}

/** Reads one mapping of the original file, records problems and no-effect keys, and rejects unknown keys. */
class Section {
  private readonly seen = new Set<string>();
  constructor(
    readonly obj: Rec,
    readonly path: string,
    private readonly t: Translator,
  ) {}

  private at(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  has(k: string): boolean {
    return k in this.obj && this.obj[k] !== undefined;
  }

  /** A value that must satisfy `check`; `fallback` when the key is absent (undefined = required). */
  value<T>(k: string, check: (v: unknown) => v is T, what: string, fallback?: T): T {
    this.seen.add(k);
    if (!(k in this.obj)) {
      if (fallback !== undefined) return fallback;
      this.t.problem(`missing key '${this.at(k)}' (${what})`);
      return undefined as T;
    }
    const v = this.obj[k];
    if (!check(v)) {
      this.t.problem(`key '${this.at(k)}': expected ${what}, got ${JSON.stringify(v)}`);
      return (fallback ?? undefined) as T;
    }
    return v;
  }

  num(k: string, fallback?: number): number {
    return this.value(k, (v): v is number => typeof v === "number" && Number.isFinite(v), "a number", fallback);
  }
  int(k: string, min: number, fallback?: number): number {
    return this.value(
      k,
      (v): v is number => Number.isInteger(v) && (v as number) >= min,
      `an integer >= ${min}`,
      fallback,
    );
  }
  bool(k: string, fallback?: boolean): boolean {
    return this.value(k, (v): v is boolean => typeof v === "boolean", "true or false", fallback);
  }
  str(k: string, fallback?: string): string {
    return this.value(k, (v): v is string => typeof v === "string", "a string", fallback);
  }
  strOrNull(k: string): string | null {
    this.seen.add(k);
    const v = this.obj[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") this.t.problem(`key '${this.at(k)}': expected a path or null, got ${JSON.stringify(v)}`);
    return typeof v === "string" ? v : null;
  }
  section(k: string, optional = false): Section | null {
    this.seen.add(k);
    const v = this.obj[k];
    if (v === undefined || v === null) {
      if (!optional) this.t.problem(`missing section '${this.at(k)}'`);
      return null;
    }
    if (!isRec(v)) {
      this.t.problem(`key '${this.at(k)}': expected a mapping, got ${JSON.stringify(v)}`);
      return null;
    }
    return new Section(v, this.at(k), this.t);
  }

  /** Accept keys whose value has no effect here, listing them in the notice with `why`. */
  noEffect(keys: string[], why: string): void {
    const present = keys.filter((k) => k in this.obj);
    for (const k of present) this.seen.add(k);
    if (present.length) this.t.note(`${present.map((k) => this.at(k)).join(", ")}: ${why}`);
  }

  /** Require that a key, when present, has a value from `allowed` (values that change nothing or are reproduced). */
  only(k: string, allowed: unknown[], why: string): unknown {
    this.seen.add(k);
    if (!(k in this.obj)) return undefined;
    const v = this.obj[k];
    if (!allowed.some((a) => a === v)) this.t.problem(`key '${this.at(k)}' is ${JSON.stringify(v)}: ${why}`);
    return v;
  }

  /** Error for every key not read. */
  done(known: string[]): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k))
        this.t.problem(
          `unknown key '${this.at(k)}' in an original classifier-balancing config; valid keys here: ${known.join(", ")}`,
        );
    }
  }
}

class Translator {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  problem(p: string): void {
    this.problems.push(p);
  }
  note(n: string): void {
    this.notes.push(n);
  }
}

const fileName = (p: string) => basename(p.replace(/\\/g, "/"));

function optimParams(s: Section | null): Rec | undefined {
  if (!s) return undefined;
  const o = { lr: s.num("lr"), momentum: s.num("momentum"), weight_decay: s.num("weight_decay") };
  s.done(["lr", "momentum", "weight_decay"]);
  return o;
}

/** training_opt.sampler -> this project's sampler section (or null = instance-balanced). */
function sampler(s: Section | null, t: Translator): Rec | null {
  if (!s) return null;
  const type = s.str("type");
  const def = s.str("def_file");
  if (type && def && fileName(def) !== `${type}.py`)
    t.problem(
      `key '${s.path}.def_file' is ${def} but type is ${type}; the original imports the sampler from its def_file`,
    );
  if (type === "ClassAwareSampler") {
    const k = s.int("num_samples_cls", 1);
    const extra = Object.keys(s.obj).filter((key) => !["type", "def_file", "num_samples_cls"].includes(key));
    s.noEffect(extra, "main.py passes only num_samples_cls to ClassAwareSampler");
    return { type: "class_balanced", num_samples_cls: k };
  }
  const manualOnly = (needs: string) =>
    s.only(
      "manual_only",
      [true],
      `loss-driven priority sampling (manual_only: false) is not reproduced; ${needs} needs manual_only: true`,
    );
  if (type === "MixedPrioritizedSampler") {
    manualOnly("the square-root sampler");
    s.only("root_decay", [null], "root decay is not reproduced");
    const lam = s.only(
      "lam",
      [0, 1, 0.0, 1.0],
      "only fixed distributions are reproduced: lam 1 (p_j ∝ n_j^(1/nroot)) or lam 0 (instance-balanced i.i.d.); for progressive balancing use ClassPrioritySampler",
    );
    const nroot = s.value(
      "nroot",
      (v): v is number | null => v === null || (typeof v === "number" && v >= 2),
      "null or a number >= 2",
      null,
    );
    s.noEffect(
      ["balance_scale", "fixed_scale", "epochs", "cycle", "rescale", "decay_gap", "ptype", "alpha"],
      "no effect for a fixed distribution without priorities (lam 0/1, manual_only)",
    );
    s.done([
      "type",
      "def_file",
      "lam",
      "nroot",
      "manual_only",
      "root_decay",
      "balance_scale",
      "fixed_scale",
      "epochs",
      "cycle",
      "rescale",
      "decay_gap",
      "ptype",
      "alpha",
    ]);
    if (lam === undefined)
      t.problem(
        `key '${s.path}.lam' is missing: MixedPrioritizedSampler's default (null, shifting) is not reproduced; set lam: 1.0`,
      );
    const q = lam === 0 ? 1 : nroot === null ? 0 : 1 / nroot;
    return q === 0.5 ? { type: "square_root" } : { type: "q_power", q };
  }
  if (type === "ClassPrioritySampler") {
    manualOnly("the progressively-balanced sampler");
    s.only("root_decay", [null], "root decay is not reproduced");
    s.only(
      "lam",
      [null],
      "only the progressively-balanced schedule (lam: null) is reproduced with ClassPrioritySampler",
    );
    s.only("cycle", [0], "only the linear schedule (cycle 0) is reproduced");
    s.only("nroot", [null], "only the schedule towards truly balanced sampling (nroot: null) is reproduced");
    s.only("balance_scale", [1, 1.0], "a balance_scale other than 1 changes the mixture and is not reproduced");
    s.only("alpha", [1, 1.0], "priority powers (alpha != 1) are not reproduced");
    if (s.has("fixed_scale") && !(typeof s.obj.fixed_scale === "number" && s.obj.fixed_scale > 0))
      t.problem(
        `key '${s.path}.fixed_scale' is ${JSON.stringify(s.obj.fixed_scale)}: only a positive fixed_scale (the schedule drives sampling) is reproduced`,
      );
    s.noEffect(["fixed_scale"], "no effect (only the ratio of the class weights matters)");
    const epochs = s.int("epochs", 1, 90);
    s.noEffect(
      ["rescale", "decay_gap", "ptype", "pri_mode", "momentum"],
      "no effect without loss-driven priorities (manual_only)",
    );
    s.done([
      "type",
      "def_file",
      "lam",
      "epochs",
      "cycle",
      "nroot",
      "manual_only",
      "root_decay",
      "balance_scale",
      "fixed_scale",
      "alpha",
      "rescale",
      "decay_gap",
      "ptype",
      "pri_mode",
      "momentum",
    ]);
    return { type: "progressive", epochs };
  }
  if (type !== undefined)
    t.problem(
      `key '${s.path}.type': unknown sampler '${type}'; the original's samplers are ClassAwareSampler, MixedPrioritizedSampler, ClassPrioritySampler (or sampler: null)`,
    );
  return null;
}

export interface OriginalTranslation {
  /** The config in this project's format (a partial one, merged onto the defaults by load.ts). */
  config: Rec;
  /** One line per accepted key that has no effect here. */
  notes: string[];
}

/** Translate an original classifier-balancing config (see the module comment); problems throw one ConfigError. */
export function translateOriginalConfig(raw: Rec, source: string): OriginalTranslation {
  const t = new Translator();
  const top = new Section(raw, "", t);
  const to = top.section("training_opt");
  const nets = top.section("networks");
  const fm = nets?.section("feat_model") ?? null;
  const cl = nets?.section("classifier") ?? null;
  nets?.done(["feat_model", "classifier"]);

  // Top level.
  const coslr = top.bool("coslr", true);
  if (coslr === false)
    t.problem(
      `key 'coslr' is false: the original then steps a StepLR schedule (training_opt.scheduler_params), which is not reproduced; this project has the cosine schedule (coslr: true)`,
    );
  const endlr = top.num("endlr", 0);
  const shuffle = top.bool("shuffle", false);
  const modelDir = top.strOrNull("model_dir");
  top.noEffect(["last"], "not read by the original code");
  const mem = top.section("memory", true);
  if (mem) {
    mem.only("centroids", [false], "OLTR's meta-embedding memory is not reproduced");
    mem.only("init_centroids", [false], "OLTR's centroid initialisation is not reproduced");
    mem.done(["centroids", "init_centroids"]);
    t.note(`memory: OLTR's memory, off (no effect)`);
  }
  const crit = top.section("criterions", true);
  if (crit) {
    const perf = crit.section("PerformanceLoss");
    crit.done(["PerformanceLoss"]);
    if (perf) {
      const def = perf.str("def_file");
      if (def && fileName(def) !== "SoftmaxLoss.py")
        t.problem(
          `key 'criterions.PerformanceLoss.def_file' is ${def}: only the cross-entropy loss (./loss/SoftmaxLoss.py) is reproduced`,
        );
      perf.only("weight", [1, 1.0], "a loss weight other than 1 scales every gradient and is not reproduced");
      perf.only("optim_params", [null], "the cross-entropy loss has no parameters to optimise");
      const lp = perf.obj.loss_params;
      if (lp !== undefined && lp !== null && !(isRec(lp) && Object.keys(lp).length === 0))
        t.problem(
          `key 'criterions.PerformanceLoss.loss_params' must be {} (SoftmaxLoss takes no arguments), got ${JSON.stringify(lp)}`,
        );
      perf.noEffect(["loss_params"], "empty, as SoftmaxLoss takes none");
      perf.done(["def_file", "loss_params", "optim_params", "weight"]);
    }
  }
  top.done(["coslr", "criterions", "endlr", "last", "memory", "model_dir", "networks", "shuffle", "training_opt"]);

  // training_opt.
  const out: Rec = { seed: 0, coslr: true, endlr, shuffle, model_dir: modelDir };
  const training: Rec = {};
  let numClasses: number | undefined;
  let featureDim: number | undefined;
  if (to) {
    training.dataset = to.str("dataset");
    numClasses = to.int("num_classes", 2);
    training.num_classes = numClasses;
    training.batch_size = to.int("batch_size", 1);
    training.num_epochs = to.int("num_epochs", 1);
    training.display_step = to.int("display_step", 1, 10);
    training.log_dir = to.strOrNull("log_dir");
    training.stage = to.str("stage", "original");
    // Evaluation runs in BatchNorm eval mode, so its batch size changes no number; 256 keeps 224-px batches in memory.
    training.eval_batch_size = Math.min(Number(training.batch_size) || 256, 256);
    training.sampler = sampler(to.section("sampler", true), t);
    featureDim = to.has("feature_dim") ? to.int("feature_dim", 1) : undefined;
    to.noEffect(["num_workers"], "data-loader processes (this project decodes with its own thread pool)");
    to.noEffect(["open_threshold"], "open-set testing only");
    to.noEffect(["backbone", "log_root", "sub_dir"], "labels only");
    to.noEffect(["scheduler_params"], "StepLR settings, unused under coslr: true");
    to.done([
      "backbone",
      "batch_size",
      "dataset",
      "display_step",
      "feature_dim",
      "log_dir",
      "log_root",
      "num_classes",
      "num_epochs",
      "num_workers",
      "open_threshold",
      "sampler",
      "scheduler_params",
      "stage",
      "sub_dir",
    ]);
  }
  out.training_opt = training;

  // networks.feat_model.
  let backbone = "";
  let fix = false;
  const featOut: Rec = {};
  if (fm) {
    const def = fm.str("def_file");
    if (def) {
      backbone = ORIGINAL_FEATURE_MODELS[fileName(def)] ?? "";
      if (!backbone)
        t.problem(
          `key 'networks.feat_model.def_file': ${def} is not one of the original's feature models (${Object.keys(ORIGINAL_FEATURE_MODELS).join(", ")})`,
        );
    }
    fix = fm.bool("fix", false);
    featOut.type = backbone;
    featOut.fix = fix;
    // A frozen backbone's optimiser settings are noted below and left out: nothing reads them (train/unread_keys.ts).
    const op = optimParams(fm.section("optim_params"));
    if (op && !(fix && modelDir)) featOut.optim_params = op;
    const p = fm.section("params", true);
    if (p) {
      p.only("use_fc", [false, null], "the extra fc_add layer is not built here");
      p.only("use_selfatt", [false, null], "the modulated-attention layer is not built here");
      p.only(
        "stage1_weights",
        [false, null],
        "OLTR's stage1_weights initialisation is not reproduced; give the weights with model_dir / --model_dir",
      );
      if (p.has("caffe") && p.obj.caffe === true && !modelDir)
        t.problem(
          `key 'networks.feat_model.params.caffe' is true: Caffe ImageNet-pretrained initialisation is not available here; import pretrained weights with --model_dir`,
        );
      p.noEffect(["caffe"], "pretrained initialisation, replaced by the model_dir weights");
      p.noEffect(["dropout"], "the original's create_model passes dropout=None to the network whatever this says");
      p.noEffect(["dataset", "log_dir", "test"], "used only by stage1_weights / set by the code");
      p.done(["use_fc", "use_selfatt", "stage1_weights", "caffe", "dropout", "dataset", "log_dir", "test"]);
    }
    if (fix && modelDir) fm.noEffect(["optim_params"], "the backbone is frozen");
    fm.done(["def_file", "fix", "optim_params", "params"]);
  }

  // networks.classifier.
  let clsFile = "";
  const clsOut: Rec = { type: "linear", fix: false };
  let ncm: Rec | null = null;
  if (cl) {
    const def = cl.str("def_file");
    if (def) {
      clsFile = fileName(def);
      if (!ORIGINAL_CLASSIFIERS.includes(clsFile))
        t.problem(
          `key 'networks.classifier.def_file': ${def} is not reproduced; the original's classifiers here are ${ORIGINAL_CLASSIFIERS.join(", ")} (CosNorm / MetaEmbedding are OLTR's)`,
        );
    }
    const op = optimParams(cl.section("optim_params"));
    if (op) clsOut.optim_params = op;
    cl.noEffect(["fix"], "the original's fix leaves parameters named 'fc' trainable, i.e. the whole classifier");
    const p = cl.section("params", true);
    if (p) {
      const C = p.has("num_classes") ? p.int("num_classes", 1) : undefined;
      if (C !== undefined && numClasses !== undefined && C !== numClasses)
        t.problem(`key 'networks.classifier.params.num_classes' is ${C} but training_opt.num_classes is ${numClasses}`);
      const d = p.has("feat_dim") ? p.int("feat_dim", 1) : undefined;
      if (d !== undefined && backbone && d !== featDimOf(backbone))
        t.problem(
          `key 'networks.classifier.params.feat_dim' is ${d} but ${backbone} gives ${featDimOf(backbone)}-d features`,
        );
      p.only(
        "stage1_weights",
        [false, null],
        "OLTR's stage1_weights initialisation is not reproduced; give the weights with model_dir / --model_dir",
      );
      if (clsFile === "KNNClassifier.py") {
        const ft = p.only("feat_type", ["un", "l2n", "cl2n", undefined], "feat_type must be un, l2n or cl2n");
        const dt = p.only("dist_type", ["l2", "cos", undefined], "dist_type must be l2 or cos");
        ncm = { feat_type: ft ?? "cl2n", dist: dt === "cos" ? "dot" : "l2" };
      }
      p.noEffect(["dataset", "log_dir", "test"], "used only by stage1_weights / set by the code");
      p.done(["num_classes", "feat_dim", "stage1_weights", "dataset", "log_dir", "test", "feat_type", "dist_type"]);
    }
    cl.done(["def_file", "fix", "optim_params", "params"]);
  }
  if (featureDim !== undefined && backbone && featureDim !== featDimOf(backbone))
    t.problem(
      `key 'training_opt.feature_dim' is ${featureDim} but ${backbone} gives ${featDimOf(backbone)}-d features`,
    );

  // Stage: a frozen backbone from model_dir learns a classifier (cRT, LWS); otherwise stage 1 from scratch.
  if (modelDir === null) {
    if (fix)
      t.problem(
        `key 'networks.feat_model.fix' is true but model_dir is null: that freezes a randomly initialised backbone; set model_dir (or --model_dir) to the stage-1 run`,
      );
    if (clsFile && clsFile !== "DotProductClassifier.py")
      t.problem(`networks.classifier ${clsFile} without model_dir: stage 1 trains a DotProductClassifier`);
    out.stage2 = null;
  } else {
    if (!fix)
      t.problem(
        `model_dir is set with networks.feat_model.fix: false, which fine-tunes the whole network from a checkpoint; this project learns classifiers on a frozen backbone (fix: true)`,
      );
    const method = clsFile === "TauNormClassifier.py" ? "lws" : clsFile === "KNNClassifier.py" ? "ncm" : "crt";
    if (method === "lws") clsOut.type = "lws";
    // The original runs cRT / LWS on augmented images through the frozen backbone with every network in train
    // mode, so BatchNorm normalises with batch statistics and keeps updating its running averages.
    if (method === "ncm") {
      // NCM trains nothing and runs on the backbone's features: the training settings would have no effect
      // (src/train/unread_keys.ts), so they are left out and noted.
      const training = out.training_opt as Rec;
      for (const k of ["num_epochs", "batch_size", "sampler"]) delete training[k];
      delete clsOut.optim_params;
      out.coslr = true;
      out.endlr = 0;
      out.shuffle = false;
      t.note("KNNClassifier trains nothing: its epochs, batch size, sampler, optimiser and schedule have no effect");
      out.stage2 = { method, ...(ncm ? { ncm } : {}) };
    } else out.stage2 = { method, input: "images", bn_mode: "train" };
  }
  out.networks = { feat_model: featOut, classifier: clsOut };
  t.note("the original sets no random seed; seed 0 is used (--set seed=N)");
  if (t.problems.length) throw new ConfigError(`${source} (an original classifier-balancing config)`, t.problems);
  return { config: out, notes: t.notes };
}

const announced = new Set<string>();

/** Print the no-effect notice of a file once per process (stderr, so `ltr config show` output stays YAML). */
export function announceOriginal(source: string, notes: string[]): void {
  if (announced.has(source) || notes.length === 0) return;
  announced.add(source);
  process.stderr.write(
    `note: ${source} is an original classifier-balancing config; accepted with no effect here:\n${notes.map((n) => `  - ${n}\n`).join("")}`,
  );
}
