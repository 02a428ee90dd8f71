/**
 * From the original code's files to this project's commands, end to end, on the PyTorch fixtures:
 *   ltr test --cfg ORIGINAL.yaml --model_dir <its log_dir> --save-feat test --npy   (imports the checkpoint)
 * writes PyTorch's features; the imported run then serves ltr test, ltr tau-norm and stage 2 on images (an original
 * cls config); ltr classify reads the original's feature pickles and takes the classifier from its checkpoint.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dump } from "js-yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { loadConfig } from "../../src/config/load.js";
import { readNpy } from "../../src/features/npy.js";
import { sha256File } from "../../src/hash.js";
import { loadFeatureFolder } from "../../src/repro/notebook.js";
import { importOriginalCheckpoint } from "../../src/torch/import_run.js";
import { dataRoot, expected, npy, relErr, resnet10LogDir, tmp } from "./fixtures.js";
import { ORIGINAL_CONFIGS } from "./original_configs.js";

const dir = tmp("ltr-orig-e2e-");
const cwd = process.cwd();
const logDir = resnet10LogDir(dir);
const data = dataRoot(dir);
const runDir = join(dir, "runs", "imported_r10");

/** The original's ImageNet-LT feat_uniform.yaml with the ResNet-10 feature model and the fixtures' 5 classes. */
function resnet10Config(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = structuredClone(ORIGINAL_CONFIGS["ImageNet_LT/feat_uniform.yaml"]) as Record<string, any>;
  c.networks.feat_model.def_file = "./models/ResNet10Feature.py";
  c.networks.classifier.params.feat_dim = 512;
  c.networks.classifier.params.num_classes = 5;
  Object.assign(c.training_opt, {
    backbone: "resnet10",
    feature_dim: 512,
    num_classes: 5,
    batch_size: 4,
    num_epochs: 1,
  });
  edit(c);
  return c;
}
const featCfg = join(dir, "feat_resnet10.yaml");
writeFileSync(featCfg, dump(resnet10Config()));
const crtCfg = join(dir, "cls_crt_resnet10.yaml");
writeFileSync(
  crtCfg,
  dump(
    resnet10Config((c) => {
      c.model_dir = logDir;
      c.networks.feat_model.fix = true;
      c.shuffle = true;
      c.training_opt.sampler = {
        def_file: "./data/ClassAwareSampler.py",
        num_samples_cls: 2,
        type: "ClassAwareSampler",
      };
      c.training_opt.log_dir = join(dir, "logs", "clslearn", "crt");
      c.training_opt.stage = "retrain_uni2ban";
    }),
  ),
);

beforeAll(() => process.chdir(dir)); // runs/ of imports made without --run-dir go under the working folder
afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

function capture(): string[] {
  const out: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a) => void out.push(a.join(" ")));
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  return out;
}

const torchFeats = npy("resnet10_feats.npy").data;
const rows = (idx: number[]) =>
  Float32Array.from(idx.flatMap((r) => Array.from(torchFeats.subarray(r * 512, (r + 1) * 512))));
