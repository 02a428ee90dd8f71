/**
 * The zod schema as the single source of the config (src/config/schema.ts): the defaults it gives are the documented
 * recipe (and hash as before, so cached runs keep their names), a resolved config is laid out in the schema's order
 * whatever the file's order, docs/CONFIG.md is generated from it, and its error messages name the key, the bad value
 * and the valid keys.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { DEFAULTS, STAGE2_DEFAULTS, samplerOf } from "../../src/config/defaults.js";
import { configDoc, configSections } from "../../src/config/doc.js";
import { configHash, dumpConfig, resolveConfig } from "../../src/config/load.js";
import { schemaAt } from "../../src/config/problems.js";
import { CONFIG_SCHEMA, ConfigError } from "../../src/config/schema.js";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

/** Every dotted key path of a resolved config, mappings included. */
function keyPaths(v: unknown, prefix = ""): string[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...keyPaths(x, p)];
  });
}

const STAGE2_OK = { model_dir: "runs/x", networks: { feat_model: { fix: true } } };

describe("the config schema", () => {
  it("gives the documented defaults, which hash as they did before the schema moved to zod", () => {
    // The defaults as they were written out by hand in defaults.ts; the hash is the one every cached run's name was
    // derived from (docs/run-folders.md).
    expect(DEFAULTS).toStrictEqual({
      seed: 0,
      backend: "auto",
      training_opt: {
        dataset: "FashionMNIST_LT",
        num_classes: 10,
        batch_size: 128,
        num_epochs: 30,
        sampler: null,
        log_dir: null,
        stage: "feat_uniform",
        display_step: 10,
        eval_batch_size: 512,
      },
      dataset: {
        root: null,
        imb_factor: 1000,
        profile: "exp",
        n_max: null,
        subset_seed: 0,
        val_per_class: 100,
        augment: true,
        train_list: null,
        val_list: null,
        test_list: null,
        image_root: null,
      },
      networks: {
        feat_model: { type: "resnet8", fix: false, optim_params: { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 } },
        classifier: { type: "linear", fix: false, optim_params: { lr: 0.05, momentum: 0.9, weight_decay: 5e-4 } },
      },
      coslr: true,
      endlr: 0,
      shuffle: false,
      model_dir: null,
      stage2: null,
    });
    expect(configHash(DEFAULTS)).toBe("bf8943e4b82087a77edbbfd374be29894a149396ac3c5df3334e73447b072458");
    expect(STAGE2_DEFAULTS).toStrictEqual({
      method: "crt",
      input: "features",
      bn_mode: "eval",
      tau_grid: { start: 0, stop: 2, step: 0.1 },
      ncm: { feat_type: "cl2n", dist: "l2" },
    });
  });

  it("resolves the shipped configs to the hashes of the cached runs", () => {
    const hash = (f: string) => resolveConfig(readYaml(f), f).hash;
    // cls_lws changed on purpose when it stopped setting two keys nothing read (shuffle and the frozen backbone's
    // optim_params, src/train/unread_keys.ts); its numbers did not (docs/CONFIG.md, "Keys with no effect").
    expect(hash("config/FashionMNIST_LT/cls_lws.yaml")).toBe(
      "fa577b1b33dec60f62fd682326923e2d29933915bd38ba10eefe50fe11e1a360",
    );
    expect(hash("config/FashionMNIST_LT/feat_shift.yaml")).toBe(
      "7b6c662aaf8c12bc75a68fb83fb1140fa9a5f6fdb4d79dcb56d83aa71d1392c7",
    );
  });

  it("lays a resolved config out in the schema's order, whatever the order of the file", () => {
    const a = resolveConfig(
      {
        stage2: { ncm: { dist: "cos" }, method: "ncm" },
        training_opt: { sampler: { q: 0.2, type: "q_power" } },
        ...STAGE2_OK,
      },
      "a.yaml",
    ).config;
    const b = resolveConfig({ ...STAGE2_OK, training_opt: { sampler: { type: "q_power", q: 0.2 } } }, "b.yaml", [
      "stage2.method=ncm",
      "stage2.ncm.dist=cos",
    ]).config;
    expect(dumpConfig(a)).toBe(dumpConfig(b));
    expect(Object.keys(a.training_opt.sampler!)).toEqual(["type", "num_samples_cls", "q"]);
    expect(Object.keys(a.stage2!)).toEqual(["method", "input", "bn_mode", "tau_grid", "ncm"]);
    expect(keyPaths(a).filter((p) => !p.startsWith("stage2.") && !p.startsWith("training_opt.sampler."))).toEqual(
      keyPaths(DEFAULTS),
    );
  });

  it("a null sampler is the schema's default sampler (instance-balanced, 4 per class visit)", () => {
    expect(DEFAULTS.training_opt.sampler).toBeNull();
    expect(samplerOf(DEFAULTS)).toEqual({ type: "instance_balanced", num_samples_cls: 4, q: 0.5 });
    const cb = resolveConfig({ training_opt: { sampler: { type: "class_balanced", num_samples_cls: 2 } } }, "c").config;
    expect(samplerOf(cb)).toBe(cb.training_opt.sampler);
  });

  it("names the key, the bad value, what was expected and the valid keys", () => {
    const m = messageOf(() =>
      resolveConfig(
        {
          seed: 1.5,
          dataset: { profile: "linear", n_max: 0 },
          networks: { feat_model: { optim_params: { momentum: 2 } } },
          training_opt: { sampler: { type: "class_balanced", per_class: 4 } },
        },
        "bad.yaml",
      ),
    );
    expect(m).toContain("invalid config bad.yaml:");
    expect(m).toContain("key 'seed': expected an integer, got 1.5");
    expect(m).toContain("key 'dataset.profile': expected one of exp | step, got the string \"linear\"");
    expect(m).toContain("key 'dataset.n_max': must be >= 1, got 0");
    expect(m).toContain("key 'networks.feat_model.optim_params.momentum': must be <= 1, got 2");
    expect(m).toContain(
      "unknown key 'training_opt.sampler.per_class'; valid keys here: type, num_samples_cls, q, epochs",
    );
    expect(messageOf(() => resolveConfig({ stage2: { tau_grid: { step: 0 } }, ...STAGE2_OK }, "t.yaml"))).toContain(
      "key 'stage2.tau_grid.step': must be > 0, got 0",
    );
    expect(messageOf(() => resolveConfig({}, "s.yaml", ["stage2={method: crt, inputs: images}"]))).toMatch(
      /--set stage2=\{method: crt, inputs: images\}:\n {2}- unknown key 'stage2.inputs'; valid keys here: method, input/,
    );
    expect(messageOf(() => resolveConfig({}, "s.yaml", ["seed.x=1"]))).toContain(
      "'seed' is not a mapping, so 'seed.x' does not exist",
    );
  });

  it("docs/CONFIG.md is generated from the schema (run npm run docs:config after changing a key)", () => {
    const file = readFileSync(join(import.meta.dirname, "..", "..", "docs", "CONFIG.md"), "utf8");
    expect(file, "docs/CONFIG.md is out of date: npm run docs:config").toBe(configDoc());
  });

  it("every key has a description, and every key the docs list is a key of the schema", () => {
    const rows = configSections().flatMap((s) => s.rows);
    for (const r of rows) {
      expect(r.doc, r.key).not.toBe("");
      expect(() => schemaAt(CONFIG_SCHEMA, r.key)).not.toThrow();
    }
    const documented = new Set(rows.map((r) => r.key));
    // Both null sections given, and the optional sampler key: every key there is.
    const full = CONFIG_SCHEMA.parse({ stage2: {}, training_opt: { sampler: { epochs: 3 } } });
    for (const p of keyPaths(full)) expect(documented.has(p), p).toBe(true);
    expect(documented.size).toBe(keyPaths(full).length);
  });
});

function readYaml(f: string): unknown {
  return load(readFileSync(join(import.meta.dirname, "..", "..", f), "utf8"));
}
