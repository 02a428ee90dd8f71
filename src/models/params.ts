/**
 * Where model variables are born: seeded initial values, PyTorch-style keys, globally unique tfjs names,
 * and one place that disposes them all.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../rng.js";
import type { NamedVariables } from "./types.js";

/** FNV-1a over the UTF-16 code units of a string; only used to derive per-parameter seed streams. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * One independent stream per parameter, derived from (seed, key). Why not one stream in construction
 * order: then "conv1.weight" of resnet20 and resnet32 with the same seed are identical, and inserting a
 * layer does not reshuffle every later layer.
 */
export function paramRng(seed: number, key: string): Rng {
  return new Rng(seed).fork(fnv1a(key));
}

/** Fill with N(0, std²) using both outputs of each Box-Muller pair (initialising ResNet-152 draws 58M values). */
export function fillNormal(rng: Rng, out: Float32Array, std: number): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    let u = 0;
    while (u === 0) u = rng.next();
    const r = std * Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Fill with U(lo, hi). */
export function fillUniform(rng: Rng, out: Float32Array, lo: number, hi: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}

let instanceCounter = 0;

/**
 * Creates and owns a model's variables. Keys are PyTorch state-dict names; the tfjs variable name is
 * `<model>#<instance>/<key>` because tfjs keeps a global registry of variable names and two models with a
 * "conv1.weight" each would otherwise collide.
 */
export class ParamStore {
  private readonly params: NamedVariables = new Map();
  private readonly bufs: NamedVariables = new Map();
  /** Prefix of every tfjs variable name made here. */
  readonly prefix: string;

  /**
   * @param model model name, used in the tfjs variable names and in error messages.
   * @param seed base seed; each parameter gets `paramRng(seed, key)`.
   */
  constructor(
    readonly model: string,
    readonly seed: number,
  ) {
    this.prefix = `${model}#${instanceCounter++}`;
  }

  /** Seeded stream for one parameter key. */
  rng(key: string): Rng {
    return paramRng(this.seed, key);
  }

  /** Register a tensor's values under `key`; `trainable` decides whether it is a parameter or a buffer. */
  add(key: string, values: Float32Array, shape: number[], trainable: boolean): tf.Variable {
    if (this.params.has(key) || this.bufs.has(key)) {
      throw new Error(`${this.model}: duplicate parameter key '${key}' (a layer was built twice under one name)`);
    }
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, "float32"), trainable, `${this.prefix}/${key}`));
    (trainable ? this.params : this.bufs).set(key, v);
    return v;
  }

  trainable(): NamedVariables {
    return new Map(this.params);
  }

  buffers(): NamedVariables {
    return new Map(this.bufs);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.bufs.values()) v.dispose();
    this.params.clear();
    this.bufs.clear();
  }
}
