/**
 * ImageNet-style backbones: exact parameter counts against torchvision totals, PyTorch names, and a
 * forward pass on a small input. Separate from resnet.test.ts because initialising 23M parameters
 * dominates the run time and vitest runs files in parallel.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { hasGroupedConvKernels } from "../../src/kernels/grouped_conv.js";
import { backbones, countParams, resolveGroupedConv } from "../../src/models/index.js";
import { testData } from "./reference.js";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("ImageNet backbones", () => {
  it("'auto' grouped conv uses the grouped kernels where registered (native layer), else split unless depthwise gradient kernels are registered", () => {
    const hasDwGrad =
      tf.getKernel("DepthwiseConv2dNativeBackpropFilter", "wasm") !== undefined &&
      tf.getKernel("DepthwiseConv2dNativeBackpropInput", "wasm") !== undefined;
    expect(resolveGroupedConv("auto")).toBe(
      hasGroupedConvKernels("wasm") ? "kernel" : hasDwGrad ? "depthwise" : "split",
    );
  });

  // One build per ImageNet model (initialisation dominates): exact count, names, 64x64 forward.
  // torchvision resnet50 25,557,032 and resnext50_32x4d 25,028,904 minus the 2048x1000+1000 fc;
  // ResNet-10 = ResNet-18 features (11,176,512) minus one BasicBlock per stage (6,270,720).
  // ResNeXt runs its forward with the "depthwise" grouped conv (same numbers as "split", see
  // layers.test.ts; about 10x faster on wasm).
  const imagenet: [string, number, number, "split" | "depthwise"][] = [
    ["resnet10", 4_905_792, 512, "split"],
    ["resnet50", 23_508_032, 2048, "split"],
    ["resnext50", 22_979_904, 2048, "depthwise"],
  ];
  for (const [name, count, featDim, groupedConv] of imagenet) {
    it(`${name}: ${count} parameters, ${featDim}-d features on 64x64x3`, () => {
      const before = tf.memory().numTensors;
      const m = backbones.get(name)({ inputShape: [64, 64, 3], seed: 1, groupedConv });
      expect(countParams(m.trainable())).toBe(count);
      expect(m.featDim).toBe(featDim);
      const p = m.trainable();
      expect(p.get("conv1.weight")!.shape).toEqual([7, 7, 3, 64]);
      expect(p.has("fc.weight")).toBe(false);
      if (name === "resnext50") {
        expect(p.get("layer1.0.conv1.weight")!.shape).toEqual([1, 1, 64, 128]);
        expect(p.get("layer1.0.conv2.weight")!.shape).toEqual([3, 3, 4, 128]);
        expect(p.get("layer1.0.downsample.0.weight")!.shape).toEqual([1, 1, 64, 256]);
        expect(p.get("layer4.0.conv2.weight")!.shape).toEqual([3, 3, 32, 1024]);
        expect(p.get("layer4.2.conv3.weight")!.shape).toEqual([1, 1, 1024, 2048]);
      }
      const x = tf.tensor4d(testData(64 * 64 * 3, 2), [1, 64, 64, 3]);
      const y = m.apply(x, false);
      expect(y.shape).toEqual([1, featDim]);
      // After ReLU and average pooling every feature is non-negative.
      expect(tf.tidy(() => y.min().dataSync()[0])).toBeGreaterThanOrEqual(0);
      tf.dispose([x, y]);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
