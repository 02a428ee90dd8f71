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
