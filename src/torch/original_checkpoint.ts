/**
 * The original code's checkpoints (`final_model_checkpoint.pth`, docs/ORIGINAL_CODE.md "Checkpoint files"):
 * a dict whose `state_dict_best` holds the `feat_model` and `classifier` state dicts, keys with the `module.`
 * prefix of nn.DataParallel (or without), float32 or float16, zip or legacy format. This module finds the file
 * the way the original's `--model_dir` does, and maps the two state dicts onto this project's tensor names and
 * layouts: conv weights [out, in/groups, kh, kw] -> [kh, kw, in/groups, out]; BatchNorm and linear tensors as
 * they are; `num_batches_tracked` dropped; an LWS classifier's (TauNormClassifier) `scales` folded into `fc`.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { TensorData } from "../run/checkpoint.js";
import { loadTorchFile, TorchTensor, tensorValues } from "./load.js";
import { PyDict } from "./pickle.js";

/** The file name the original's main.py appends to a `--model_dir` folder. */
export const ORIGINAL_CHECKPOINT = "final_model_checkpoint.pth";

/**
 * The `.pth` a `--model_dir` value names, as the original's `load_model`: a path ending in `.pth` is the file, any
 * other path is a folder holding final_model_checkpoint.pth. Returns null when there is no such file.
 */
export function originalCheckpointPath(modelDir: string): string | null {
  if (modelDir.endsWith(".pth")) return existsSync(modelDir) && statSync(modelDir).isFile() ? modelDir : null;
  const f = join(modelDir, ORIGINAL_CHECKPOINT);
  return existsSync(f) ? f : null;
}

/** A short name for an imported checkpoint: the file's stem, or its folder's name for final_model_checkpoint.pth. */
export function checkpointStem(pth: string): string {
  const b = basename(pth, ".pth");
  return b === "final_model_checkpoint" ? basename(dirname(pth)) || "checkpoint" : b;
}

export interface StateDictTensor {
  shape: number[];
  dtype: string;
  values(): Float32Array;
}

export interface OriginalCheckpoint {
  path: string;
  format: "zip" | "legacy";
  /** State-dict entries without the `module.` prefix. */
  featModel: Map<string, StateDictTensor>;
  classifier: Map<string, StateDictTensor>;
  /** epoch, best_epoch, best_acc when present (numbers). */
  info: Record<string, number>;
  /** True when the keys carried the `module.` prefix of nn.DataParallel. */
  dataParallel: boolean;
  close(): void;
}

function stateDict(v: unknown, path: string, key: string): { map: Map<string, StateDictTensor>; prefixed: boolean } {
  if (!(v instanceof Map)) throw new Error(`${path}: state_dict_best.${key} is not a state dict`);
  const names = [...v.keys()].map(String);
  const prefixed = names.length > 0 && names.every((n) => n.startsWith("module."));
  const map = new Map<string, StateDictTensor>();
  for (const [k, t] of v) {
    const name = prefixed ? String(k).slice("module.".length) : String(k);
    if (!(t instanceof TorchTensor)) throw new Error(`${path}: state_dict_best.${key}['${String(k)}'] is not a tensor`);
    map.set(name, {
      shape: t.shape,
      dtype: t.dtype,
      values: () => tensorValues(t, `${path}: state_dict_best.${key}['${String(k)}']`),
    });
  }
  return { map, prefixed };
}

