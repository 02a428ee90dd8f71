/**
 * The original code's architectures at full width: every state-dict name and shape of ResNet-10/50/101/152 and
 * ResNeXt-50/101/152 as the original builds them (test/fixtures/torch/archs.json, written by scripts/torch_fixtures.py
 * from PyTorch) exists in this project's backbone with the same shape. Only the names and shapes matter, so the
 * random weight fill is replaced by a no-op (as in test/models/imagenet_deep.test.ts) and all seven build in seconds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";

vi.mock("../../src/models/params.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/models/params.js")>();
  return { ...real, fillNormal: (_rng: unknown, out: Float32Array) => out };
});

import { initBackend } from "../../src/backend.js";
import { backbones } from "../../src/models/index.js";
import { FIXTURES } from "./fixtures.js";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("original architectures at full width", () => {
  const archs: Record<string, [string, number[]][]> = JSON.parse(readFileSync(join(FIXTURES, "archs.json"), "utf8"));
  for (const arch of Object.keys(archs)) {
    it(`${arch}: every state-dict name and shape of the original`, () => {
      const net = backbones.get(arch)({ inputShape: [224, 224, 3], seed: 0 });
      try {
        const ours = new Map([...net.trainable(), ...net.buffers()].map(([k, v]) => [k, v.shape]));
        const theirs = archs[arch].filter(([k]) => !k.endsWith("num_batches_tracked"));
        expect(theirs.length).toBe(ours.size);
        for (const [k, shape] of theirs) {
          const s = ours.get(k);
          expect(s, k).toBeDefined();
          expect(shape.length === 4 ? [s![3], s![2], s![0], s![1]] : s, k).toEqual(shape);
        }
      } finally {
        net.dispose();
      }
    });
  }
});