const scale = torchFeats.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe("the original code's checkpoint and features through ltr", () => {
  it("ltr test --cfg ORIGINAL.yaml --model_dir DIR --save-feat test --npy writes PyTorch's features", async () => {
    const out = capture();
    const rc = await main([
      "test",
      "--cfg",
      featCfg,
      "--model_dir",
      logDir,
      "--data-root",
      data,
      "--save-feat",
      "test",
      "--npy",
      "--run-dir",
      runDir,
      "--backend",
      "wasm",
    ]);
    expect(rc, out.join("\n")).toBe(0);
    expect(out.join("\n")).toMatch(/imported .*final_model_checkpoint.pth .* as the stage-1 run/);
    const f = readNpy(join(runDir, "features", "test_feats.npy"));
    expect(f.shape).toEqual([4, 512]);
    expect(relErr(f.data, rows(expected.splits.test))).toBeLessThanOrEqual(1e-4);
    expect(Array.from(readNpy(join(runDir, "features", "test_labels.npy")).data)).toEqual(
      expected.splits.test.map((r) => expected.labels[r]),
    );
    // The run is a finished stage-1 run recording where its weights came from.
    const m = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8"));
    expect(m).toMatchObject({ kind: "stage1-imported", status: "finished" });
    expect(m.source).toMatchObject({
      sha256: sha256File(join(logDir, "final_model_checkpoint.pth")),
      format: "zip",
      data_parallel: true,
      classifier: "DotProductClassifier",
    });
    expect(readFileSync(join(runDir, "config.yaml"), "utf8")).toContain(`root: ${data}`);
  });

  it("train features: identical where the transform is a crop; within 1% where PIL's and sharp's resize differ", async () => {
    capture();
    expect(
      await main([
        "test",
        "--cfg",
        featCfg,
        "--model_dir",
        logDir,
        "--data-root",
        data,
        "--save-feat",
        "train",
        "--npy",
        "--run-dir",
        runDir,
        "--backend",
        "wasm",
      ]),
    ).toBe(0);
    const f = readNpy(join(runDir, "features", "train_feats.npy")).data as Float32Array;
    expected.images.forEach((name, i) => {
      const err =
        relErr(f.subarray(i * 512, (i + 1) * 512), torchFeats.subarray(i * 512, (i + 1) * 512)) *
        (Math.max(...torchFeats.subarray(i * 512, (i + 1) * 512).map(Math.abs)) / scale);
      expect(err, name).toBeLessThanOrEqual(expected.crop_only.includes(name) ? 1e-4 : 2e-2);
    });
  });

  it("the imported run serves ltr test (joint, NCM) and ltr tau-norm", async () => {
    let out = capture();
    expect(await main(["test", "--cfg", featCfg, "--run-dir", runDir, "--backend", "wasm"])).toBe(0);
    // Joint on test = PyTorch's predictions on the crop-only pictures.
    const correct = expected.splits.test.filter((r) => expected.models.resnet10.preds[r] === expected.labels[r]).length;
    const testLine = out.find((l) => l.startsWith("test"))!;
    expect(Number(testLine.trim().split(/\s+/).pop())).toBeCloseTo((100 * correct) / 4, 5);
    out = capture();
    expect(await main(["test", "--cfg", featCfg, "--run-dir", runDir, "--knn", "--backend", "wasm"])).toBe(0);
    expect(out.join("\n")).toMatch(/ncm \(cl2n, l2\)/);
    capture();
    expect(await main(["tau-norm", "--run", runDir, "--grid", "0:1:0.5", "--backend", "wasm"])).toBe(0);
    expect(JSON.parse(readFileSync(join(runDir, "tau_norm.json"), "utf8")).rows).toHaveLength(3);
    // With all three splits saved, the notebooks' feature-folder loader (notebook 07) reads the run's features.
    capture();
    expect(
      await main(["test", "--cfg", featCfg, "--run-dir", runDir, "--save-feat", "val", "--npy", "--backend", "wasm"]),
    ).toBe(0);
    const fx = loadFeatureFolder(join(runDir, "features"));
    expect([fx.numClasses, fx.train.n, fx.val.n, fx.test.n, fx.train.dim]).toEqual([5, 6, 4, 4, 512]);
  });

  it("stage 2 on images from the original checkpoint: ltr train --cfg <an original cls config>", async () => {
    const out = capture();
    const rc = await main(["train", "--cfg", crtCfg, "--data-root", data, "--backend", "wasm"]);
    expect(rc, out.join("\n")).toBe(0);
    // model_dir named the original log_dir: it was imported (under ./runs of the working folder) and used.
    expect(out.join("\n")).toMatch(
      /imported .*final_model_checkpoint.pth as the stage-1 run .*runs\/ImageNet_LT\/imported\/resnet10_[0-9a-f]{8}/,
    );
    const res = JSON.parse(readFileSync(join(dir, "logs", "clslearn", "crt", "results.json"), "utf8"));
    expect(res).toMatchObject({ method: "crt", input: "images" });
    expect(res.test.n).toBe(4);
  });

  it("ltr classify --features <the original's log_dir> reads its feature pickles and its checkpoint's classifier", async () => {
    const out = capture();
    const rc = await main([
      "classify",
      "--features",
      logDir,
      "--epochs",
      "1",
      "--batch-size",
      "2",
      "--backend",
      "wasm",
    ]);
    expect(rc, out.join("\n")).toBe(0);
    const res = JSON.parse(readFileSync(join(logDir, "classify_results.json"), "utf8"));
    expect(Object.keys(res.results)).toEqual(["joint", "ncm", "crt", "tau_norm", "lws"]);
    const correct = expected.splits.test.filter((r) => expected.models.resnet10.preds[r] === expected.labels[r]).length;
    expect(res.results.joint.test.top1).toBeCloseTo((100 * correct) / 4, 5);
    expect(existsSync(join(logDir, "fc_weight.npy"))).toBe(false);
  });

  it("an import is reused, and never written over another run", async () => {
    capture();
    const loaded = loadConfig(featCfg, [`dataset.root=${JSON.stringify(data)}`]);
    const again = await importOriginalCheckpoint({ source: logDir, loaded, runDir });
    expect(again).toMatchObject({ runDir, reused: true });
    const stage2 = join(dir, "logs", "clslearn", "crt");
    await expect(importOriginalCheckpoint({ source: logDir, loaded, runDir: stage2 })).rejects.toThrow(
      /already holds a run that is not this import/,
    );
    await expect(importOriginalCheckpoint({ source: join(dir, "nowhere"), loaded })).rejects.toThrow(
      /no checkpoint there; --model_dir takes a .pth file or a folder/,
    );
  });
});
