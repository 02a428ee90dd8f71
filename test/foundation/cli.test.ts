import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkComponents } from "../../src/cli/components.js";
import { main } from "../../src/cli/main.js";
import { loadConfig } from "../../src/config/load.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  const w = vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  return { out, err, restore: () => w.mockRestore() };
}
afterEach(() => vi.restoreAllMocks());

describe("ltr command line", () => {
  it("ltr --help lists every subcommand", async () => {
    const c = capture();
    expect(await main(["--help"])).toBe(0);
    const text = c.out.join("\n");
    for (const cmd of ["train", "test", "tau-norm", "data", "config"]) expect(text).toContain(cmd);
  });

  it.each([
    ["train", ["--cfg", "--set", "--resume", "--backend"]],
    ["test", ["--knn", "--save-feat", "--feat-type", "--dist", "--npy"]],
    ["tau-norm", ["--run", "--grid"]],
    ["data", ["prepare", "--manifest"]],
    ["config", ["--cfg", "--set"]],
  ])("ltr %s --help describes its real options", async (cmd, opts) => {
    const c = capture();
    expect(await main([cmd, "--help"])).toBe(0);
    const text = c.out.join("\n");
    for (const o of opts) expect(text).toContain(o);
  });

  it("unknown commands and options fail with a clear message", async () => {
    const c = capture();
    expect(await main(["trian"])).toBe(2);
    expect(c.err.join("\n")).toContain("unknown command 'trian'; valid commands: train");
    expect(await main(["train", "--cfgg", "x"])).toBe(2);
    expect(c.err.join("\n")).toMatch(/Unknown option '--cfgg'/);
    expect(await main(["train"])).toBe(2);
    expect(c.err.join("\n")).toContain("--cfg is required");
  });

  it("a bad config fails before any work, naming the file and key", async () => {
    const c = capture();
    expect(
      await main([
        "config",
        "show",
        "--cfg",
        "config/FashionMNIST_LT/feat_uniform.yaml",
        "--set",
        "training_opt.batch_size=big",
      ]),
    ).toBe(2);
    expect(c.err.join("\n")).toContain("key 'training_opt.batch_size': expected an integer");
    expect(
      await main([
        "config",
        "show",
        "--cfg",
        "config/FashionMNIST_LT/feat_uniform.yaml",
        "--set",
        "training_opt.sampler.type=balanced",
      ]),
    ).toBe(2);
    expect(c.err.join("\n")).toMatch(/unknown sampler 'balanced'; valid: class_balanced, instance_balanced/);
  });

  it("ltr config show prints the resolved config", async () => {
    const c = capture();
    expect(await main(["config", "show", "--cfg", "config/FashionMNIST_LT/feat_balance.yaml"])).toBe(0);
    const text = c.out.join("");
    expect(text).toContain("type: class_balanced");
    expect(text).toMatch(/config hash [0-9a-f]{64}/);
  });
});

describe("ltr data prepare on the Debian Fashion-MNIST files", () => {
  const debian = existsSync("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  it.skipIf(!debian)("prints the long-tailed counts 5000 … 5 and the Many/Medium/Few split", async () => {
    const c = capture();
    expect(await main(["data", "prepare", "--cfg", "config/FashionMNIST_LT/feat_uniform.yaml"])).toBe(0);
    const text = c.out.join("\n");
    const counts = [...text.matchAll(/^\s+\d+\s+\S.*?\s+(\d+)\s+(many|medium|few)$/gm)].map((m) => Number(m[1]));
    expect(counts).toEqual([5000, 2320, 1077, 500, 232, 107, 50, 23, 10, 5]);
    expect(text).toMatch(/many\s+6 classes/);
    expect(text).toMatch(/medium\s+2 classes/);
    expect(text).toMatch(/few\s+2 classes/);
    expect(text).toContain("train 9324 images");
  });
});

describe("shipped configs", () => {
  const root = join(process.cwd(), "config");
  const files = readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".yaml"));
  it("there is a config per dataset and stage", () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const f of [
      "FashionMNIST_LT/feat_uniform.yaml",
      "FashionMNIST_LT/feat_balance.yaml",
      "FashionMNIST_LT/feat_squareroot.yaml",
      "FashionMNIST_LT/feat_shift.yaml",
      "ImageNet_LT/feat_uniform.yaml",
      "ImageNet_LT/cls_crt.yaml",
      "ImageNet_LT/cls_lws.yaml",
      "iNaturalist18/cls_crt.yaml",
      "Places_LT/cls_lws.yaml",
      "CIFAR10_LT/feat_uniform.yaml",
      "CIFAR100_LT/cls_crt.yaml",
    ])
      expect(files).toContain(f);
  });
  it.each(files)("%s validates, and its components exist in the registries", async (f) => {
    const { config } = loadConfig(join(root, f));
    await checkComponents(config, f);
    expect(config.training_opt.dataset).toBe(f.split("/")[0]);
  });
});
