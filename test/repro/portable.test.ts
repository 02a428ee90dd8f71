/**
 * No machine paths in manifests (src/run/portable.ts, docs/run-folders.md "Paths in manifests"): the rules on single
 * paths and free text; a real stage-1 run and a classifier on it write path-free manifest.json and results.json; the
 * exports (manifests.json, the bundle's runs.json) are path-free also for manifests written by older code.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { loadConfig } from "../../src/config/load.js";
import { exportBundle } from "../../src/repro/bundle.js";
import { PROFILES, type Profile } from "../../src/repro/profiles.js";
import { manifests } from "../../src/repro/report.js";
import { stage1Plan, stage2Plan } from "../../src/repro/runs.js";
import { runsSource } from "../../src/repro/source.js";
import { projectRoot } from "../../src/run/manifest.js";
import { exportedRecord, OUTSIDE_PROJECT, portablePath, portableText } from "../../src/run/portable.js";
import { buildDataset } from "../../src/train/build.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { trainStage2 } from "../../src/train/stage2.js";
import { writeSyntheticFmnist } from "../helpers/synthetic_fmnist.js";
import { removeFakeRuns, writeFakeRuns } from "./fake_runs.js";

const root = projectRoot();
const base = `build/vitest-portable-${process.pid}`;

/** Every absolute path in a JSON text, outside the `config` sections (kept as resolved: config_hash covers them). */
function absolutePaths(v: unknown): string[] {
  const strip = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(strip)
      : x && typeof x === "object"
        ? Object.fromEntries(
            Object.entries(x)
              .filter(([k]) => k !== "config")
              .map(([k, y]) => [k, strip(y)]),
          )
        : x;
  const text = JSON.stringify(strip(v));
  return [...text.matchAll(/(?:^|[\s(["'=:])(\/(?!\/)[^\s)"'\],;]+)/g)].map((m) => m[1]);
}

afterAll(() => rmSync(join(root, base), { recursive: true, force: true }));

describe("portable paths", () => {
  it("project-relative inside the project, the last component behind a marker outside it", () => {
    expect(portablePath(join(root, "config", "FashionMNIST_LT", "feat_uniform.yaml"), root)).toBe(
      "config/FashionMNIST_LT/feat_uniform.yaml",
    );
    expect(portablePath(root, root)).toBe(".");
    expect(portablePath("/usr/share/datasets/fashion-mnist", "/work/p")).toBe(`${OUTSIDE_PROJECT}/fashion-mnist`);
    expect(portablePath("/work/p2/x.yaml", "/work/p")).toBe(`${OUTSIDE_PROJECT}/x.yaml`);
    expect(portablePath("runs/full/x", "/work/p")).toBe("runs/full/x");
    expect(
      portableText(
        "native kernel layer: deterministic numerics, 2 threads (/work/p/native/build/Release/ltr_native.node)",
        "/work/p",
      ),
    ).toBe("native kernel layer: deterministic numerics, 2 threads (native/build/Release/ltr_native.node)");
    expect(portableText("see https://example.org/a/b and /tmp/ltr-x/run", "/work/p")).toBe(
      `see https://example.org/a/b and ${OUTSIDE_PROJECT}/run`,
    );
    expect(portableText("5000 → 5 per class, 1/2 of it", "/work/p")).toBe("5000 → 5 per class, 1/2 of it");
  });

  it("a real stage-1 run and a classifier on it write manifests and results without machine paths", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "ltr-portable-"));
    try {
      // Data outside the project (a temporary folder, given through LTR_DATA_ROOT so the config holds no path).
      const data = writeSyntheticFmnist(join(tmp, "data"), 30, 10);
      process.env.LTR_DATA_ROOT = data;
      await initBackend("wasm");
      const over = [
        "seed=2",
        "backend=wasm",
        "training_opt.num_epochs=1",
        "training_opt.batch_size=32",
        "training_opt.eval_batch_size=64",
        "dataset.n_max=20",
        "dataset.imb_factor=4",
        "dataset.val_per_class=5",
        "training_opt.log_dir=null",
      ];
      const s1 = loadConfig(join(root, "config", "FashionMNIST_LT", "feat_uniform.yaml"), over);
      const ds = await buildDataset(s1.config);
      const dir1 = join(root, base, "stage1");
      await trainStage1({ loaded: s1, runDir: dir1, dataset: ds, quiet: true });
      // model_dir as the reproduction gives it: relative (a path the user writes into the config is kept as written).
      // Joint reads no training setting (src/train/unread_keys.ts): stage 1's epochs and batch size stay out.
      const s2 = loadConfig(join(root, "config", "FashionMNIST_LT", "cls_joint.yaml"), [
        ...over.filter((o) => !o.startsWith("training_opt.num_epochs=") && !o.startsWith("training_opt.batch_size=")),
        `model_dir=./${base}/stage1`,
      ]);
      const dir2 = join(dir1, "cls_joint");
      await trainStage2({ loaded: s2, runDir: dir2, dataset: ds, quiet: true });
      for (const f of [join(dir1, "manifest.json"), join(dir2, "manifest.json"), join(dir2, "results.json")]) {
        const text = readFileSync(f, "utf8");
        expect(text.includes(root), `${f} names the project root`).toBe(false);
        expect(absolutePaths(JSON.parse(text)), f).toEqual([]);
      }
      const m1 = JSON.parse(readFileSync(join(dir1, "manifest.json"), "utf8"));
      const m2 = JSON.parse(readFileSync(join(dir2, "manifest.json"), "utf8"));
      expect(m1.config_source).toBe("config/FashionMNIST_LT/feat_uniform.yaml");
      expect(m2.name).toBe(`${base}/stage1/cls_joint`);
      expect(m2.stage1.dir).toBe(`${base}/stage1`);
      expect(JSON.parse(readFileSync(join(dir2, "results.json"), "utf8")).stage1_run).toBe(`${base}/stage1`);
    } finally {
      delete process.env.LTR_DATA_ROOT;
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("exports of manifests written by older code", () => {
  const P: Profile = { ...PROFILES.smoke, seeds: [27], outDir: `${base}/FashionMNIST_LT` };
  let dirs: string[] = [];
  beforeAll(() => {
    dirs = writeFakeRuns(P, 9);
    // What the runs made before this change hold: absolute paths of this machine.
    const s1 = stage1Plan("feat_uniform", 27, P).dir;
    const s2 = stage2Plan("cls_crt", s1, 27, P).dir;
    const m = JSON.parse(readFileSync(join(s2, "manifest.json"), "utf8"));
    Object.assign(m, {
      name: s2,
      config_source: join(root, "config", "FashionMNIST_LT", "cls_crt.yaml"),
      stage1: { dir: s1, best_ckpt_sha256: "ab" },
      backend: {
        kernels: {
          notes: [
            `native kernel layer: oneDNN 2.6.3, 2 threads (${join(root, "native", "build", "Release", "ltr_native.node")})`,
          ],
        },
      },
      data: { dataset: "FashionMNIST_LT", detail: { root: "/home/someone/data/fashion-mnist" } },
    });
    writeFileSync(join(s2, "manifest.json"), JSON.stringify(m, null, 2));
    const r = JSON.parse(readFileSync(join(s2, "results.json"), "utf8"));
    writeFileSync(join(s2, "results.json"), JSON.stringify({ ...r, stage1_run: s1 }, null, 2));
  });
  afterAll(() => removeFakeRuns(dirs));

  it("manifests.json and the bundle's runs.json hold no absolute path and not the project root", () => {
    const all = manifests(runsSource(P));
    expect(JSON.stringify(all).includes(root)).toBe(false);
    expect(absolutePaths(all)).toEqual([]);
    const crt = all.find((m) => (m as { kind: string }).kind === "stage2-crt") as Record<string, unknown>;
    expect(crt.config_source).toBe("config/FashionMNIST_LT/cls_crt.yaml");
    expect((crt.data as { detail: { root: string } }).detail.root).toBe(`${OUTSIDE_PROJECT}/fashion-mnist`);
    const bundle = join(root, base, "bundle");
    expect(exportBundle(P, bundle).status).toBe("written");
    const runs = readFileSync(join(bundle, "runs.json"), "utf8");
    expect(runs.includes(root)).toBe(false);
    expect(absolutePaths(JSON.parse(runs))).toEqual([]);
  });

  it("an exported copy that changed gets the checksum of its new content", () => {
    mkdirSync(join(root, base), { recursive: true });
    const v = exportedRecord({ name: join(root, "runs", "x"), checksum: "sha256:stale" }, root);
    expect(v.name).toBe("runs/x");
    expect(v.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(exportedRecord({ name: "runs/x", checksum: "sha256:kept" }, root).checksum).toBe("sha256:kept");
  });
});
