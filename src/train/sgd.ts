/**
 * SGD with momentum and coupled weight decay, exactly PyTorch's `torch.optim.SGD` with dampening 0 and
 * nesterov off (docs/ARCHITECTURE.md, "Training mechanics"): g ← g + wd·θ; v ← μ·v + g; θ ← θ − lr·v. Decay applies to every tensor in a
 * group (BN γ/β and biases included, as the reference does). Param groups carry their own lr / momentum /
 * decay because feat_model and classifier are configured separately.
 */
import * as tf from "@tensorflow/tfjs";
import { SGD_STEP_KERNEL } from "../kernels/native/sgd.js";
import type { NamedVariables } from "../models/types.js";

export interface SgdArgs {
  /** Learning rate (changed per epoch with `setLr`). */
  lr: number;
  /** Momentum μ (0.9 in every shipped config; 0 gives plain SGD). */
  momentum: number;
  /** Coupled L2 weight decay added to the gradient (5e-4 ImageNet-LT, 1e-4 iNaturalist). */
  weightDecay: number;
}

export interface SgdGroup {
  /** Group name used by `setLr` and as the prefix of momentum-buffer keys ("feat_model", "classifier"). */
  name: string;
  /** Parameters of the group, keyed by their state-dict name. */
  params: NamedVariables;
  /** Hyper-parameters of the group. */
  args: SgdArgs;
}

interface Slot {
  group: string;
  key: string;
  param: tf.Variable;
  buf: tf.Variable;
}

function checkArgs(group: string, a: SgdArgs): void {
  for (const k of ["lr", "momentum", "weightDecay"] as const) {
    if (!Number.isFinite(a[k]) || a[k] < 0)
      throw new Error(`Sgd: group '${group}' has ${k}=${a[k]}; it must be a finite number >= 0`);
  }
}

/** Makes momentum-buffer variable names unique per optimizer (tfjs names are global). */
let sgdCounter = 0;

export class Sgd {
  private readonly groups = new Map<string, SgdArgs>();
  /** By tfjs variable name, which is how `tf.variableGrads` keys its gradients. */
  private readonly slots = new Map<string, Slot>();

  constructor(groups: SgdGroup[]) {
    // Validate everything before allocating, so a bad call leaves no buffers behind.
    const seen = new Map<string, { group: string; key: string }>();
    for (const g of groups) {
      if (this.groups.has(g.name)) throw new Error(`Sgd: duplicate param group name '${g.name}'`);
      checkArgs(g.name, g.args);
      this.groups.set(g.name, { ...g.args });
      for (const [key, param] of g.params) {
        const prev = seen.get(param.name);
        if (prev)
          throw new Error(
            `Sgd: parameter '${key}' of group '${g.name}' is already in group '${prev.group}' (as '${prev.key}')`,
          );
        if (!param.trainable)
          throw new Error(
            `Sgd: '${key}' in group '${g.name}' is not trainable (a BN running stat?); pass module.trainable(), not buffers()`,
          );
        seen.set(param.name, { group: g.name, key });
      }
    }
    const id = sgdCounter++;
    for (const g of groups) {
      for (const [key, param] of g.params) {
        // Zero buffers up front: μ·0 + g equals PyTorch's lazy "buf = g" on the first step, and the
        // tensor count stays constant across steps.
        const buf = tf.tidy(() => tf.variable(tf.zerosLike(param), false, `sgd#${id}/${g.name}/${key}`));
        this.slots.set(param.name, { group: g.name, key, param, buf });
      }
    }
  }

  setLr(group: string, lr: number): void {
    const a = this.groups.get(group);
    if (!a) throw new Error(`Sgd.setLr: unknown group '${group}'; groups: ${[...this.groups.keys()].join(", ")}`);
    if (!Number.isFinite(lr) || lr < 0)
      throw new Error(`Sgd.setLr: lr for group '${group}' must be a finite number >= 0, got ${lr}`);
    a.lr = lr;
  }

