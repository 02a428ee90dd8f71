/**
 * The defaults of every experiment option, taken from the schema (schema.ts declares each key with its default and
 * its description; docs/CONFIG.md lists them), and the config types under the names the rest of the code imports.
 *
 * A YAML file under `config/` overrides any subset of these; unknown keys are rejected. Defaults are applied once,
 * when a config is loaded (load.ts): code that reads a resolved config finds every key set. The one key whose null
 * stands for a default is `training_opt.sampler` (null = instance-balanced, as in the original configs; it stays
 * null in the resolved config because the config hash covers it): read it through {@link samplerOf}.
 */
import { CONFIG_SCHEMA, type ExperimentConfig, type SamplerConfig, type Stage2Config } from "./schema.js";

export type {
  DatasetConfig,
  ExperimentConfig,
  NetworkConfig,
  OptimParams,
  SamplerConfig,
  Stage2Config,
  TrainingOpt,
} from "./schema.js";

/** Defaults: the Fashion-MNIST-LT stage-1 instance-balanced recipe (ResNet-8, batch 128, lr 0.05, 30 epochs). */
export const DEFAULTS: ExperimentConfig = CONFIG_SCHEMA.parse({});

/** What a given `stage2` section holds where it leaves keys out (`stage2` itself defaults to null: stage 1). */
export const STAGE2_DEFAULTS: Readonly<Stage2Config> = Object.freeze(
  CONFIG_SCHEMA.shape.stage2.unwrap().unwrap().parse({}),
);

/** The sampler a null `training_opt.sampler` stands for: the schema's sampler defaults (instance-balanced). */
const NULL_SAMPLER: Readonly<SamplerConfig> = Object.freeze(
  CONFIG_SCHEMA.shape.training_opt.unwrap().shape.sampler.unwrap().unwrap().parse({}),
);

/** The sampler settings a config trains with: `training_opt.sampler`, or for null the schema's defaults. */
export function samplerOf(cfg: ExperimentConfig): Readonly<SamplerConfig> {
  return cfg.training_opt.sampler ?? NULL_SAMPLER;
}
