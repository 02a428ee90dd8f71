/**
 * The documented defaults of every experiment option (pycls style: one place, one comment per key).
 *
 * A YAML file under `config/` overrides any subset of these; unknown keys are rejected (see schema.ts).
 * Key names follow the original classifier-balancing configs (`training_opt`, `networks.feat_model`,
 * `networks.classifier`, `optim_params`, `coslr`, `model_dir`, ...) so its users recognise them, with our
 * additions (`seed`, `dataset`, `stage2`) in the same snake_case style.
 */

export interface OptimParams {
  /** Initial learning rate (cosine-annealed to `endlr` when `coslr` is true). */
  lr: number;
  /** SGD momentum (PyTorch semantics, no dampening, no Nesterov). */
  momentum: number;
  /** Coupled L2 weight decay, applied to every trainable tensor (BN and bias included), as the original code. */
  weight_decay: number;
}

export interface SamplerConfig {
  /** Sampler registry name: instance_balanced | class_balanced | square_root | q_power | progressive. */
  type: string;
  /** class_balanced: consecutive images drawn per class visit (the paper's 4). */
  num_samples_cls: number;
  /** q_power: p_j ∝ n_j^q (1 = instance-balanced, 0.5 = square-root, 0 = class-balanced). */
  q: number;
  /**
   * progressive: length E of the λ schedule (λ = e/(E−1), held at 1 after it), when it differs from
   * training_opt.num_epochs — the original ClassPrioritySampler's own `epochs`. Optional: absent = num_epochs.
   */
  epochs?: number;
}

export interface DatasetConfig {
  /** Data directory; null = env LTR_DATA_ROOT, else Debian's install location, else the cache folder. */
  root: string | null;
  /** Imbalance factor n_max / n_min of the generated long-tailed train subset. */
  imb_factor: number;
  /** Count profile: exponential (as CIFAR-LT) or step. */
  profile: "exp" | "step";
  /** Head-class count; null = the dataset's default (5000 for Fashion-MNIST-LT and CIFAR-10-LT, 500 for CIFAR-100-LT). */
  n_max: number | null;
  /** Seed of the numpy-legacy subset selection (0 reproduces the LDAM-DRW subsets). */
  subset_seed: number;
  /** Balanced validation images per class, carved from unused train images. */
  val_per_class: number;
  /** Train-time augmentation (crop+flip, or random-resized crop + flip + jitter for the large datasets). */
  augment: boolean;
  /** List-file datasets: "path label" split lists and the image root they are relative to. */
  train_list: string | null;
  val_list: string | null;
  test_list: string | null;
  image_root: string | null;
}

export interface NetworkConfig {
  /** Registry name: a backbone (feat_model) or a classifier head (classifier: linear | lws). */
  type: string;
  /**
   * Freeze this network. feat_model: true for every stage-2 config (the backbone is fixed, only the classifier
   * learns; required there) and only with a model_dir. classifier: must stay false (every stage trains it).
   */
  fix: boolean;
  optim_params: OptimParams;
}

export interface TrainingOpt {
  /** Dataset registry name (FashionMNIST_LT, CIFAR10_LT, CIFAR100_LT, ImageNet_LT, Places_LT, iNaturalist18). */
  dataset: string;
  /** Number of classes; must match the dataset. */
  num_classes: number;
  batch_size: number;
  num_epochs: number;
  /** null = instance-balanced (uniform) sampling, as in the original configs. */
  sampler: SamplerConfig | null;
  /** Run folder; null = runs/<dataset>/<stage>_seed<seed>. */
  log_dir: string | null;
  /** A label for the run (feat_uniform, cls_crt, ...). */
  stage: string;
  /** Log a step record every this many steps. */
  display_step: number;
  /** Evaluation batch size. */
  eval_batch_size: number;
}

export interface Stage2Config {
  /** Classifier registry name: joint | ncm | crt | tau_norm | lws. */
  method: string;
  /** cRT/LWS input: pre-extracted features (fast) or images through the frozen backbone with augmentation (the paper's way). */
  input: "features" | "images";
  /** BatchNorm mode of the frozen backbone in images mode: eval (default) or train (the original code's behaviour). */
  bn_mode: "eval" | "train";
  /** tau-normalisation sweep grid (inclusive), selection on val. */
  tau_grid: { start: number; stop: number; step: number };
  /** NCM variant: feature type and distance. */
  ncm: { feat_type: "un" | "l2n" | "cl2n"; dist: "l2" | "cos" | "dot" };
}

export interface ExperimentConfig {
  /** Training seed (weights, sampler, augmentation). */
  seed: number;
  /** Tensor backend: auto | wasm | cpu | tensorflow (env LTR_BACKEND overrides auto). */
  backend: "auto" | "wasm" | "cpu" | "tensorflow";
  training_opt: TrainingOpt;
  dataset: DatasetConfig;
  networks: { feat_model: NetworkConfig; classifier: NetworkConfig };
  /** Cosine learning-rate schedule stepped once per epoch. */
  coslr: boolean;
  /** Floor of the cosine schedule. */
  endlr: number;
  /** Permute each batch before the forward pass. */
  shuffle: boolean;
  /** Stage 2: the stage-1 run folder to start from; null for stage 1. */
  model_dir: string | null;
  /** Stage-2 (classifier learning) options; null for a stage-1 run. */
  stage2: Stage2Config | null;
}

export const DEFAULT_OPTIM: OptimParams = { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 };

export const DEFAULT_SAMPLER: SamplerConfig = { type: "instance_balanced", num_samples_cls: 4, q: 0.5 };

export const DEFAULT_STAGE2: Stage2Config = {
  method: "crt",
  input: "features",
  bn_mode: "eval",
  tau_grid: { start: 0, stop: 2, step: 0.1 },
  ncm: { feat_type: "cl2n", dist: "l2" },
};

/** Defaults: the Fashion-MNIST-LT stage-1 instance-balanced recipe (ResNet-8, batch 128, lr 0.05, 30 epochs). */
export const DEFAULTS: ExperimentConfig = {
  seed: 0,
  backend: "auto",
  training_opt: {
    dataset: "FashionMNIST_LT",
    num_classes: 10,
    batch_size: 128,
    num_epochs: 30,
    sampler: null,
    log_dir: null,
    stage: "feat_uniform",
    display_step: 10,
    eval_batch_size: 512,
  },
  dataset: {
    root: null,
    imb_factor: 1000,
    profile: "exp",
    n_max: null,
    subset_seed: 0,
    val_per_class: 100,
    augment: true,
    train_list: null,
    val_list: null,
    test_list: null,
    image_root: null,
  },
  networks: {
    feat_model: { type: "resnet8", fix: false, optim_params: { ...DEFAULT_OPTIM } },
    classifier: { type: "linear", fix: false, optim_params: { ...DEFAULT_OPTIM } },
  },
  coslr: true,
  endlr: 0,
  shuffle: false,
  model_dir: null,
  stage2: null,
};
