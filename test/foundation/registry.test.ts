import { describe, expect, it } from "vitest";
import { Registry } from "../../src/registry.js";

describe("Registry", () => {
  it("looks items up and lists the valid names on a miss", () => {
    const r = new Registry<number>("sampler").register("class_balanced", 1).register("instance_balanced", 2);
    expect(r.get("class_balanced")).toBe(1);
    expect(r.names()).toEqual(["class_balanced", "instance_balanced"]);
    expect(() => r.get("balanced", "training_opt.sampler.type")).toThrow(
      "unknown sampler 'balanced' (at training_opt.sampler.type); valid samplers: class_balanced, instance_balanced",
    );
    expect(() => r.register("class_balanced", 3)).toThrow(/already registered/);
  });
});

describe("the tensor-free name lists the config check reads", () => {
  it("name exactly what the backbone and head registries hold", async () => {
    const { backbones } = await import("../../src/models/backbones.js");
    const { backboneNames } = await import("../../src/models/resnet_specs.js");
    const { HEADS } = await import("../../src/train/heads.js");
    const { HEAD_NAMES } = await import("../../src/train/head_names.js");
    expect(backboneNames()).toEqual(backbones.names());
    expect(backboneNames()).toContain("resnext50");
    expect([...HEAD_NAMES].sort()).toEqual(HEADS.names());
  });
});
