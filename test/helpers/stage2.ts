/**
 * A stage-2 config mapping made from a stage-1 one in a test: the keys the method would not read
 * (src/train/unread_keys.ts) are left out — the frozen backbone's optim_params, the training settings and method
 * sections that `method` does not list in its `configKeys`, and on features the training loop's augmentation and
 * step logging — as a user writing a stage-2 config leaves them out.
 */
import { METHOD_DEPENDENT_KEYS } from "../../src/classifiers/method.js";
import { classifierMethods } from "../../src/classifiers/registry.js";

type Rec = Record<string, unknown>;

export function forStage2(raw: Rec, method: string): Rec {
  const out = structuredClone(raw);
  const m = classifierMethods.get(method);
  const drop = (path: string) => {
    const segs = path.split(".");
    let node: unknown = out;
    for (const s of segs.slice(0, -1)) node = node && typeof node === "object" ? (node as Rec)[s] : undefined;
    if (node && typeof node === "object") delete (node as Rec)[segs[segs.length - 1]];
  };
  drop("networks.feat_model.optim_params");
  const stage2 = out.stage2 as Rec | undefined;
  if (!(stage2?.input === "images" && m.imagesHead)) {
    drop("dataset.augment");
    drop("training_opt.display_step");
  }
  for (const k of METHOD_DEPENDENT_KEYS) if (!m.configKeys.some((c) => k === c || k.startsWith(`${c}.`))) drop(k);
  return out;
}
