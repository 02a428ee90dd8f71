import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { writeSyntheticFmnist } from "../helpers/synthetic_fmnist.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-cli-"));
const data = writeSyntheticFmnist(join(tmp, "data"));
const run = join(tmp, "runs", "s1");
const cfg = join(tmp, "feat.yaml");
writeFileSync(
  cfg,
  `seed: 1
backend: wasm
training_opt: {dataset: FashionMNIST_LT, num_classes: 10, batch_size: 32, num_epochs: 1, eval_batch_size: 64, log_dir: ${JSON.stringify(run)}}
dataset: {imb_factor: 10, n_max: 40, val_per_class: 10}
`,
);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function quiet(): string[] {
  const out: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  return out;
}

describe("the ltr commands end to end on a tiny dataset", () => {
  it("train → test → tau-norm → save features (ltf + npy) → classify from the features alone", async () => {
    let out = quiet();
    expect(await main(["train", "--cfg", cfg, "--data-root", data])).toBe(0);
    expect(JSON.parse(out.join("\n")).test.n).toBe(200);
    expect(existsSync(join(run, "best.ckpt"))).toBe(true);

    process.env.LTR_DATA_ROOT = data; // the run's own config.yaml has no root; later commands find the data this way
    try {
      out = quiet();
      expect(await main(["test", "--cfg", cfg, "--knn", "--dist", "cos"])).toBe(0);
      expect(out.join("\n")).toMatch(/ncm \(cl2n, cos\)[\s\S]*test\s+[\d.]+/);

      out = quiet();
      expect(await main(["tau-norm", "--run", run, "--grid", "0:1:0.5"])).toBe(0);
      expect(out.join("\n")).toContain("<- chosen on val");
      expect(JSON.parse(readFileSync(join(run, "tau_norm.json"), "utf8")).rows).toHaveLength(3);

      for (const split of ["train", "val", "test"]) {
        quiet();
        expect(await main(["test", "--cfg", cfg, "--save-feat", split, "--npy"])).toBe(0);
      }
      for (const f of ["train.ltf", "test_feats.npy", "val_labels.npy", "fc_weight.npy", "fc_bias.npy"])
        expect(existsSync(join(run, "features", f))).toBe(true);

      out = quiet();
      expect(
        await main([
          "classify",
          "--features",
          join(run, "features"),
          "--epochs",
          "1",
          "--batch-size",
          "16",
          "--lr",
          "0.05",
        ]),
      ).toBe(0);
      const res = JSON.parse(readFileSync(join(run, "features", "classify_results.json"), "utf8"));
      expect(Object.keys(res.results)).toEqual(["joint", "ncm", "crt", "tau_norm", "lws"]);
      expect(res.train_counts).toHaveLength(10);
      // Joint from features equals the stage-1 test evaluation (same weights, BN in eval mode).
      const s1 = JSON.parse(readFileSync(join(run, "results.json"), "utf8"));
      expect(res.results.joint.test.top1).toBeCloseTo(s1.test.top1, 5);
    } finally {
      delete process.env.LTR_DATA_ROOT;
    }
  });

  it("classify names the missing files", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    quiet();
    expect(await main(["classify", "--features", join(tmp, "nothing")])).toBe(1);
    expect(await main(["classify", "--features", tmp])).toBe(1);
  });
});
