/** SGD with momentum and coupled weight decay against hand-computed PyTorch updates. */
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import type { NamedVariables } from "../../src/models/types.js";
import { Sgd } from "../../src/train/sgd.js";

let uid = 0;
let vars: tf.Variable[] = [];
let start = 0;

/** A uniquely named variable, freed after each test. */
function v(values: number[], trainable = true): tf.Variable {
  const t = tf.tidy(() => tf.variable(tf.tensor1d(values), trainable, `sgdtest/${uid++}`));
  vars.push(t);
  return t;
}

function close(t: tf.Tensor, want: number[]): void {
  const got = Array.from(t.dataSync());
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 6));
}

beforeAll(async () => {
  await initBackend("cpu");
});
beforeEach(() => {
  start = tf.memory().numTensors;
});
afterEach(() => {
  tf.dispose(vars);
  vars = [];
  expect(tf.memory().numTensors).toBe(start);
});

describe("Sgd", () => {
  it("one and two steps match g+wd·θ, v=μv+g, θ-=lr·v per group", () => {
    const theta = v([1, -2]);
    const frozen = v([7]);
    const w = v([3]);
    const feat: NamedVariables = new Map([
      ["conv1.weight", theta],
      ["bn1.weight", frozen],
    ]);
    const opt = new Sgd([
      { name: "feat_model", params: feat, args: { lr: 0.1, momentum: 0.9, weightDecay: 0.01 } },
      { name: "classifier", params: new Map([["fc.weight", w]]), args: { lr: 0.5, momentum: 0, weightDecay: 0 } },
    ]);
    const before = tf.memory().numTensors;
    const g1 = { [theta.name]: tf.tensor1d([0.5, 0.1]), [w.name]: tf.tensor1d([1]) };
    opt.step(g1);
    // d = [0.5+0.01·1, 0.1+0.01·(−2)] = [0.51, 0.08] = v1; θ1 = θ0 − 0.1·v1.
    close(theta, [0.949, -2.008]);
    close(w, [2.5]);
    // No gradient: untouched, like PyTorch's grad=None (no decay either).
    close(frozen, [7]);
    const g2 = { [theta.name]: tf.tensor1d([-0.2, 0.3]), [w.name]: tf.tensor1d([2]) };
    opt.step(g2);
    // d = g2 + 0.01·θ1 = [−0.19051, 0.27992]; v2 = 0.9·v1 + d = [0.26849, 0.35192]; θ2 = θ1 − 0.1·v2.
    close(theta, [0.922151, -2.043192]);
    close(w, [1.5]);
    const st = opt.state();
    expect([...st.keys()]).toEqual(["feat_model.conv1.weight", "feat_model.bn1.weight", "classifier.fc.weight"]);
    close(st.get("feat_model.conv1.weight")!, [0.26849, 0.35192]);
    close(st.get("feat_model.bn1.weight")!, [0]);
    // Caller-owned gradients are still alive; the optimizer allocated nothing per step.
    expect(g1[theta.name].isDisposed).toBe(false);
    tf.dispose([g1, g2]);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
  });

  it("setLr changes one group's rate for the next step", () => {
    const theta = v([1, -2]);
    const opt = new Sgd([
      { name: "feat_model", params: new Map([["p", theta]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0.01 } },
    ]);
    const g1 = tf.tensor1d([0.5, 0.1]);
    opt.step({ [theta.name]: g1 });
    opt.setLr("feat_model", 0.05);
    expect(opt.getLr("feat_model")).toBe(0.05);
    const g2 = tf.tensor1d([-0.2, 0.3]);
    opt.step({ [theta.name]: g2 });
    close(theta, [0.949 - 0.05 * 0.26849, -2.008 - 0.05 * 0.35192]);
    expect(() => opt.setLr("classifier", 0.1)).toThrow(/unknown group 'classifier'; groups: feat_model/);
    expect(() => opt.setLr("feat_model", NaN)).toThrow(/finite/);
    tf.dispose([g1, g2]);
    opt.dispose();
  });

  it("works with tf.variableGrads output directly", () => {
    const a = v([1, 2]);
    const opt = new Sgd([{ name: "g", params: new Map([["a", a]]), args: { lr: 0.5, momentum: 0.9, weightDecay: 0 } }]);
    // loss = Σ a², gradient 2a.
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(a)) as tf.Scalar, [a]);
    opt.step(grads);
    close(a, [0, 0]);
    tf.dispose([value, grads]);
    opt.dispose();
  });

  it("saves and restores momentum buffers", () => {
    const a = v([1, 2]);
    const b = v([1, 2]);
    const optA = new Sgd([
      { name: "g", params: new Map([["p", a]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0 } },
    ]);
    const optB = new Sgd([
      { name: "g", params: new Map([["p", b]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0 } },
    ]);
    const g = tf.tensor1d([1, -1]);
    optA.step({ [a.name]: g });
    optB.step({ [b.name]: g });
    const saved = new Map([...optA.state()].map(([k, t]) => [k, t.clone()] as [string, tf.Tensor]));
    optA.step({ [a.name]: g });
    // Rewind B's buffers to A's saved state after one step: same as B after one step, so B matches A.
    optB.loadState(saved);
    optB.step({ [b.name]: g });
    close(b, Array.from(a.dataSync()));
    expect(() => optB.loadState(new Map([["g.q", g]]))).toThrow(/'g\.q' matches no parameter/);
    tf.dispose([g, ...saved.values()]);
    optA.dispose();
    optB.dispose();
  });

  it("fails loudly on misuse", () => {
    const a = v([1, 2]);
    const buf = v([0, 0], false);
    expect(
      () =>
        new Sgd([
          { name: "g", params: new Map([["bn.running_mean", buf]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0 } },
        ]),
    ).toThrow(/'bn\.running_mean' in group 'g' is not trainable/);
    expect(
      () =>
        new Sgd([
          { name: "g", params: new Map([["a", a]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0 } },
          { name: "h", params: new Map([["a2", a]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0 } },
        ]),
    ).toThrow(/already in group 'g'/);
    expect(() => new Sgd([{ name: "g", params: new Map(), args: { lr: -1, momentum: 0.9, weightDecay: 0 } }])).toThrow(
      /lr=-1/,
    );
    const opt = new Sgd([{ name: "g", params: new Map([["a", a]]), args: { lr: 0.1, momentum: 0.9, weightDecay: 0 } }]);
    const g = tf.tensor1d([1, 1, 1]);
    expect(() => opt.step({ a: g })).toThrow(/gradient 'a' matches no parameter; keys must be tfjs variable names/);
    expect(() => opt.step({ [a.name]: g })).toThrow(/'g\.a' has shape \[3\], parameter has \[2\]/);
    close(a, [1, 2]);
    g.dispose();
    opt.dispose();
  });
});
