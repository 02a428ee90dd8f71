/**
 * The 11 YAML configs shipped with the original classifier-balancing code (config/<Dataset>/*.yaml), rebuilt here
 * as data from their shared parts: the same keys and values (typos such as `feat_unifrom` and `banlance`
 * included), written out as YAML by js-yaml. `node --import tsx scripts/fixtures/check-original-configs.ts <checkout>`
 * compares them with the real files of a checkout of the original code (no network here, so not part of npm test).
 */
import { dump } from "js-yaml";

type Rec = Record<string, unknown>;

const COMMON = {
  coslr: true,
  criterions: {
    PerformanceLoss: { def_file: "./loss/SoftmaxLoss.py", loss_params: {}, optim_params: null, weight: 1.0 },
  },
  endlr: 0.0,
  last: false,
  memory: { centroids: false, init_centroids: false },
};

interface Spec {
  dataset: "ImageNet_LT" | "Places_LT" | "iNaturalist18";
  featFile: string;
  backbone?: string;
  clsFile: "DotProductClassifier" | "TauNormClassifier";
  lr: { feat: number; cls: number };
  wd: number;
  numClasses: number;
  batch: number;
  workers: number;
  epochs: number;
  stepSize: number;
  stage: string;
  subDir: "models" | "clslearn";
  logRoot: string;
  modelDir: string | null;
  shuffle: boolean;
  sampler: Rec | null;
  /** Places-LT files give no log_dir in the network params. */
  paramsLogDir: boolean;
}

const CB = { def_file: "./data/ClassAwareSampler.py", num_samples_cls: 4, type: "ClassAwareSampler" };
const PRIORITY = {
  alpha: 1.0,
  cycle: 0,
  decay_gap: 30,
  epochs: 90,
  fixed_scale: 1,
  manual_only: true,
  ptype: "score",
  rescale: false,
  root_decay: null,
};

function build(s: Spec): Rec {
  const logDir = `./logs/${s.dataset}/${s.subDir}/${s.stage}`;
  const withLog = (p: Rec) => (s.paramsLogDir ? { ...p, log_dir: logDir } : p);
  const training: Rec = {
    ...(s.backbone ? { backbone: s.backbone } : {}),
    batch_size: s.batch,
    dataset: s.dataset,
    display_step: 10,
    feature_dim: 2048,
    log_dir: logDir,
    log_root: s.logRoot,
    num_classes: s.numClasses,
    num_epochs: s.epochs,
    num_workers: s.workers,
    open_threshold: 0.1,
    sampler: s.sampler,
    scheduler_params: { gamma: 0.1, step_size: s.stepSize },
    stage: s.stage,
    sub_dir: s.subDir,
  };
  return {
    ...COMMON,
    model_dir: s.modelDir,
    networks: {
      classifier: {
        def_file: `./models/${s.clsFile}.py`,
        optim_params: { lr: s.lr.cls, momentum: 0.9, weight_decay: s.wd },
        params: withLog({ dataset: s.dataset, feat_dim: 2048, num_classes: s.numClasses, stage1_weights: false }),
      },
      feat_model: {
        def_file: `./models/${s.featFile}.py`,
        fix: s.modelDir !== null,
        optim_params: { lr: s.lr.feat, momentum: 0.9, weight_decay: s.wd },
        params: withLog({
          dataset: s.dataset,
          dropout: null,
          stage1_weights: false,
          use_fc: false,
          use_selfatt: false,
        }),
      },
    },
    shuffle: s.shuffle,
    training_opt: training,
  };
}

function imagenet(file: string, stage: string, over: Partial<Spec>): [string, Rec] {
  return [
    `ImageNet_LT/${file}.yaml`,
    build({
      dataset: "ImageNet_LT",
      featFile: "ResNext50Feature",
      backbone: "resnext50",
      clsFile: "DotProductClassifier",
      lr: { feat: 0.2, cls: 0.2 },
      wd: 0.0005,
      numClasses: 1000,
      batch: 512,
      workers: 12,
      epochs: 90,
      stepSize: 30,
      stage,
      subDir: "models",
      logRoot: "./logs/ImageNet_LT",
      modelDir: null,
      shuffle: false,
      sampler: null,
      paramsLogDir: true,
      ...over,
    }),
  ];
}

