/** Build the run's components from a resolved config, through the registries. */
import { type ExperimentConfig, samplerOf } from "../config/defaults.js";
import type { DatasetArgs } from "../data/args.js";
import { datasets } from "../data/registry.js";
import type { Dataset } from "../data/types.js";
import { backbones } from "../models/index.js";
import type { Backbone, Classifier } from "../models/types.js";
import { samplers } from "../samplers/registry.js";
import type { BatchSampler } from "../samplers/types.js";
import { HEADS } from "./heads.js";

/** The dataset options of a config, as the dataset registry takes them. */
export function datasetArgs(cfg: ExperimentConfig): DatasetArgs {
  const d = cfg.dataset;
  return {
    root: d.root,
    imbFactor: d.imb_factor,
    profile: d.profile,
    nMax: d.n_max ?? undefined,
    subsetSeed: d.subset_seed,
    valPerClass: d.val_per_class,
    trainList: d.train_list ?? undefined,
    valList: d.val_list ?? undefined,
    testList: d.test_list ?? undefined,
    imageRoot: d.image_root ?? undefined,
    augment: d.augment,
    numClasses: cfg.training_opt.num_classes,
  };
}

export async function buildDataset(cfg: ExperimentConfig): Promise<Dataset> {
  const make = datasets.get(cfg.training_opt.dataset, "training_opt.dataset");
  const ds = await make(datasetArgs(cfg));
  if (ds.numClasses !== cfg.training_opt.num_classes)
    throw new Error(
      `training_opt.num_classes is ${cfg.training_opt.num_classes} but dataset ${ds.name} has ${ds.numClasses} classes; fix num_classes in the config`,
    );
  return ds;
}

export function buildBackbone(cfg: ExperimentConfig, ds: Dataset): Backbone {
  return backbones.get(
    cfg.networks.feat_model.type,
    "networks.feat_model.type",
  )({ inputShape: ds.inputShape, seed: cfg.seed });
}

export function buildHead(
  cfg: ExperimentConfig,
  featDim: number,
  numClasses: number,
  type = cfg.networks.classifier.type,
): Classifier {
  // A different seed stream from the backbone's so the two initialisations are independent, and another one for a
  // stage-2 head, so cRT on images starts from a fresh draw, not from a copy of stage 1's initial classifier.
  return HEADS.get(
    type,
    "networks.classifier.type",
  )({ featDim, numClasses, seed: cfg.seed + (cfg.stage2 ? 104_729 : 7919) });
}

export function buildSampler(cfg: ExperimentConfig, ds: Dataset): BatchSampler {
  // A null sampler is the instance-balanced one; its settings are the schema's defaults (config/defaults.ts).
  const s = samplerOf(cfg);
  return samplers.get(
    s.type,
    "training_opt.sampler.type",
  )({
    labels: ds.train.labels,
    numClasses: ds.numClasses,
    batchSize: cfg.training_opt.batch_size,
    seed: cfg.seed,
    numEpochs: cfg.training_opt.num_epochs,
    scheduleEpochs: s.epochs,
    numSamplesCls: s.num_samples_cls,
    shuffleInBatch: cfg.shuffle,
    q: s.q,
  });
}
