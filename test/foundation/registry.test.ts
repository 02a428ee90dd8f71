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
