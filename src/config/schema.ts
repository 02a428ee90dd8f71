/**
 * The experiment config schema: the one place where every key is declared with its type, its range, its default
 * and a one-line description (zod). The config types are inferred from it (defaults.ts re-exports them under their
 * names), loading validates against it and fills its defaults (load.ts), the error messages read it for the valid
 * keys and what was expected (problems.ts), and docs/CONFIG.md is generated from it (doc.ts), so none of these can
 * drift from the others.
 *
 * Key names follow the original classifier-balancing configs (`training_opt`, `networks.feat_model`,
 * `networks.classifier`, `optim_params`, `coslr`, `model_dir`, ...) so its users recognise them, with our additions
 * (`seed`, `dataset`, `stage2`) in the same snake_case style (docs/ORIGINAL_CODE.md, "Config files").
 *
 * Why the shape of the defaults matters: the resolved config is hashed (configHash, load.ts) and the hash names the
 * cached run folders (docs/run-folders.md), so a default, a key or a null section changed here changes every run's
 * name. Mappings are declared in the order a resolved config is written out in (`ltr config show`, a run's
 * config.yaml); the two sections that are null unless given (`training_opt.sampler`, `stage2`) fill their keys'
 * defaults once a file or a `--set` gives them.
 */
import { z } from "zod";

/** A scalar key: its type (with its range), its default and the line that documents it. */
function key<T extends z.ZodType>(type: T, value: z.output<T>, doc: string) {
  return type.default(value as never).describe(doc);
}

/** A mapping whose keys each have a default, so leaving it out (or any of its keys) gives the defaults. */
function section<S extends z.ZodRawShape>(shape: S, doc: string) {
  // Every key of a section has a default, so the empty mapping is a valid input (the cast says so to tsc).
  return z
    .strictObject(shape)
    .prefault({} as never)
    .describe(doc);
}

/** A mapping that is null (absent) unless given; given, its left-out keys take their defaults. */
function nullSection<S extends z.ZodRawShape>(shape: S, doc: string) {
  return z.strictObject(shape).nullable().default(null).describe(doc);
}

/** A string key that is null unless set. */
const nullString = (doc: string) => key(z.string().nullable(), null, doc);

const optimParams = () =>
  section(
    {
      lr: key(z.number().min(0), 0.05, "Initial learning rate (cosine-annealed to `endlr` when `coslr` is true)."),
      momentum: key(z.number().min(0).max(1), 0.9, "SGD momentum (PyTorch semantics, no dampening, no Nesterov)."),
      weight_decay: key(
        z.number().min(0),
        5e-4,
        "Coupled L2 weight decay, applied to every trainable tensor (BN and bias included), as the original code.",
      ),
    },
    "SGD settings of this network.",
  );

const samplerSection = nullSection(
  {
    type: key(
      z.string(),
      "instance_balanced",
      "Sampler registry name: instance_balanced | class_balanced | square_root | q_power | progressive.",
    ),
    num_samples_cls: key(
      z.int().min(1),
      4,
      "class_balanced: consecutive images drawn per class visit (the paper's 4; also cRT/LWS on features).",
    ),
    q: key(
      z.number().min(0),
      0.5,
      "q_power: p_j ∝ n_j^q (1 = instance-balanced, 0.5 = square-root, 0 = class-balanced).",
    ),
    // Optional rather than defaulted: a default would add the key to every resolved sampler and change its hash.
    epochs: z
      .int()
      .min(1)
      .optional()
      .describe(
        "progressive: length E of the λ schedule (λ = e/(E−1), held at 1 after it), the original ClassPrioritySampler's own `epochs`; left out = training_opt.num_epochs.",
      ),
  },
  "Batch sampler; null = instance-balanced (uniform) sampling, as in the original configs.",
);

const trainingOpt = section(
  {
    dataset: key(
      z.string(),
      "FashionMNIST_LT",
      "Dataset registry name (FashionMNIST_LT, CIFAR10_LT, CIFAR100_LT, ImageNet_LT, Places_LT, iNaturalist18).",
    ),
    num_classes: key(z.int().min(2), 10, "Number of classes; must match the dataset."),
    batch_size: key(z.int().min(1), 128, "Training batch size."),
    num_epochs: key(z.int().min(1), 30, "Training epochs."),
    sampler: samplerSection,
    log_dir: nullString("Run folder; null = `runs/<dataset>/<stage>_seed<seed>`."),
    stage: key(z.string(), "feat_uniform", "A label for the run (feat_uniform, cls_crt, ...); names its folder."),
    display_step: key(z.int().min(1), 10, "Log a step record every this many steps."),
    eval_batch_size: key(z.int().min(1), 512, "Evaluation (and feature-extraction) batch size."),
  },
  "Training options (the original configs' section of the same name).",
);

