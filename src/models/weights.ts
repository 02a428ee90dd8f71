/** Helpers over `NamedVariables`: merge modules into one state dict, count parameters. */
import type { NamedVariables } from "./types.js";

/** Something with parameters and buffers (a Backbone, a Classifier, ...). */
export interface HasWeights {
  trainable(): NamedVariables;
  buffers(): NamedVariables;
}

/**
 * All parameters and buffers of the given modules in one map (a state dict). Fails on a key clash,
 * because silently dropping a tensor would corrupt a checkpoint; prefix keys yourself when combining
 * modules that share names.
 */
export function modelWeights(...mods: HasWeights[]): NamedVariables {
  const out: NamedVariables = new Map();
  for (const m of mods) {
    for (const part of [m.trainable(), m.buffers()]) {
      for (const [k, v] of part) {
        if (out.has(k))
          throw new Error(
            `modelWeights: key '${k}' appears in more than one module; prefix the keys (e.g. "feat_model.") before merging`,
          );
        out.set(k, v);
      }
    }
  }
  return out;
}

/** Total number of scalars (pass `m.trainable()` to count learnable parameters as PyTorch summaries do). */
export function countParams(v: NamedVariables): number {
  let n = 0;
  for (const t of v.values()) n += t.size;
  return n;
}
