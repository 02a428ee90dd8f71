/** Moving named tfjs variables to and from checkpoint tensors, with shape checks that name the key. */
import * as tf from "@tensorflow/tfjs";
import type { NamedVariables } from "../models/types.js";
import type { TensorData } from "../run/checkpoint.js";

/** Snapshot variables as plain arrays (prefix keeps feat_model/classifier/optimizer apart in one file). */
export function exportVariables(
  vars: NamedVariables,
  prefix: string,
  out: Record<string, TensorData> = {},
): Record<string, TensorData> {
  for (const [k, v] of vars) out[`${prefix}${k}`] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
  return out;
}

/**
 * Assign checkpoint tensors to variables. Every variable must be present (a missing key would leave random
 * weights in place silently) unless it is listed in `optional`.
 */
export function importVariables(
  vars: NamedVariables,
  prefix: string,
  tensors: Record<string, TensorData>,
  source: string,
): void {
  for (const [k, v] of vars) {
    const t = tensors[`${prefix}${k}`];
    if (!t)
      throw new Error(
        `${source}: no tensor '${prefix}${k}' in the checkpoint (does the config's backbone/classifier match the run that wrote it?)`,
      );
    if (!tf.util.arraysEqual(t.shape, v.shape))
      throw new Error(`${source}: tensor '${prefix}${k}' has shape [${t.shape}], the model expects [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
  }
}

/** Collect momentum buffers of an optimizer `state()` map. */
export function exportMap(m: Map<string, tf.Variable>, prefix: string, out: Record<string, TensorData>): void {
  for (const [k, v] of m) out[`${prefix}${k}`] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
}

/** Tensors under a prefix, as a Map of fresh tensors (caller disposes). */
export function tensorsUnder(tensors: Record<string, TensorData>, prefix: string): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [k, t] of Object.entries(tensors))
    if (k.startsWith(prefix)) out.set(k.slice(prefix.length), tf.tensor(t.data, t.shape));
  return out;
}
