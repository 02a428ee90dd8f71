import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { findTensorflowPackage, initBackend, requestedBackend } from "../../src/backend.js";

describe("backend selection", () => {
  it.each(["wasm", "cpu"])("%s initialises and runs a tiny op without leaking", async (name) => {
    const info = await initBackend(name);
    expect(info.name).toBe(name);
    expect(tf.getBackend()).toBe(name);
    expect(info.tfjsVersion).toBe("4.22.0");
    const before = tf.memory().numTensors;
    const y = tf.tidy(() =>
      tf.matMul(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
        tf.tensor2d([[1], [1]]),
      ),
    );
    expect(Array.from(await y.data())).toEqual([3, 7]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'tensorflow' without tfjs-node installed fails with how to install it", async () => {
    if (findTensorflowPackage()) return; // a machine with tfjs-node: nothing to check here
    await expect(initBackend("tensorflow")).rejects.toThrow(/npm install --no-save @tensorflow\/tfjs-node-gpu/);
  });

  it("auto picks wasm when no native TensorFlow is present; bad names list the valid ones", async () => {
    if (!findTensorflowPackage()) expect((await initBackend("auto")).name).toBe("wasm");
    expect(() => requestedBackend("gpu")).toThrow(/valid backends: auto, wasm, cpu, tensorflow/);
  });
});
