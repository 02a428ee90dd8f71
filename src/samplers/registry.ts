/** The sampler registry: name -> factory. */
import { Registry } from "../registry.js";
import { ClassBalancedSampler } from "./class_balanced.js";
import { InstanceBalancedSampler } from "./instance_balanced.js";
import { ProgressiveSampler } from "./progressive.js";
import { QPowerSampler } from "./q_power.js";
import type { BatchSampler, SamplerArgs } from "./types.js";

export type { BatchSampler, SamplerArgs } from "./types.js";

export const samplers = new Registry<(args: SamplerArgs) => BatchSampler>("sampler")
  .register("instance_balanced", (a) => new InstanceBalancedSampler(a))
  .register("class_balanced", (a) => new ClassBalancedSampler(a))
  .register("square_root", (a) => new QPowerSampler(a, 0.5, "square_root"))
  .register("q_power", (a) => new QPowerSampler(a, a.q, "q_power"))
  .register("progressive", (a) => new ProgressiveSampler(a));

/**
 * The keys of `training_opt.sampler` each sampler reads beyond `type`, and whether it honours the config's in-batch
 * `shuffle` (instance-balanced batches are slices of a uniform permutation, already in random order). A key a
 * sampler does not read may only hold its default (src/train/unread_keys.ts).
 */
export const SAMPLER_READS: Readonly<Record<string, { keys: readonly string[]; shuffle: boolean }>> = {
  instance_balanced: { keys: [], shuffle: false },
  class_balanced: { keys: ["num_samples_cls"], shuffle: true },
  square_root: { keys: [], shuffle: true },
  q_power: { keys: ["q"], shuffle: true },
  progressive: { keys: ["epochs"], shuffle: true },
};
