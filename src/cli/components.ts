/**
 * Registry checks for a resolved config: every component name must exist in its registry. Done here (not in the
 * schema) because the registries live with their components; the error lists the valid names.
 */
import type { ExperimentConfig } from "../config/defaults.js";
import { ConfigError } from "../config/schema.js";
import { datasets } from "../data/registry.js";
import { backbones } from "../models/index.js";
import { samplers } from "../samplers/registry.js";
import { classifiers } from "../classifiers/registry.js";
import { HEADS } from "../train/heads.js";
import type { Registry } from "../registry.js";

export async function checkComponents(cfg: ExperimentConfig, source: string): Promise<void> {
  const problems: string[] = [];
  const check = (reg: Registry<unknown>, name: string, key: string) => {
    if (!reg.has(name)) problems.push(`key '${key}': unknown ${reg.kind} '${name}'; valid: ${reg.names().join(", ")}`);
  };
  check(datasets as Registry<unknown>, cfg.training_opt.dataset, "training_opt.dataset");
  check(backbones as Registry<unknown>, cfg.networks.feat_model.type, "networks.feat_model.type");
  check(HEADS as Registry<unknown>, cfg.networks.classifier.type, "networks.classifier.type");
  if (cfg.training_opt.sampler) check(samplers as Registry<unknown>, cfg.training_opt.sampler.type, "training_opt.sampler.type");
  if (cfg.stage2) check(classifiers as Registry<unknown>, cfg.stage2.method, "stage2.method");
  if (problems.length) throw new ConfigError(source, problems);
}