function inat(file: string, stage: string, over: Partial<Spec>): [string, Rec] {
  return [
    `iNaturalist18/${file}.yaml`,
    build({
      dataset: "iNaturalist18",
      featFile: "ResNet50Feature",
      backbone: "resnet50",
      clsFile: "DotProductClassifier",
      lr: { feat: 0.2, cls: 0.2 },
      wd: 0.0001,
      numClasses: 8142,
      batch: 512,
      workers: 12,
      epochs: 90,
      stepSize: 30,
      stage,
      subDir: "models",
      logRoot: "./logs/iNaturalist18",
      modelDir: null,
      shuffle: false,
      sampler: null,
      paramsLogDir: true,
      ...over,
    }),
  ];
}

function places(file: string, stage: string, over: Partial<Spec>): [string, Rec] {
  return [
    `Places_LT/${file}.yaml`,
    build({
      dataset: "Places_LT",
      featFile: "ResNet152Feature",
      clsFile: "DotProductClassifier",
      lr: { feat: 0.01, cls: 0.1 },
      wd: 0.0005,
      numClasses: 365,
      batch: 256,
      workers: 4,
      epochs: 10,
      stepSize: 30,
      stage,
      subDir: "clslearn",
      logRoot: "./logs/Places_LT",
      modelDir: "./logs/Places_LT/models/dir",
      shuffle: true,
      sampler: CB,
      paramsLogDir: false,
      ...over,
    }),
  ];
}

const IN_STAGE1 = "./logs/ImageNet_LT/models/resnext50_uniform_e90";
const INAT_STAGE1 = "./logs/iNaturalist18/models/resnet50_uniform_e90";

export const ORIGINAL_CONFIGS: Record<string, Rec> = Object.fromEntries([
  imagenet("feat_uniform", "resnext50_uniform_e90", { logRoot: "/logs/ImageNet_LT" }),
  imagenet("feat_balance", "resnext50_banlance_e90", { shuffle: true, sampler: CB }),
  imagenet("feat_squareroot", "resnext50_square_e90", {
    sampler: {
      ...PRIORITY,
      def_file: "./data/MixedPrioritizedSampler.py",
      lam: 1.0,
      nroot: 2.0,
      type: "MixedPrioritizedSampler",
    },
  }),
  imagenet("feat_shift", "resnext50_shift_e90", {
    sampler: {
      ...PRIORITY,
      def_file: "./data/ClassPrioritySampler.py",
      lam: null,
      momentum: 0.0,
      nroot: null,
      pri_mode: "train",
      type: "ClassPrioritySampler",
    },
  }),
  imagenet("cls_crt", "retrain_uni2ban", {
    subDir: "clslearn",
    modelDir: IN_STAGE1,
    shuffle: true,
    sampler: CB,
    epochs: 10,
    stepSize: 3,
  }),
  imagenet("cls_lws", "lws_uni2ban", {
    subDir: "clslearn",
    modelDir: IN_STAGE1,
    shuffle: true,
    sampler: CB,
    epochs: 5,
    stepSize: 1,
    clsFile: "TauNormClassifier",
  }),
  places("cls_crt", "retrain_uni2ban", {}),
  places("cls_lws", "lws_uni2ban", { epochs: 5, clsFile: "TauNormClassifier" }),
  inat("feat_unifrom", "resnet50_uniform_e90", {}),
  inat("cls_crt", "retrain_uni2ban", {
    subDir: "clslearn",
    modelDir: INAT_STAGE1,
    shuffle: true,
    sampler: CB,
    epochs: 30,
    stepSize: 10,
  }),
  inat("cls_lws", "lws_uni2ban", {
    subDir: "clslearn",
    modelDir: INAT_STAGE1,
    shuffle: true,
    sampler: CB,
    epochs: 5,
    stepSize: 1,
    clsFile: "TauNormClassifier",
  }),
]);

export function originalYaml(name: string): string {
  return dump(ORIGINAL_CONFIGS[name], { lineWidth: 120 });
}
