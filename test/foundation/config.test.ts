import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.js";
import { configHash, loadConfig, resolveConfig } from "../../src/config/load.js";
import { CONFIG_SCHEMA, ConfigError } from "../../src/config/schema.js";

const dir = mkdtempSync(join(tmpdir(), "ltr-cfg-"));
function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("config loading", () => {
  it("the defaults come from the schema and satisfy it (parsing them again changes nothing)", () => {
    expect(CONFIG_SCHEMA.parse(structuredClone(DEFAULTS))).toStrictEqual(DEFAULTS);
    expect(resolveConfig({}, "empty.yaml").config).toStrictEqual(DEFAULTS);
  });

  it("merges a file onto the defaults and fills nullable sections from their own defaults", () => {
    const f = yamlFile(
      "ok.yaml",
      "training_opt:\n  batch_size: 64\n  sampler: {type: class_balanced}\nnetworks:\n  feat_model:\n    optim_params: {lr: 0.1}\n",
    );
    const { config, source } = loadConfig(f);
    expect(source).toBe(f);
    expect(config.training_opt.batch_size).toBe(64);
    expect(config.training_opt.num_epochs).toBe(DEFAULTS.training_opt.num_epochs);
    expect(config.training_opt.sampler).toEqual({ type: "class_balanced", num_samples_cls: 4, q: 0.5 });
    expect(config.networks.feat_model.optim_params).toEqual({ lr: 0.1, momentum: 0.9, weight_decay: 5e-4 });
  });

  it("rejects an unknown key naming the file, the key path and the valid keys", () => {
    const f = yamlFile("typo.yaml", "training_opt:\n  batchsize: 64\n");
    const e = errorOf(() => loadConfig(f));
    expect(e.message).toContain(f);
    expect(e.message).toContain("unknown key 'training_opt.batchsize'");
    expect(e.message).toContain("batch_size");
  });

  it("rejects a wrong type naming the key and what was expected", () => {
    const f = yamlFile("type.yaml", "training_opt:\n  num_epochs: ten\ncoslr: 1\n");
    const e = errorOf(() => loadConfig(f));
    expect(e.message).toContain("key 'training_opt.num_epochs': expected an integer, got the string \"ten\"");
    expect(e.message).toContain("key 'coslr': expected true or false");
  });

  it("rejects a missing file and an empty or non-mapping file with the file named", () => {
    expect(errorOf(() => loadConfig(join(dir, "nope.yaml"))).message).toMatch(/nope\.yaml[\s\S]*file not found/);
    expect(errorOf(() => loadConfig(yamlFile("empty.yaml", ""))).message).toContain("empty.yaml");
    expect(errorOf(() => loadConfig(yamlFile("list.yaml", "- 1\n- 2\n"))).message).toContain("YAML mapping");
  });

  it("applies --set overrides with type checks", () => {
    const f = yamlFile("base.yaml", "seed: 1\n");
    const { config } = loadConfig(f, [
      "training_opt.num_epochs=2",
      "networks.classifier.optim_params.lr=5e-3",
      "training_opt.sampler.type=square_root",
      "dataset.root=null",
    ]);
    expect(config.training_opt.num_epochs).toBe(2);
    expect(config.networks.classifier.optim_params.lr).toBeCloseTo(0.005);
    expect(config.training_opt.sampler?.type).toBe("square_root");
    expect(config.training_opt.sampler?.num_samples_cls).toBe(4);
    expect(errorOf(() => loadConfig(f, ["training_opt.num_epochs=two"])).message).toContain(
      "--set training_opt.num_epochs=two",
    );
    expect(errorOf(() => loadConfig(f, ["training_opt.epochs=2"])).message).toContain(
      "valid keys under 'training_opt'",
    );
    expect(errorOf(() => loadConfig(f, ["seed"])).message).toContain("key.path=value");
  });

  it("cross-field checks: a stage-2 config needs a stage-1 run (model_dir)", () => {
    const e = errorOf(() => resolveConfig({ stage2: { method: "crt" } }, "cls.yaml"));
    expect(e.message).toContain("cls.yaml");
    expect(e.message).toContain("model_dir");
    const ok = resolveConfig(
      { stage2: { method: "crt" }, model_dir: "runs/x", networks: { feat_model: { fix: true } } },
      "cls.yaml",
    );
    expect(ok.config.stage2?.tau_grid.step).toBeCloseTo(0.1);
    const fix = errorOf(() => resolveConfig({ networks: { feat_model: { fix: true } } }, "f.yaml"));
    expect(fix.message).toContain("networks.feat_model.fix");
    // `fix` is never ignored: stage 2 must freeze the backbone, and no stage freezes the classifier.
    const unfrozen = errorOf(() => resolveConfig({ stage2: { method: "crt" }, model_dir: "runs/x" }, "cls.yaml"));
    expect(unfrozen.message).toMatch(/cls\.yaml[\s\S]*set networks\.feat_model\.fix: true/);
    const ibHead = errorOf(() =>
      resolveConfig(
        {
          stage2: { method: "lws" },
          model_dir: "runs/x",
          networks: { feat_model: { fix: true } },
          training_opt: { sampler: { type: "square_root" } },
        },
        "l.yaml",
      ),
    );
    expect(ibHead.message).toMatch(
      /l\.yaml[\s\S]*training_opt\.sampler\.type 'square_root': lws on features draws class-balanced batches/,
    );
    const stage1Frozen = errorOf(() =>
      resolveConfig({ model_dir: "runs/x", networks: { feat_model: { fix: true } } }, "s1.yaml"),
    );
    expect(stage1Frozen.message).toMatch(
      /s1\.yaml[\s\S]*networks\.feat_model\.fix is true but there is no stage2 section/,
    );
    const frozenHead = errorOf(() => resolveConfig({ networks: { classifier: { fix: true } } }, "c.yaml"));
    expect(frozenHead.message).toMatch(/c\.yaml[\s\S]*networks\.classifier\.fix: true would freeze the classifier/);
  });

  it("hashes configs canonically (key order does not matter, values do)", () => {
    const a = resolveConfig({ seed: 1, coslr: true }, "a").hash;
    const b = resolveConfig({ coslr: true, seed: 1 }, "b").hash;
    const c = resolveConfig({ seed: 2 }, "c").hash;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(configHash(DEFAULTS)).toMatch(/^[0-9a-f]{64}$/);
  });
});