const datasetSection = section(
  {
    root: nullString(
      "Data directory; null = env LTR_DATA_ROOT, else Debian's install location, else the cache folder.",
    ),
    imb_factor: key(
      z.number().min(1),
      1000,
      "Imbalance factor n_max / n_min of the generated long-tailed train subset.",
    ),
    profile: key(z.enum(["exp", "step"]), "exp", "Count profile: exponential (as CIFAR-LT) or step."),
    n_max: key(
      z.int().min(1).nullable(),
      null,
      "Head-class count; null = the dataset's default (5000 for Fashion-MNIST-LT and CIFAR-10-LT, 500 for CIFAR-100-LT).",
    ),
    subset_seed: key(
      z.int().min(0),
      0,
      "Seed of the numpy-legacy subset selection (0 reproduces the LDAM-DRW subsets).",
    ),
    val_per_class: key(z.int().min(1), 100, "Balanced validation images per class, carved from unused train images."),
    augment: key(
      z.boolean(),
      true,
      "Train-time augmentation (crop+flip, or random-resized crop + flip + jitter for the large datasets).",
    ),
    train_list: nullString('List-file datasets: the "path label" list of the train split.'),
    val_list: nullString('List-file datasets: the "path label" list of the validation split.'),
    test_list: nullString('List-file datasets: the "path label" list of the test split.'),
    image_root: nullString("List-file datasets: the folder the list files' image paths are relative to."),
  },
  "Dataset options: the long-tailed subset of the generated datasets, the split lists of the list-file ones.",
);

const network = (type: string, typeDoc: string, fixDoc: string, doc: string) =>
  section(
    {
      type: key(z.string(), type, typeDoc),
      fix: key(z.boolean(), false, fixDoc),
      optim_params: optimParams(),
    },
    doc,
  );

const stage2Section = nullSection(
  {
    method: key(
      z.string(),
      "crt",
      "Classifier method: the name of a file in src/classifiers/methods/ (joint, ncm, crt, tau_norm and lws ship).",
    ),
    input: key(
      z.enum(["features", "images"]),
      "features",
      "cRT/LWS input: pre-extracted features (fast) or images through the frozen backbone with augmentation (the paper's way).",
    ),
    bn_mode: key(
      z.enum(["eval", "train"]),
      "eval",
      "BatchNorm mode of the frozen backbone in images mode: eval (default) or train (the original code's behaviour).",
    ),
    tau_grid: section(
      {
        start: key(z.number().min(0), 0, "First τ of the grid."),
        stop: key(z.number().min(0), 2, "Last τ of the grid (inclusive)."),
        step: key(z.number().gt(0), 0.1, "Grid spacing."),
      },
      "τ-normalisation sweep grid (inclusive); τ is selected on val.",
    ),
    ncm: section(
      {
        feat_type: key(
          z.enum(["un", "l2n", "cl2n"]),
          "cl2n",
          "Features: un (as extracted), l2n (L2-normalised) or cl2n (centred, then L2-normalised).",
        ),
        dist: key(
          z.enum(["l2", "cos", "dot"]),
          "l2",
          "Distance to the class means: l2 (squared Euclidean), cos (true cosine) or dot (the original code's scaled dot product).",
        ),
      },
      "NCM variant: feature type and distance.",
    ),
  },
  "Stage-2 (classifier learning) options; null for a stage-1 run.",
);

/** The schema of a whole experiment config; `CONFIG_SCHEMA.parse({})` is the defaults. */
export const CONFIG_SCHEMA = z
  .strictObject({
    seed: key(z.int().min(0), 0, "Training seed (weights, sampler, augmentation)."),
    backend: key(
      z.enum(["auto", "wasm", "cpu", "tensorflow"]),
      "auto",
      "Tensor backend: auto | wasm | cpu | tensorflow (env LTR_BACKEND overrides auto).",
    ),
    training_opt: trainingOpt,
    dataset: datasetSection,
    networks: section(
      {
        feat_model: network(
          "resnet8",
          "Backbone registry name (resnet8, resnet32, resnext50, ...).",
          "Freeze the backbone: true in every stage-2 config (required there: only the classifier learns) and refused elsewhere (stage 1 trains the backbone).",
          "The feature extractor (backbone).",
        ),
        classifier: network(
          "linear",
          "Classifier head registry name: linear | lws.",
          "Must stay false: every stage trains (or, for NCM and τ-norm, re-derives) the classifier; true is refused.",
          "The classifier head.",
        ),
      },
      "The two networks, as in the original configs.",
    ),
    coslr: key(z.boolean(), true, "Cosine learning-rate schedule stepped once per epoch."),
    endlr: key(z.number().min(0), 0, "Floor of the cosine schedule."),
    shuffle: key(
      z.boolean(),
      false,
      "Permute each batch before the forward pass (every sampler but instance_balanced; in stage 2, images mode only).",
    ),
    model_dir: nullString("Stage 2: the stage-1 run folder to start from; null for stage 1."),
    stage2: stage2Section,
  })
  .describe("An experiment: one training run (stage 1) or one classifier learnt on a stage-1 run (stage 2).");

/** The resolved type of each section, as the rest of the code names it (re-exported by defaults.ts). */
export type ExperimentConfig = z.output<typeof CONFIG_SCHEMA>;
export type TrainingOpt = ExperimentConfig["training_opt"];
export type SamplerConfig = NonNullable<TrainingOpt["sampler"]>;
export type DatasetConfig = ExperimentConfig["dataset"];
export type NetworkConfig = ExperimentConfig["networks"]["feat_model"];
export type OptimParams = NetworkConfig["optim_params"];
export type Stage2Config = NonNullable<ExperimentConfig["stage2"]>;

export { ConfigError } from "./problems.js";
