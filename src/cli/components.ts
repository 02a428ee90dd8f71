/**
 * Registry checks for a resolved config: every component name must exist in its registry. Done here (not in the
 * schema) because the registries live with their components; the error lists the valid names.
 *
 * Only the names are read, from modules that load no tensors (the backbone specs, the head names, and the
 * dataset, sampler and classifier registries), so `ltr config show` stays fast. Then the keys the components would
 * not read must hold their defaults (src/train/unread_keys.ts).
 */

import { classifiers } from "../classifiers/registry.js";
import type { ExperimentConfig } from "../config/defaults.js";
import { ConfigError } from "../config/schema.js";
import { datasets } from "../data/registry.js";
import { backboneNames } from "../models/resnet_specs.js";
import { samplers } from "../samplers/registry.js";
import { HEAD_NAMES } from "../train/head_names.js";
import { unreadKeys } from "../train/unread_keys.js";

export async function checkComponents(cfg: ExperimentConfig, source: string): Promise<void> {
  const problems: string[] = [];
  const check = (kind: string, valid: readonly string[], name: string, key: string) => {
    if (!valid.includes(name))
      problems.push(`key '${key}': unknown ${kind} '${name}'; valid: ${[...valid].sort().join(", ")}`);
  };
  check(datasets.kind, datasets.names(), cfg.training_opt.dataset, "training_opt.dataset");
  check("backbone", backboneNames(), cfg.networks.feat_model.type, "networks.feat_model.type");
  check("classifier head", HEAD_NAMES, cfg.networks.classifier.type, "networks.classifier.type");
  if (cfg.training_opt.sampler)
    check(samplers.kind, samplers.names(), cfg.training_opt.sampler.type, "training_opt.sampler.type");
  if (cfg.stage2) check(classifiers.kind, classifiers.names(), cfg.stage2.method, "stage2.method");
  // Only once every name is known: which keys are read depends on the components (src/train/unread_keys.ts).
  if (!problems.length) problems.push(...unreadKeys(cfg));
  if (problems.length) throw new ConfigError(source, problems);
}