/** Read a checkpoint written by the original code (its dict of state dicts; nothing else in it is needed). */
export function readOriginalCheckpoint(path: string): OriginalCheckpoint {
  const file = loadTorchFile(path);
  try {
    const top = file.value;
    if (!(top instanceof PyDict))
      throw new Error(`${path}: expected a dict saved by the original code's run_networks.py, got ${typeof top}`);
    const best = top.get("state_dict_best");
    if (!(best instanceof PyDict)) {
      const keys = [...top.keys()].map(String).join(", ");
      throw new Error(
        `${path}: no 'state_dict_best' (keys: ${keys}); the original code's final_model_checkpoint.pth holds the best-on-val weights under that key` +
          (top.has("state_dict") ? " (this looks like latest_model_checkpoint.pth, the last epoch's weights)" : ""),
      );
    }
    for (const k of ["feat_model", "classifier"])
      if (!best.has(k))
        throw new Error(`${path}: state_dict_best has no '${k}' (keys: ${[...best.keys()].join(", ")})`);
    const f = stateDict(best.get("feat_model"), path, "feat_model");
    const c = stateDict(best.get("classifier"), path, "classifier");
    const info: Record<string, number> = {};
    for (const k of ["epoch", "best_epoch", "best_acc"])
      if (typeof top.get(k) === "number") info[k] = top.get(k) as number;
    return {
      path,
      format: file.format,
      featModel: f.map,
      classifier: c.map,
      info,
      dataParallel: f.prefixed,
      close: () => file.close(),
    };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** Names and shapes of a model's variables (this project's layout), e.g. from Backbone.trainable()/buffers(). */
export type VariableShapes = Map<string, number[]>;

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The feature model's tensors in this project's names and layout, for every variable in `want` (missing or
 * mis-shaped ones are errors naming the key; extra checkpoint keys are errors too, since weights this project
 * would not use mean the architectures differ — e.g. the original's `use_fc` or attention layers).
 */
export function featModelTensors(
  ck: OriginalCheckpoint,
  want: VariableShapes,
  arch: string,
): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  const problems: string[] = [];
  for (const [key, shape] of want) {
    const t = ck.featModel.get(key);
    if (!t) {
      problems.push(`missing '${key}'`);
      continue;
    }
    if (shape.length === 4) {
      const [kh, kw, cin, cout] = shape;
      if (!sameShape(t.shape, [cout, cin, kh, kw])) {
        problems.push(`'${key}' has shape [${t.shape}], ${arch} needs [${[cout, cin, kh, kw]}] (PyTorch layout)`);
        continue;
      }
      // [out, in, kh, kw] -> [kh, kw, in, out]
      const v = t.values();
      const d = new Float32Array(v.length);
      for (let o = 0; o < cout; o++)
        for (let i = 0; i < cin; i++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++) d[((y * kw + x) * cin + i) * cout + o] = v[((o * cin + i) * kh + y) * kw + x];
      out[key] = { shape, data: d };
    } else {
      if (!sameShape(t.shape, shape)) {
        problems.push(`'${key}' has shape [${t.shape}], ${arch} needs [${shape}]`);
        continue;
      }
      out[key] = { shape, data: t.values() };
    }
  }
  const extra = [...ck.featModel.keys()].filter((k) => !want.has(k) && !k.endsWith(".num_batches_tracked"));
  if (extra.length)
    problems.push(
      `weights ${arch} does not have: ${extra.slice(0, 6).join(", ")}${extra.length > 6 ? ` and ${extra.length - 6} more` : ""} (use_fc / use_selfatt models are not supported)`,
    );
  if (problems.length)
    throw new Error(
      `${ck.path}: the feat_model state dict does not fit ${arch}:\n  - ${problems.slice(0, 12).join("\n  - ")}${problems.length > 12 ? `\n  - ... ${problems.length - 12} more` : ""}`,
    );
  return out;
}

export interface OriginalClassifier {
  weight: Float32Array;
  bias: Float32Array;
  numClasses: number;
  featDim: number;
  /** "DotProductClassifier" (fc), or "TauNormClassifier" (fc + scales, folded: w_j·s_j, b_j·s_j). */
  kind: "DotProductClassifier" | "TauNormClassifier";
}

/** The classifier as one linear layer [C×d] + [C]; the LWS scales multiply weight and bias rows (exact for its logits). */
export function classifierTensors(ck: OriginalCheckpoint): OriginalClassifier {
  const c = ck.classifier;
  const w = c.get("fc.weight");
  const b = c.get("fc.bias");
  const s = c.get("scales");
  const extra = [...c.keys()].filter((k) => k !== "fc.weight" && k !== "fc.bias" && k !== "scales");
  if (!w || w.shape.length !== 2 || extra.length)
    throw new Error(
      `${ck.path}: the classifier state dict is not a DotProductClassifier / TauNormClassifier (expected fc.weight [C, d], fc.bias [C], optional scales [C]; found ${[...c.keys()].join(", ")})`,
    );
  const [C, d] = w.shape;
  if (b && !sameShape(b.shape, [C]))
    throw new Error(`${ck.path}: classifier fc.bias has shape [${b.shape}], expected [${C}]`);
  if (s && !sameShape(s.shape, [C]))
    throw new Error(`${ck.path}: classifier scales has shape [${s.shape}], expected [${C}]`);
  const weight = w.values();
  const bias = b ? b.values() : new Float32Array(C);
  if (s) {
    const sc = s.values();
    for (let j = 0; j < C; j++) {
      for (let k = 0; k < d; k++) weight[j * d + k] *= sc[j];
      bias[j] *= sc[j];
    }
  }
  return { weight, bias, numClasses: C, featDim: d, kind: s ? "TauNormClassifier" : "DotProductClassifier" };
}
