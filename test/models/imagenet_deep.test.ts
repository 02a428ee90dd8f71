/**
 * Exact parameter counts of the deep ImageNet backbones (ResNet-101/152, ResNeXt-101/152) against torchvision's
 * totals. Building them for real spends ~25 s drawing 200M He-normal values; the count depends only on the
 * architecture, so here the random fill is replaced by a no-op (the variables keep their shapes, with zeros) and
 * the four models build in ~3 s. Everything else — the ResNet constructor, blocks, convs, BN, names — is the real code.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it, vi } from "vitest";

vi.mock("../../src/models/params.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/models/params.js")>();
  return { ...real, fillNormal: (_rng: unknown, out: Float32Array) => out };
});

import { initBackend } from "../../src/backend.js";
import { backbones, countParams } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("wasm");
});

/**
 * Independent count of a torchvision-style bottleneck ResNet/ResNeXt without fc: 7×7 stem to 64 ch + BN, stages of
 * planes 64/128/256/512, inner width ⌊planes·widthPerGroup/64⌋·groups, 1×1 → grouped 3×3 → 1×1 (×4), a 1×1 + BN
 * projection on each stage's first block, BN = 2 parameters per channel.
 */
function bottleneckCount(layers: number[], groups = 1, widthPerGroup = 64): number {
  let total = 7 * 7 * 3 * 64 + 2 * 64;
  let inC = 64;
  [64, 128, 256, 512].forEach((planes, s) => {
    for (let b = 0; b < layers[s]; b++) {
      const w = Math.floor((planes * widthPerGroup) / 64) * groups;
      const out = 4 * planes;
      total += inC * w + 2 * w + 9 * (w / groups) * w + 2 * w + w * out + 2 * out;
      if (b === 0) total += inC * out + 2 * out;
      inC = out;
    }
  });
  return total;
}

describe("deep ImageNet backbones", () => {
  it("the independent formula reproduces torchvision's totals (minus the 2048x1000+1000 fc)", () => {
    const fc = 2048 * 1000 + 1000;
    expect(bottleneckCount([3, 4, 6, 3]) + fc).toBe(25_557_032); // resnet50
    expect(bottleneckCount([3, 4, 23, 3]) + fc).toBe(44_549_160); // resnet101
    expect(bottleneckCount([3, 8, 36, 3]) + fc).toBe(60_192_808); // resnet152
    expect(bottleneckCount([3, 4, 6, 3], 32, 4) + fc).toBe(25_028_904); // resnext50_32x4d
    expect(bottleneckCount([3, 4, 23, 3], 32, 4) + fc).toBe(44_177_704); // resnext101_32x4d
  });

  // torchvision resnet101 44,549,160 and resnet152 60,192,808, resnext101_32x4d 44,177,704, each minus its fc;
  // ResNeXt-152 32x4d (no torchvision model) from the formula above.
  it.each([
    ["resnet101", 42_500_160, [3, 4, 23, 3], 1, 64],
    ["resnet152", 58_143_808, [3, 8, 36, 3], 1, 64],
    ["resnext101", 42_128_704, [3, 4, 23, 3], 32, 4],
    ["resnext152", 57_902_400, [3, 8, 36, 3], 32, 4],
  ] as const)("%s: %i parameters, 2048-d features", (name, want, layers, groups, widthPerGroup) => {
    const before = tf.memory().numTensors;
    const m = backbones.get(name)({ inputShape: [64, 64, 3], seed: 0 });
    try {
      expect(countParams(m.trainable())).toBe(want);
      expect(bottleneckCount([...layers], groups, widthPerGroup)).toBe(want);
      expect(m.featDim).toBe(2048);
      expect(m.trainable().get("conv1.weight")!.shape).toEqual([7, 7, 3, 64]);
      expect(m.trainable().has("fc.weight")).toBe(false);
    } finally {
      m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