  getLr(group: string): number {
    const a = this.groups.get(group);
    if (!a) throw new Error(`Sgd.getLr: unknown group '${group}'; groups: ${[...this.groups.keys()].join(", ")}`);
    return a.lr;
  }

  /**
   * Apply one update. `grads` is keyed by tfjs variable name, i.e. pass `tf.variableGrads(f, vars).grads`
   * as is. A parameter without a gradient is skipped entirely (no decay, momentum untouched), as PyTorch
   * does for `grad is None`. A key that names no parameter throws, so a naming mismatch cannot silently
   * turn training off. The caller keeps ownership of (and disposes) `grads`.
   */
  step(grads: Record<string, tf.Tensor>): void {
    for (const name of Object.keys(grads)) {
      if (!this.slots.has(name)) {
        const some = [...this.slots.keys()].slice(0, 3).join(", ");
        throw new Error(
          `Sgd.step: gradient '${name}' matches no parameter; keys must be tfjs variable names (e.g. ${some}), as returned by tf.variableGrads`,
        );
      }
    }
    // Check every shape before touching any parameter, so a bad call never leaves a half-applied step.
    for (const [name, s] of this.slots) {
      const g = grads[name];
      if (g !== undefined && !tf.util.arraysEqual(g.shape, s.param.shape)) {
        throw new Error(
          `Sgd.step: gradient for '${s.group}.${s.key}' has shape [${g.shape}], parameter has [${s.param.shape}]`,
        );
      }
    }
    // One fused kernel per parameter when the native layer registered it on this backend (src/kernels/native/sgd.ts:
    // the same float32 operations in the same order, so the same bits), instead of up to six kernels and their
    // intermediate tensors: a ResNet-8 step makes about 150 fewer kernel calls.
    const fused = tf.getKernel(SGD_STEP_KERNEL, tf.getBackend()) !== undefined;
    tf.tidy(() => {
      for (const [name, s] of this.slots) {
        const g = grads[name];
        if (g === undefined) continue;
        const a = this.groups.get(s.group)!;
        if (fused) {
          const [p, v] = tf
            .engine()
            .runKernel(
              SGD_STEP_KERNEL,
              { param: s.param, grad: g, buf: s.buf },
              { lr: a.lr, momentum: a.momentum, weightDecay: a.weightDecay },
            ) as tf.Tensor[];
          // Without momentum the buffer is never read or written (as below), so it stays as it is.
          if (a.momentum > 0) s.buf.assign(v);
          s.param.assign(p);
          continue;
        }
        const d = a.weightDecay > 0 ? tf.add(g, tf.mul(s.param, a.weightDecay)) : g;
        const v = a.momentum > 0 ? tf.add(tf.mul(s.buf, a.momentum), d) : d;
        if (a.momentum > 0) s.buf.assign(v);
        s.param.assign(tf.sub(s.param, tf.mul(v, a.lr)));
      }
    });
  }

  /** Momentum buffers keyed "<group>.<param key>" (stable across processes), for checkpoints. */
  state(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const s of this.slots.values()) out.set(`${s.group}.${s.key}`, s.buf);
    return out;
  }

  /** Restore momentum buffers saved from `state()` (values are copied; the caller keeps its tensors). */
  loadState(state: Map<string, tf.Tensor>): void {
    const byKey = new Map<string, Slot>();
    for (const s of this.slots.values()) byKey.set(`${s.group}.${s.key}`, s);
    for (const [k, t] of state) {
      const s = byKey.get(k);
      if (!s) throw new Error(`Sgd.loadState: checkpoint key '${k}' matches no parameter of this optimizer`);
      if (!tf.util.arraysEqual(t.shape, s.buf.shape))
        throw new Error(`Sgd.loadState: '${k}' has shape [${t.shape}], expected [${s.buf.shape}]`);
      s.buf.assign(t);
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) s.buf.dispose();
    this.slots.clear();
  }
}
