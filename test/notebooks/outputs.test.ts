/**
 * Cheap checks of the committed notebooks (no kernel): each is valid nbformat-4 JSON with the tslab kernelspec,
 * imports the library only as a user would, `from "decoupling-lt"` (the compiled package; docs/ARCHITECTURE.md),
 * and the folder holds exactly the expected notebooks. Plus the notebook helpers that need no tensors:
 * the synthetic feature stand-in of notebook 07 and the feature-folder loader.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeNpy } from "../../src/features/npy.js";
import {
  assertOutputs,
  besidePaper,
  loadFeatureFolder,
  missingFeatureFiles,
  PAPER_IMAGENET_LT,
  recordsTable,
} from "../../src/repro/notebook.js";
import { syntheticLongTail } from "../../src/repro/synthetic_features.js";

const NB_DIR = join(process.cwd(), "notebooks");
const EXPECTED = [
  "00_quickstart.ipynb",
  "01_long_tailed_data.ipynb",
  "02_sampling_strategies.ipynb",
  "03_classifier_balancing.ipynb",
  "04_weight_norms.ipynb",
  "05_tau_sweep.ipynb",
  "06_sampler_classifier_grid.ipynb",
  "07_imagenet_lt_from_features.ipynb",
];

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { ltr?: { expect?: unknown } };
}
/** The replay's own validator of `metadata.ltr.expect` (scripts/replay-notebooks.cjs exports it). */
const { expectSchemaProblems } = createRequire(import.meta.url)("../../scripts/replay-notebooks.cjs") as {
  expectSchemaProblems: (e: unknown) => string[];
};
const sourceOf = (c: Cell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

describe("notebooks/", () => {
  it("holds exactly the expected notebooks", () => {
    const found = readdirSync(NB_DIR)
      .filter((f) => f.endsWith(".ipynb"))
      .sort();
    expect(found).toEqual(EXPECTED);
  });

  for (const name of EXPECTED) {
    it(`${name}: nbformat 4 JSON, tslab kernel, imports only the package and node: built-ins, ends with the outputs check`, () => {
      const nb = JSON.parse(readFileSync(join(NB_DIR, name), "utf8"));
      expect(nb.nbformat).toBe(4);
      expect(nb.metadata.kernelspec).toEqual({ display_name: "TypeScript", language: "typescript", name: "tslab" });
      expect(nb.metadata.language_info.name).toBe("typescript");
      const code = (nb.cells as Cell[]).filter((c) => c.cell_type === "code").map(sourceOf);
      expect(code.length).toBeGreaterThan(0);
      const specs = code.flatMap((s) => [...s.matchAll(/\bfrom\s+"([^"]+)"/g)].map((m) => m[1]));
      expect(specs).toContain("decoupling-lt");
      expect(
        specs.filter((s) => s !== "decoupling-lt" && !s.startsWith("node:")),
        `${name} imports other modules`,
      ).toEqual([]);
      expect(code.join("\n")).not.toMatch(/\.\.?\/src\//);
      if (name !== "01_long_tailed_data.ipynb") expect(code[code.length - 1]).toContain("assertOutputs(outputs)");
    });

    it(`${name}: every code cell declares what it shows (metadata.ltr.expect, valid for the replay)`, () => {
      const nb = JSON.parse(readFileSync(join(NB_DIR, name), "utf8"));
      (nb.cells as Cell[]).forEach((c, i) => {
        if (c.cell_type !== "code") return;
        const exp = c.metadata?.ltr?.expect;
        expect(exp, `cell ${i + 1} has no metadata.ltr.expect`).toBeDefined();
        expect(expectSchemaProblems(exp), `cell ${i + 1}`).toEqual([]);
      });
      // and most cells promise something concrete: an output kind or a pattern, not just "runs"
      const concrete = (nb.cells as Cell[])
        .filter((c) => c.cell_type === "code")
        .filter((c) => {
          const e = c.metadata?.ltr?.expect as Record<string, unknown> | undefined;
          return e && (e.outputs || e.text || e.match);
        });
      expect(concrete.length).toBeGreaterThanOrEqual(
        (nb.cells as Cell[]).filter((c) => c.cell_type === "code").length - 1,
      );
    });

    it(`${name}: committed without outputs or execution counts`, () => {
      const nb = JSON.parse(readFileSync(join(NB_DIR, name), "utf8"));
      for (const [i, c] of (
        nb.cells as (Cell & {
          metadata: { ltr?: { expect?: unknown } };
          outputs?: unknown[];
          execution_count?: unknown;
        })[]
      ).entries()) {
        if (c.cell_type !== "code") continue;
        expect(c.outputs, `${name} cell ${i + 1} is committed with outputs`).toEqual([]);
        expect(c.execution_count).toBeNull();
      }
    });

    if (/^0[02-6]_/.test(name)) {
      it(`${name}: the first code cell chooses the profile, "results" by default, LTR_PROFILE overriding it`, () => {
        const nb = JSON.parse(readFileSync(join(NB_DIR, name), "utf8"));
        const first = sourceOf((nb.cells as Cell[]).find((c) => c.cell_type === "code")!);
        expect(first).toMatch(/^\/\/ Where the numbers come from/);
        expect(first).toContain('const profile = "results";');
        expect(first).toContain("openNotebook(process.env.LTR_PROFILE || profile, needs)");
        expect(first).toContain("showMarkdown(choiceTable(needs))");
      });
    }
  }
});

describe("syntheticLongTail", () => {
  const small = {
    numClasses: 6,
    dim: 8,
    nMax: 60,
    imbFactor: 12,
    valPerClass: 3,
    testPerClass: 4,
    joint: { epochs: 2 },
  };

  it("is seeded, long-tailed and consistent in shape", () => {
    const a = syntheticLongTail(small);
    const b = syntheticLongTail(small);
    expect(a.trainCounts).toEqual([60, 36, 22, 13, 8, 5]);
    expect(a.train.n).toBe(144);
    expect(a.val.n).toBe(18);
    expect(a.test.n).toBe(24);
    expect(a.stage1.weight.length).toBe(6 * 8);
    expect(a.stage1.bias.length).toBe(6);
    expect(Array.from(a.train.feats.subarray(0, 4))).toEqual(Array.from(b.train.feats.subarray(0, 4)));
    expect(Array.from(a.stage1.weight)).toEqual(Array.from(b.stage1.weight));
    expect(syntheticLongTail({ ...small, seed: 1 }).train.feats[0]).not.toBe(a.train.feats[0]);
    expect(a.description).toContain("synthetic");
  });

  it("rejects bad arguments with the field name", () => {
    expect(() => syntheticLongTail({ ...small, dim: 0 })).toThrow(/dim must be an integer >= 1/);
    expect(() => syntheticLongTail({ ...small, separation: -1 })).toThrow(/separation must be > 0/);
  });
});

describe("feature folder and tables", () => {
  const dir = mkdtempSync(join(tmpdir(), "ltr-nb-feats-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads a complete folder and names what is missing", () => {
    expect(missingFeatureFiles(dir)).toHaveLength(8);
    const feats = Float32Array.from({ length: 4 * 3 }, (_, i) => i / 10);
    for (const s of ["train", "val", "test"]) {
      writeNpy(join(dir, `${s}_feats.npy`), feats, [4, 3]);
      writeNpy(join(dir, `${s}_labels.npy`), Int32Array.from([0, 0, 1, 1]), [4]);
    }
    writeNpy(join(dir, "fc_weight.npy"), new Float32Array(2 * 3), [2, 3]);
    expect(() => loadFeatureFolder(dir)).toThrow(/missing fc_bias\.npy/);
    writeNpy(join(dir, "fc_bias.npy"), new Float32Array(2), [2]);
    const f = loadFeatureFolder(dir);
    expect(f.numClasses).toBe(2);
    expect(f.trainCounts).toEqual([2, 2]);
    expect(f.test.dim).toBe(3);
    writeNpy(join(dir, "fc_bias.npy"), new Float32Array(3), [3]);
    expect(() => loadFeatureFolder(dir)).toThrow(/fc_bias\.npy: expected a float array \[2\]/);
  });

  it("puts our rows beside the paper's and checks outputs", () => {
    const rows = besidePaper(
      [{ name: "Joint", many: 50, medium: 20.04, few: 1, all: 30 }],
      PAPER_IMAGENET_LT.classifier,
    );
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({ method: "Joint", "Many ours": 50, "Many paper": 65.9, "Medium ours": 20 });
    expect(rows[1]["All ours"]).toBeNull();
    const t = recordsTable(rows);
    expect(t.markdown.split("\n")[0]).toBe(
      "| method | Many ours | Many paper | Medium ours | Medium paper | Few ours | Few paper | All ours | All paper |",
    );
    expect(t.csv.split("\n")[2]).toBe("NCM,,56.6,,45.3,,28.1,,47.3");
    expect(() => assertOutputs([join(dir, "nope.md")], dir)).toThrow(/1 of 1 outputs are missing or empty: nope\.md/);
    expect(assertOutputs([join(dir, "fc_bias.npy")], dir)).toContain("all 1 outputs present");
  });
});
