/**
 * The stage-2 classifier methods by name. Each method is one self-describing entry in `methods/` (see method.ts:
 * name, label, stage, options with defaults, stage-1 needs, runners, config mapping, plot style); this module serves
 * them, and everything else (stage 2, `ltr classify`, the reproduction's profiles, tables, findings and figures) reads
 * the entries instead of naming methods. An unknown name fails with the list of valid ones.
 *
 *   classifierMethods.get(name)  the entry;
 *   classifiers.get(name)(args)  its runner on features, inputs checked (the form the notebooks call).
 */

import { Registry } from "../registry.js";
import { type ClassifierEntry, type ClassifierMethod, checkRunArgs } from "./method.js";
import { METHODS } from "./methods/index.js";

export type {
  ClassifierEntry,
  ClassifierMethod,
  ClassifierRunArgs,
  ClassifierRunResult,
  ImagesHead,
  MethodPlotStyle,
  Stage1Classifier,
} from "./method.js";

/** Every method entry, by name (`stage2.method`, `ltr classify --method`). */
export const classifierMethods = new Registry<ClassifierMethod>("classifier");
/** Every method's runner on features (inputs checked first), by name. */
export const classifiers = new Registry<ClassifierEntry>("classifier");

for (const m of METHODS) {
  classifierMethods.register(m.name, m);
  classifiers.register(m.name, async (args) => {
    checkRunArgs(m, args);
    return m.runOnFeatures(args);
  });
}

/** The methods in table order (the paper's classifier table: Joint, NCM, cRT, τ-norm, LWS, then any added). */
export const CLASSIFIER_METHODS: readonly ClassifierMethod[] = METHODS;

/** The display label of a method ("tau_norm" → "τ-norm"); an unknown name lists the valid ones. */
export function methodLabel(name: string): string {
  return classifierMethods.get(name).label;
}

/** The run-folder stage of a method ("tau_norm" → "cls_taunorm"); an unknown name lists the valid ones. */
export function methodStage(name: string): string {
  return classifierMethods.get(name).stage;
}
