/**
 * The CIFAR ResNets against an independent implementation: PyTorch networks built from the written architecture
 * (scripts/fixtures/make_torch_goldens.py, which never imports this project), filled with the same generated weights
 * (test/helpers/golden.ts), evaluated in float64. Our float32 forward must match in eval mode (running stats),
 * in training mode (batch stats), and in the running statistics one training-mode forward leaves behind.
 * Running the tests needs no torch: the goldens are committed under test/fixtures/torch/.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { backbones, countParams } from "../../src/models/index.js";
import { fixtureTensor, fnv1a, lcgUniform, nchwToNhwc, relMaxErr, torchConvToNhwc } from "../helpers/golden.js";

interface Case {
  model: string;
  input_nchw: [number, number, number, number];
  params: number;
  state_dict: Record<string, number[]>;
  eval: number[];
  train: number[];
  running_after_train_forward: Record<string, number[]>;
}
const fixture = JSON.parse(
  readFileSync(join(process.cwd(), "test", "fixtures", "torch", "cifar_resnets.json"), "utf8"),
) as {
  generator_check: { "u(5, 12345)": number[]; "fnv1a('conv1.weight')": number };
  input_seed: number;
  cases: Case[];
};

beforeAll(async () => {
  await initBackend("wasm");
});

describe("CIFAR ResNets vs PyTorch (independent goldens)", () => {
  it("the TS port of the fixture generator matches the Python one", () => {
    expect(Array.from(lcgUniform(5, 12345))).toEqual(fixture.generator_check["u(5, 12345)"]);
    expect(fnv1a("conv1.weight")).toBe(fixture.generator_check["fnv1a('conv1.weight')"]);
  });

  it.each(fixture.cases.map((c) => [`${c.model} on ${c.input_nchw.slice(1).join("x")}`, c] as const))(
    "%s: state dict, eval and train forward, running stats",
    (_label, c) => {
      const [n, ch, h, w] = c.input_nchw;
      const before = tf.memory().numTensors;
      const m = backbones.get(c.model)({ inputShape: [h, w, ch], seed: 0 });
      try {
        const vars = new Map([...m.trainable(), ...m.buffers()]);
        // The same state dict as PyTorch's: keys and (layout-converted) shapes, nothing more, nothing less.
        expect([...vars.keys()].sort()).toEqual(Object.keys(c.state_dict).sort());
        expect(countParams(m.trainable())).toBe(c.params);
        for (const [key, v] of vars) {
          const ts = c.state_dict[key];
          const conv = ts.length === 4;
          expect(v.shape, key).toEqual(conv ? [ts[2], ts[3], ts[1], ts[0]] : ts);
          const vals = fixtureTensor(key, ts);
          tf.tidy(() => v.assign(tf.tensor(conv ? torchConvToNhwc(vals, ts) : vals, v.shape)));
        }
        const x = tf.tensor4d(nchwToNhwc(lcgUniform(n * ch * h * w, fixture.input_seed), c.input_nchw), [n, h, w, ch]);
        const ev = m.apply(x, false);
        expect(ev.shape).toEqual([n, 64]);
        expect(relMaxErr(ev.dataSync(), c.eval), "eval-mode features").toBeLessThan(2e-5);
        const tr = m.apply(x, true);
        expect(relMaxErr(tr.dataSync(), c.train), "train-mode features").toBeLessThan(2e-5);
        // Sanity of the goldens themselves: the two modes differ, so each comparison means something.
        expect(relMaxErr(c.train, c.eval)).toBeGreaterThan(1e-2);
        for (const [key, want] of Object.entries(c.running_after_train_forward)) {
          expect(relMaxErr(vars.get(key)!.dataSync(), want), key).toBeLessThan(2e-5);
        }
        tf.dispose([x, ev, tr]);
      } finally {
        m.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
