/**
 * The classifier registry walked entry by entry: every method runs on tiny synthetic features and returns val and
 * test metrics and per-class weight norms; every entry describes itself completely (docs/ARCHITECTURE.md, "The
 * five classifiers"); unknown names fail with the valid ones. A method added to src/classifiers/methods/ is covered
 * here without a new line.
 */

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLASSIFIER_METHODS, classifierMethods, classifiers, methodsInOrder } from "../../src/classifiers/registry.js";
import { loadConfig } from "../../src/config/load.js";
import { HEAD_NAMES } from "../../src/train/head_names.js";
import { clusters, randomMatrix } from "./helpers.js";

const C = 3;
const DIM = 4;
const train = clusters([12, 6, 3], DIM, 1);
const val = clusters([4, 4, 4], DIM, 2);
const test = clusters([5, 5, 5], DIM, 3);
const args = {
  train,
  val,
  test,
  trainCounts: [12, 6, 3],
  numClasses: C,
  stage1: { weight: randomMatrix(C, DIM, 4), bias: new Float32Array(C) },
};
/** Small enough for the trained methods to finish at once: 2 epochs of batch 4. */
const tiny: Record<string, unknown> = { epochs: 2, batchSize: 4 };
const optionsOf = (name: string) =>
  Object.fromEntries(Object.entries(tiny).filter(([k]) => Object.hasOwn(classifierMethods.get(name).options, k)));

describe("classifier registry", () => {
  it("holds one entry per method, in table order, each fully described", () => {
    expect(CLASSIFIER_METHODS.length).toBeGreaterThanOrEqual(5);
    expect(CLASSIFIER_METHODS.slice(0, 5).map((m) => m.name)).toEqual(["joint", "ncm", "crt", "tau_norm", "lws"]);
    const seen = { labels: new Set<string>(), stages: new Set<string>() };
    for (const m of CLASSIFIER_METHODS) {
      expect(classifierMethods.get(m.name)).toBe(m);
      expect(m.label.length).toBeGreaterThan(0);
      expect(m.summary.length).toBeGreaterThan(0);
      expect(m.plot.color).toMatch(/^#[0-9a-f]{6}$/);
      expect(seen.labels.has(m.label) || seen.stages.has(m.stage)).toBe(false);
      seen.labels.add(m.label);
      seen.stages.add(m.stage);
      if (m.imagesHead !== undefined) expect(HEAD_NAMES).toContain(m.imagesHead);
      for (const [key, spec] of Object.entries(m.options)) {
        expect(spec.doc.length, `${m.name}.${key}`).toBeGreaterThan(0);
        expect(spec.default, `${m.name}.${key}`).not.toBeUndefined();
      }
    }
  });

  for (const m of CLASSIFIER_METHODS) {
    it(`${m.name} runs on tiny features: val and test metrics, weight norms`, async () => {
      const r = await classifiers.get(m.name)({ ...args, options: optionsOf(m.name) });
      expect(r.name).toBe(m.name);
      for (const split of [r.val, r.test]) {
        expect(split.top1).toBeGreaterThanOrEqual(0);
        expect(split.top1).toBeLessThanOrEqual(1);
        expect(split.perClass).toHaveLength(C);
      }
      expect(r.weightNorms).toHaveLength(C);
      for (const x of r.weightNorms) expect(Number.isFinite(x)).toBe(true);
    });

    it(`${m.name} maps a stage-2 config to options it accepts`, async () => {
      // A stage-2 config of the reproduction, pointed at this method, trained for one epoch of batch 4.
      const { config } = loadConfig("config/FashionMNIST_LT/cls_crt.yaml", [
        `stage2.method=${m.name}`,
        "training_opt.num_epochs=1",
        "training_opt.batch_size=4",
      ]);
      const options = m.configOptions(config);
      for (const key of Object.keys(options)) expect(Object.keys(m.options)).toContain(key);
      await expect(classifiers.get(m.name)({ ...args, options })).resolves.toMatchObject({ name: m.name });
    });

    it(`${m.name} refuses an unknown option, naming the valid ones`, async () => {
      await expect(classifiers.get(m.name)({ ...args, options: { noSuchOption: 1 } })).rejects.toThrow(
        `classifier '${m.name}', option 'noSuchOption': unknown option; valid options: ${Object.keys(m.options).join(", ")}`,
      );
    });

    if (m.needsStage1Weights) {
      it(`${m.name} checks the stage-1 classifier's shape`, async () => {
        const stage1 = { weight: new Float32Array(C * DIM - 1), bias: new Float32Array(C) };
        await expect(classifiers.get(m.name)({ ...args, stage1 })).rejects.toThrow(/stage1\.weight has/);
      });
    }
  }

  it("an unknown name lists the valid ones", () => {
    const valid = CLASSIFIER_METHODS.map((m) => m.name).sort();
    expect(() => classifierMethods.get("nope", "stage2.method")).toThrow(
      `unknown classifier 'nope' (at stage2.method); valid classifiers: ${valid.join(", ")}`,
    );
    expect(() => classifiers.get("nope")).toThrow(`valid classifiers: ${valid.join(", ")}`);
  });

  it("the generated list holds every file of the methods folder (scripts/gen-methods.mjs)", async () => {
    // @ts-expect-error: a plain-Node script without type declarations
    const gen = (await import("../../scripts/gen-methods.mjs")) as {
      methodFiles(): string[];
      listSource(files: string[]): string;
    };
    const files = gen.methodFiles();
    expect(files.map((f) => f.replace(/\.ts$/, ""))).toEqual(CLASSIFIER_METHODS.map((m) => m.name).sort());
    expect(readFileSync("src/classifiers/methods/index.ts", "utf8")).toBe(gen.listSource(files));
    expect(readdirSync("src/classifiers/methods")).toContain("index.ts");
  });

  it("refuses a list that misses a method file, a file named unlike its entry, and a shared order", () => {
    const [joint, ncm] = [classifierMethods.get("joint"), classifierMethods.get("ncm")];
    const listed = [
      ["joint", joint],
      ["ncm", ncm],
    ] as const;
    expect(methodsInOrder(["ncm.ts", "joint.ts", "index.ts"], listed).map((m) => m.name)).toEqual(["joint", "ncm"]);
    expect(methodsInOrder(["ncm.js", "ncm.d.ts", "joint.js", "index.js", "joint.js.map"], listed)).toHaveLength(2);
    expect(() => methodsInOrder(["joint.ts", "ncm.ts", "prior_shift.ts"], listed)).toThrow(
      /methods\/prior_shift\.ts is a classifier method file that the generated list .* does not hold.*node scripts\/gen-methods\.mjs/,
    );
    expect(() =>
      methodsInOrder(
        ["joint.ts", "knn.ts"],
        [
          ["joint", joint],
          ["knn", ncm],
        ],
      ),
    ).toThrow("classifier method file methods/knn: its entry is named 'ncm'; name the file ncm");
    expect(() =>
      methodsInOrder(
        ["joint.ts", "ncm.ts"],
        [
          ["joint", joint],
          ["ncm", { ...ncm, order: joint.order }],
        ],
      ),
    ).toThrow(`classifier methods 'joint' and 'ncm' both have order ${joint.order}; give each its own`);
  });
});
