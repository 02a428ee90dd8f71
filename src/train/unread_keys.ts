/**
 * Keys that would do nothing: a resolved config holding a value other than its default in a key that this
 * experiment does not read is refused, naming the key, the value, why nothing reads it and what to do instead
 * (docs/CONFIG.md, "Keys with no effect"). A key at its default is fine: every resolved config holds every key of the
 * schema (config/schema.ts), so the defaults say nothing about what the user meant.
 *
 * Which experiment reads what comes from the components themselves: the stage-2 method's entry (`configKeys`,
 * `imagesHead`), the sampler's (`SAMPLER_READS`) and the dataset's (`DATASET_READS`). No tensors are loaded, so the
 * check runs in `ltr config show` as well as before any training starts.
 */

import { METHOD_DEPENDENT_KEYS } from "../classifiers/method.js";
import { classifierMethods } from "../classifiers/registry.js";
import { canonicalJson, type LoadedConfig } from "../config/load.js";
import { CONFIG_SCHEMA, ConfigError, type ExperimentConfig } from "../config/schema.js";
import { DATASET_READS } from "../data/registry.js";
import { SAMPLER_READS } from "../samplers/registry.js";

type Rec = Record<string, unknown>;

/** Every key at its default, with the sections that are null unless given (sampler, stage2) filled in. */
const DEFAULTS = CONFIG_SCHEMA.parse({ training_opt: { sampler: {} }, stage2: {} }) as unknown as Rec;

function at(obj: unknown, path: string): unknown {
  let v = obj;
  for (const seg of path.split(".")) v = v !== null && typeof v === "object" ? (v as Rec)[seg] : undefined;
  return v;
}

/** Whether `path` holds something other than its default (a null section at its default counts as default). */
function changed(cfg: ExperimentConfig, path: string): boolean {
  const v = at(cfg, path);
  if (v === null || v === undefined) return false;
  // Compared as the config hash sees them (config/load.ts canonicalJson: sorted keys).
  return canonicalJson(v) !== canonicalJson(at(DEFAULTS, path));
}

const show = (cfg: ExperimentConfig, path: string) => JSON.stringify(at(cfg, path));

/** The problems of `cfg`'s keys that nothing would read (empty when there are none). */
export function unreadKeys(cfg: ExperimentConfig): string[] {
  const p: string[] = [];
  const refuse = (path: string, why: string, fix: string) =>
    p.push(`${path} is ${show(cfg, path)}, which has no effect here: ${why}; ${fix}`);

  // The dataset's own keys: its subset (generated datasets) or its lists (list-file datasets).
  const reads = DATASET_READS[cfg.training_opt.dataset];
  if (reads) {
    const allKeys = new Set(Object.values(DATASET_READS).flat());
    for (const k of allKeys)
      if (!reads.includes(k) && changed(cfg, `dataset.${k}`))
        refuse(
          `dataset.${k}`,
          `${cfg.training_opt.dataset} reads ${reads.join(", ")} (and root, augment)`,
          "remove it",
        );
  }

  // The sampler's keys, and the in-batch shuffle that only some samplers (and no linear head on features) honour.
  const sampler = cfg.training_opt.sampler;
  const sr = sampler ? SAMPLER_READS[sampler.type] : SAMPLER_READS.instance_balanced;
  if (sampler && sr)
    for (const k of ["num_samples_cls", "q", "epochs"])
      if (!sr.keys.includes(k) && changed(cfg, `training_opt.sampler.${k}`))
        refuse(
          `training_opt.sampler.${k}`,
          `the ${sampler.type} sampler reads ${sr.keys.length ? sr.keys.join(", ") : "none of its section's keys but type"}`,
          "remove it",
        );

  if (cfg.stage2 === null) {
    if (cfg.model_dir !== null && !cfg.networks.feat_model.fix)
      refuse(
        "model_dir",
        "a config without a stage2 section trains a new backbone and reads no earlier run",
        "remove it, or add stage2 (the classifier method to learn on that run's frozen backbone) with networks.feat_model.fix: true",
      );
    if (cfg.shuffle && sr && !sr.shuffle)
      refuse(
        "shuffle",
        `the ${sampler?.type ?? "instance_balanced"} sampler's batches are slices of a uniform permutation, already in random order`,
        "remove it",
      );
    return p;
  }

  // Stage 2: what the method reads (its entry), on features or on images through the frozen backbone.
  if (!classifierMethods.has(cfg.stage2.method)) return p; // the registry check names the valid methods
  const m = classifierMethods.get(cfg.stage2.method);
  const images = cfg.stage2.input === "images" && m.imagesHead !== undefined;
  const withImages = classifierMethods
    .names()
    .filter((n) => classifierMethods.get(n).imagesHead !== undefined)
    .join(", ");
  if (cfg.stage2.input === "images" && !images)
    refuse(
      "stage2.input",
      `${m.name} runs on the frozen backbone's features; only ${withImages} train a head on images`,
      "remove it (features is the default)",
    );
  if (!images && changed(cfg, "stage2.bn_mode"))
    refuse("stage2.bn_mode", "it sets the frozen backbone's BatchNorm mode in images mode only", "remove it");
  // On features, the classifier learns from features extracted once without augmentation, and logs epochs only.
  for (const [key, what] of [
    ["dataset.augment", "augments the images of a training loop"],
    ["training_opt.display_step", "spaces the step records of a training loop"],
  ] as const)
    if (!images && changed(cfg, key))
      refuse(
        key,
        `it ${what}, and ${m.name} here learns from features extracted once without augmentation`,
        m.imagesHead ? "remove it, or set stage2.input: images" : "remove it",
      );
  if (changed(cfg, "networks.feat_model.optim_params"))
    refuse(
      "networks.feat_model.optim_params",
      "stage 2 freezes the backbone (networks.feat_model.fix: true), so no optimiser updates it",
      "remove it",
    );
  const head = m.imagesHead ?? "linear";
  if (cfg.networks.classifier.type !== head && changed(cfg, "networks.classifier.type"))
    refuse(
      "networks.classifier.type",
      `stage 2's classifier is the one stage2.method '${m.name}' defines (${m.imagesHead ? `a ${head} head` : "no head of its own"})`,
      m.imagesHead ? `remove it or set ${head}` : "remove it",
    );
  for (const key of METHOD_DEPENDENT_KEYS)
    if (!m.configKeys.some((k) => key === k || key.startsWith(`${k}.`)) && changed(cfg, key))
      refuse(
        key,
        `stage2.method '${m.name}' reads ${m.configKeys.length ? m.configKeys.join(", ") : "none of the training settings"}`,
        "remove it",
      );
  if (cfg.shuffle && !(images && sr?.shuffle))
    refuse(
      "shuffle",
      images
        ? `the ${sampler?.type ?? "instance_balanced"} sampler's batches are slices of a uniform permutation, already in random order`
        : `${m.name} on features ${m.trains ? "averages the loss of each batch of fixed features, whatever their order" : "trains nothing"}`,
      images ? "remove it" : "remove it (it reorders the augmented batches of stage2.input: images)",
    );
  return p;
}

/** Throw one ConfigError naming the config's source when it sets keys that would have no effect. */
export function refuseUnreadKeys(loaded: LoadedConfig): void {
  const p = unreadKeys(loaded.config);
  if (p.length)
    throw new ConfigError(
      loaded.overrides.length
        ? `${loaded.source} (after ${loaded.overrides.map((o) => `--set ${o}`).join(" ")})`
        : loaded.source,
      p,
    );
}
