/**
 * `reproduce:table --verify` (src/repro/verify.ts) on a fake run cache (real files, made-up numbers, no training):
 * outputs written as "committed", regenerated into a temporary folder and compared — identical; a planted change in a
 * committed number is found with its file, key, both values and its run; the ignore rules hold; the committed
 * folder is never written.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/repro/bundle.js";
import { PROFILES, type Profile } from "../../src/repro/profiles.js";
import { writeReport } from "../../src/repro/report.js";
import { runsSource } from "../../src/repro/source.js";
import { compareResults, csvLeaves, formatVerify, textLeaves, verifyProfile } from "../../src/repro/verify.js";
import { projectRoot } from "../../src/run/manifest.js";
import { removeFakeRuns, writeFakeRuns } from "./fake_runs.js";

// Seeds no real profile uses, so the fake runs cannot collide with cached real ones.
const base = `build/vitest-verify-${process.pid}`;
const P: Profile = { ...PROFILES.smoke, seeds: [17, 18], outDir: `${base}/FashionMNIST_LT` };
const out = join(projectRoot(), P.outDir);
let runDirs: string[] = [];

beforeAll(async () => {
  runDirs = writeFakeRuns(P, 5);
  exportBundle(P, join(out, "bundle"));
  await writeReport(P, { source: runsSource(P), render: false, allowPartial: true });
});
afterAll(() => {
  removeFakeRuns(runDirs);
  rmSync(join(projectRoot(), base), { recursive: true, force: true });
});

const edit = (file: string, f: (s: string) => string) =>
  writeFileSync(join(out, file), f(readFileSync(join(out, file), "utf8")));

describe("reproduce:table --verify", () => {
  it("finds every committed number identical when nothing changed, and writes nothing into the committed folder", async () => {
    const before = statSync(join(out, "cells.json")).mtimeMs;
    const v = await verifyProfile(P);
    expect(v.result.differences).toEqual([]);
    expect(v.result.files).toEqual(
      expect.arrayContaining([
        `${P.outDir}/cells.json`,
        `${P.outDir}/manifests.json`,
        `${P.outDir}/grid_table.md`,
        `${P.outDir}/bundle/runs.json`,
        `${P.outDir}/bundle/arrays/crt_fc_weight.npy`,
      ]),
    );
    expect(v.result.numbers).toBeGreaterThan(2000);
    expect(formatVerify(v.result)).toMatch(/^identical: \d+ numbers in \d+ files/);
    expect(v.kept).toBe(false);
    expect(existsSync(v.dir)).toBe(false);
    expect(statSync(join(out, "cells.json")).mtimeMs).toBe(before);
  });

  it("lists a planted change with file, key, committed and regenerated value, and the run and manifest behind it", async () => {
    const cells = JSON.parse(readFileSync(join(out, "cells.json"), "utf8")) as { few: number; run: string }[];
    const target = cells[7];
    const was = target.few;
    edit("cells.json", (s) => s.replace(`"few": ${was},`, `"few": ${was + 0.01},`));
    try {
      const v = await verifyProfile(P);
      expect(v.result.differences).toEqual([
        {
          file: `${P.outDir}/cells.json`,
          key: `[${target.run}].few`,
          committed: was + 0.01,
          regenerated: was,
          runs: [target.run],
        },
      ]);
      const text = formatVerify(v.result);
      expect(text).toContain(`1 differences`);
      expect(text).toContain(
        `committed ${was + 0.01}, regenerated ${was}; run ${target.run} (manifest ${target.run}/manifest.json)`,
      );
      expect(v.kept).toBe(true);
      rmSync(v.dir, { recursive: true, force: true });
    } finally {
      edit("cells.json", (s) => s.replace(`"few": ${was + 0.01},`, `"few": ${was},`));
    }
  });

  it("finds a changed table number and names the runs of its row", async () => {
    const line = readFileSync(join(out, "grid_table.md"), "utf8")
      .split("\n")
      .find((l) => l.startsWith("| SR | cRT |"))!;
    const many = line.split("|")[3].trim(); // "mean ± sd"
    edit("grid_table.md", (s) => s.replace(line, line.replace(many, `${many.split(" ")[0]}9 ± ${many.split(" ")[2]}`)));
    try {
      expect(compareResults(projectRoot(), projectRoot(), P).differences).toEqual([]); // the folder against itself
      const v = await verifyProfile(P);
      rmSync(v.dir, { recursive: true, force: true });
      const d = v.result.differences;
      expect(d).toHaveLength(1);
      expect(d[0].file).toBe(`${P.outDir}/grid_table.md`);
      expect(d[0].key).toBe('row "SR / cRT" column "Many"');
      expect(d[0].committed).toBe(Number(`${many.split(" ")[0]}9`));
      expect(d[0].regenerated).toBe(Number(many.split(" ")[0]));
      expect(d[0].runs).toHaveLength(2);
      for (const r of d[0].runs)
        expect(r).toMatch(/feat_squareroot_seed1[78]-[0-9a-f]{8}\/cls_crt_seed1[78]-[0-9a-f]{8}$/);
    } finally {
      edit("grid_table.md", (s) => s.replace(/^\| SR \| cRT \|.*$/m, line));
    }
  });

  it("reports a file present on one side only as one line", async () => {
    const p = join(out, "figure_data.json");
    const keep = readFileSync(p);
    rmSync(p);
    try {
      const v = await verifyProfile(P);
      rmSync(v.dir, { recursive: true, force: true });
      expect(v.result.differences).toEqual([
        {
          file: `${P.outDir}/figure_data.json`,
          key: "(whole file)",
          committed: null,
          regenerated: expect.any(Number),
          runs: [],
          onlyIn: "regenerated",
        },
      ]);
      expect(formatVerify(v.result)).toMatch(/figure_data\.json: only regenerated, not committed \(\d+ numbers\)/);
    } finally {
      writeFileSync(p, keep);
    }
  });

  it("ignores wall times, speeds and machine fields", async () => {
    const m = JSON.parse(readFileSync(join(out, "manifests.json"), "utf8")) as Record<string, unknown>[];
    const orig = `${JSON.stringify(m, null, 2)}\n`;
    const baseline = compareResults(projectRoot(), projectRoot(), P).ignored; // the bundle's file sizes
    m[0].wall_time_s = 123.4;
    m[0].machine = { cpu: "Other CPU", cores: 64, memory_gib: 512 };
    m[1].summary = { images_per_s: 999 };
    writeFileSync(join(out, "manifests.json"), `${JSON.stringify(m, null, 2)}\n`);
    try {
      const v = await verifyProfile(P);
      expect(v.result.differences).toEqual([]);
      expect(v.result.ignored - baseline).toBe(4);
    } finally {
      writeFileSync(join(out, "manifests.json"), orig);
    }
  });

  it("keys text and CSV numbers by row and column", () => {
    expect(
      textLeaves("| Classifier | Many | All |\n|---|---|---|\n| τ-norm (τ=0.70) | 80.5 ± 1.2 | 60.0 |").map(
        (l) => `${l.key}=${l.value}`,
      ),
    ).toEqual([
      'row "τ-norm" column "Classifier"=0.7',
      'row "τ-norm" column "Many"=80.5',
      'row "τ-norm" column "Many" #2=1.2',
      'row "τ-norm" column "All"=60',
    ]);
    expect(
      csvLeaves("tau,sampler,classifier,n,all\n,IB,cRT,3,75.5\n0.7,IB,τ-norm,3,76").map((l) => `${l.key}=${l.value}`),
    ).toEqual([
      "row IB/cRT column n=3",
      "row IB/cRT column all=75.5",
      "row IB/τ-norm column tau=0.7",
      "row IB/τ-norm column n=3",
      "row IB/τ-norm column all=76",
    ]);
  });
});
