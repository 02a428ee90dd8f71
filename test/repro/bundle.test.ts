/**
 * The results bundle end to end on a fake run cache (real files, made-up numbers, no training): export, load and
 * verify; the bundle as a result source gives the same tables as the runs; a report regenerated from the bundle
 * rewrites nothing; a damaged bundle is refused with the file named; an incomplete cache never replaces a bundle;
 * the notebooks' first cell reads it, and stops cleanly without one.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFeatures } from "../../src/features/format.js";
import { BundleError, exportBundle, loadBundle, tryLoadBundle } from "../../src/repro/bundle.js";
import { NotebookStop, openNotebook, walkthrough } from "../../src/repro/context.js";
import { PROFILES, type Profile } from "../../src/repro/profiles.js";
import { figureData, manifests, writeReport } from "../../src/repro/report.js";
import { stage1Plan, stage2Plan } from "../../src/repro/runs.js";
import { layeredSource, runsSource } from "../../src/repro/source.js";
import { collectCells } from "../../src/repro/tables.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { projectRoot } from "../../src/run/manifest.js";
import { D, removeFakeRuns, writeFakeRuns } from "./fake_runs.js";

// Seeds the real smoke profile never uses, so the fake runs cannot collide with cached real ones.
const P: Profile = { ...PROFILES.smoke, seeds: [7, 8], outDir: `build/vitest-bundle-${process.pid}/FashionMNIST_LT` };
const tmp = mkdtempSync(join(tmpdir(), "ltr-bundle-test-"));
const dir = join(tmp, "bundle");
let runDirs: string[] = [];

beforeAll(() => {
  runDirs = writeFakeRuns(P);
});
afterAll(() => {
  removeFakeRuns(runDirs);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(join(projectRoot(), `build/vitest-bundle-${process.pid}`), { recursive: true, force: true });
});

describe("results bundle", () => {
  it("exports a complete cache and loads it back verified", () => {
    const ex = exportBundle(P, dir);
    expect(ex.status).toBe("written");
    expect(ex.bytes).toBeGreaterThan(1000);
    const b = loadBundle(dir);
    expect(b.index.profile).toBe("smoke");
    expect(b.index.seeds).toEqual([7, 8]);
    expect(b.index.representations.map((r) => `${r.sampler}${r.seed}`)).toEqual([
      "IB7",
      "IB8",
      "CB7",
      "CB8",
      "SR7",
      "SR8",
      "PB7",
      "PB8",
    ]);
    expect(b.runs).toHaveLength(8 * 6);
    // float32 classifiers come back exactly
    const ck = loadCheckpoint(join(stage1Plan("feat_shift", 8, P).dir, "best.ckpt")).tensors;
    const c = b.classifiersOf("PB", 8);
    expect(Array.from(c.stage1.weight)).toEqual(Array.from(ck["classifier.fc.weight"].data));
    expect(Array.from(c.stage1.bias)).toEqual(Array.from(ck["classifier.fc.bias"].data));
    expect(c.lws.scales[9]).toBeCloseTo(1.2, 6);
    expect(() => b.classifiersOf("IB", 3)).toThrow(/no representation IB seed 3; it has IB\/seed7/);
    // features: float16 copies (11 significant bits), labels exact
    const f = b.features();
    const orig = readFeatures(join(stage1Plan("feat_uniform", 7, P).dir, "features", "train.ltf"));
    expect([f.train.n, f.train.dim, f.val.n, f.test.n]).toEqual([40, D, 20, 30]);
    expect(Array.from(f.train.labels)).toEqual(Array.from(orig.labels));
    for (let i = 0; i < orig.feats.length; i++)
      expect(Math.abs(f.train.feats[i] - orig.feats[i])).toBeLessThanOrEqual(Math.abs(orig.feats[i]) * 2 ** -11 + 1e-7);
  });

  it("does not rewrite an unchanged bundle", () => {
    const before = statSync(join(dir, "runs.json")).mtimeMs;
    expect(exportBundle(P, dir).status).toBe("unchanged");
    expect(statSync(join(dir, "runs.json")).mtimeMs).toBe(before);
  });

  it("is a result source equal to the run cache, and a report from it rewrites nothing", async () => {
    const runs = runsSource(P);
    const b = loadBundle(dir);
    expect(collectCells(b.source)).toEqual(collectCells(runs));
    expect(figureData(b.source)).toEqual(figureData(runs));
    expect(figureData(b.source)!.tauSweep!.chosenTau).toBe(0.75);
    expect(manifests(b.source)).toEqual(manifests(runs));
    const first = await writeReport(P, { source: runs, render: false });
    expect(first.written).toBe(true);
    expect(first.changed).toContain("grid_table.md");
    const again = await writeReport(P, { source: b.source, render: false });
    expect(again.changed).toEqual([]);
    expect(again.unchanged).toContain("cells.json");
  });

  it("refuses a damaged bundle and names the file", () => {
    const bad = join(tmp, "damaged");
    cpSync(dir, bad, { recursive: true });
    const p = join(bad, "runs.json");
    const text = readFileSync(p, "utf8");
    writeFileSync(p, text.replace('"seed": 7', '"seed": 9'));
    expect(() => loadBundle(bad)).toThrow(BundleError);
    expect(() => loadBundle(bad)).toThrow(/runs\.json does not match its sha256/);
    writeFileSync(p, text);
    rmSync(join(bad, "arrays", "lws_scales.npy"));
    expect(() => loadBundle(bad)).toThrow(/arrays\/lws_scales\.npy is missing.*git checkout/);
    expect(tryLoadBundle(join(tmp, "none"))).toBeNull();
  });

  it("never replaces a bundle or committed results with an incomplete cache", async () => {
    const lws = join(stage2Plan("cls_lws", stage1Plan("feat_shift", 8, P).dir, 8, P).dir, "results.json");
    renameSync(lws, `${lws}.away`);
    try {
      const before = readFileSync(join(dir, "bundle.json"), "utf8");
      const ex = exportBundle(P, dir);
      expect(ex.status).toBe("incomplete");
      expect(ex.missing).toEqual(["PB/cls_lws/seed8"]);
      expect(readFileSync(join(dir, "bundle.json"), "utf8")).toBe(before);
      const partial = await writeReport(P, { source: runsSource(P), render: false, allowPartial: false });
      expect(partial.written).toBe(false);
      expect(partial.missing).toEqual(["PB/LWS/seed8"]);
      // the bundle fills in what the cache lacks
      expect(collectCells(layeredSource(runsSource(P), loadBundle(dir).source)).missing).toEqual([]);
    } finally {
      renameSync(`${lws}.away`, lws);
    }
  });
});

describe("the notebooks' first cell", () => {
  const env = { ...process.env };
  afterAll(() => {
    process.env = env;
  });

  it("reads the bundle in results mode and gives the walkthrough representation", async () => {
    process.env.LTR_BUNDLE = dir;
    process.env.LTR_NOTEBOOK_OUT = join(tmp, "nb-out");
    const ctx = await openNotebook("results", { samplers: ["IB"] });
    expect(ctx.mode).toBe("results");
    expect(ctx.profile.seeds).toEqual([7, 8]);
    expect(ctx.about).toContain("smoke");
    expect(existsSync(join(tmp, "nb-out"))).toBe(true);
    const w = walkthrough(ctx);
    expect([w.sampler, w.seed, w.numClasses, w.dim, w.test.n]).toEqual(["IB", 7, 10, D, 30]);
    expect(w.note).toMatch(/^float16 copies/);
    expect(Object.keys(w.runs)).toEqual(["Joint", "NCM", "cRT", "τ-norm", "LWS"]);
  });

  it("stops with a message and no stack trace when there is no bundle, and never trains", async () => {
    process.env.LTR_BUNDLE = join(tmp, "none");
    const err = await openNotebook("results", { samplers: ["IB"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotebookStop);
    expect((err as Error).message).toMatch(/no results bundle in .*none/);
    expect((err as Error).stack).not.toMatch(/\n\s+at /);
    const bad = await openNotebook("huge").catch((e: unknown) => e);
    expect((bad as Error).message).toContain('choose one of "results", "teach", "full", "smoke"');
  });
});
