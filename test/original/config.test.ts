/**
 * The original code's 11 YAML configs load unchanged (rebuilt from their parts in original_configs.ts) and resolve to
 * this project's components; what they set that is not reproduced is an error naming the key; a file of neither
 * format keeps today's errors.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { load } from "js-yaml";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { loadConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";
import type { Dataset } from "../../src/data/types.js";
import { buildSampler } from "../../src/train/build.js";
import { ORIGINAL_CONFIGS, originalYaml } from "./original_configs.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-origcfg-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function write(name: string, text: string): string {
  const f = join(tmp, name);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}
const files = Object.fromEntries(
  Object.keys(ORIGINAL_CONFIGS).map((n) => [n, write(join("config", n), originalYaml(n))]),
);

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s) => void out.push(String(s)) || true);
  vi.spyOn(process.stderr, "write").mockImplementation((s) => void err.push(String(s)) || true);
  vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  return { out, err };
}

// What each original file resolves to: backbone, sampler, stage-2 method, classifier head.
const WANT: Record<string, [string, string | null, string | null, string]> = {
  "ImageNet_LT/feat_uniform.yaml": ["resnext50", null, null, "linear"],
  "ImageNet_LT/feat_balance.yaml": ["resnext50", "class_balanced", null, "linear"],
  "ImageNet_LT/feat_squareroot.yaml": ["resnext50", "square_root", null, "linear"],
  "ImageNet_LT/feat_shift.yaml": ["resnext50", "progressive", null, "linear"],
  "ImageNet_LT/cls_crt.yaml": ["resnext50", "class_balanced", "crt", "linear"],
  "ImageNet_LT/cls_lws.yaml": ["resnext50", "class_balanced", "lws", "lws"],
  "Places_LT/cls_crt.yaml": ["resnet152", "class_balanced", "crt", "linear"],
  "Places_LT/cls_lws.yaml": ["resnet152", "class_balanced", "lws", "lws"],
  "iNaturalist18/feat_unifrom.yaml": ["resnet50", null, null, "linear"],
  "iNaturalist18/cls_crt.yaml": ["resnet50", "class_balanced", "crt", "linear"],
  "iNaturalist18/cls_lws.yaml": ["resnet50", "class_balanced", "lws", "lws"],
};

describe("the original code's configs, unchanged", () => {
  for (const name of Object.keys(WANT)) {
    it(`ltr config show --cfg ${name}`, async () => {
      const { out, err } = capture();
      expect(await main(["config", "show", "--cfg", files[name]])).toBe(0);
      const cfg = load(
        out
          .join("")
          .split("\n")
          .filter((l) => !l.startsWith("#"))
          .join("\n"),
      ) as Record<string, any>;
      const [backbone, sampler, method, head] = WANT[name];
      const orig = ORIGINAL_CONFIGS[name] as Record<string, any>;
      expect(cfg.networks.feat_model.type).toBe(backbone);
      expect(cfg.networks.classifier.type).toBe(head);
      expect(cfg.training_opt.sampler?.type ?? null).toBe(sampler);
      expect(cfg.stage2?.method ?? null).toBe(method);
      // Values that change results are carried over.
      expect(cfg.training_opt.batch_size).toBe(orig.training_opt.batch_size);
      expect(cfg.training_opt.num_epochs).toBe(orig.training_opt.num_epochs);
      expect(cfg.training_opt.num_classes).toBe(orig.training_opt.num_classes);
      expect(cfg.shuffle).toBe(orig.shuffle);
      expect(cfg.model_dir).toBe(orig.model_dir);
      expect(cfg.networks.classifier.optim_params).toEqual(orig.networks.classifier.optim_params);
      if (method) expect(cfg.stage2).toMatchObject({ input: "images", bn_mode: "train" });
      if (sampler === "progressive") expect(cfg.training_opt.sampler.epochs).toBe(90);
      if (sampler === "class_balanced") expect(cfg.training_opt.sampler.num_samples_cls).toBe(4);
      // The notice lists the no-effect keys once.
      const notice = err.join("");
      expect(notice).toContain("accepted with no effect here");
      for (const k of ["memory", "training_opt.num_workers", "training_opt.scheduler_params", "seed 0"])
        expect(notice).toContain(k);
    });
  }

  it("the notice is printed once per file, and --set uses this project's keys", async () => {
    const f = write("again/feat_uniform.yaml", originalYaml("ImageNet_LT/feat_uniform.yaml"));
    const { err } = capture();
    const a = loadConfig(f, ["training_opt.num_epochs=2", "dataset.root=/data/imagenet"]);
    loadConfig(f);
    expect(err.join("").match(/accepted with no effect/g)).toHaveLength(1);
    expect(a.original?.notes.length).toBeGreaterThan(3);
    expect(a.config.training_opt.num_epochs).toBe(2);
    expect(a.config.dataset.root).toBe("/data/imagenet");
  });

  it("ltr train and ltr test accept them and stop at the data (no config error); --data-root is the original's data_root", async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      for (const [cmd, name] of [
        ["train", "ImageNet_LT/feat_shift.yaml"],
        ["test", "iNaturalist18/feat_unifrom.yaml"],
        ["train", "Places_LT/cls_crt.yaml"],
      ]) {
        const { err } = capture();
        const rc = await main([cmd, "--cfg", files[name], "--data-root", join(tmp, "nodata"), "--backend", "cpu"]);
        const msg = err.join("\n");
        expect(rc, msg).toBe(1);
        expect(msg).not.toMatch(/invalid config/);
        expect(msg).toMatch(/nodata|no such|not found|does not exist|final_model_checkpoint|not a .*run/i);
      }
      expect(existsSync(join(tmp, "logs"))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("what the original format cannot do here is an error naming the key", () => {
  const base = ORIGINAL_CONFIGS["ImageNet_LT/feat_uniform.yaml"] as Record<string, any>;
  const variant = (edit: (c: Record<string, any>) => void): Record<string, any> => {
    const c = structuredClone(base);
    edit(c);
    return c;
  };
  const cases: [string, Record<string, any>, RegExp][] = [
    ["StepLR", variant((c) => (c.coslr = false)), /key 'coslr' is false.*StepLR/],
    [
      "priority sampling",
      variant(
        (c) =>
          (c.training_opt.sampler = {
            ...(ORIGINAL_CONFIGS["ImageNet_LT/feat_shift.yaml"] as any).training_opt.sampler,
            manual_only: false,
          }),
      ),
      /manual_only/,
    ],
    [
      "cyclic schedule",
      variant(
        (c) =>
          (c.training_opt.sampler = {
            ...(ORIGINAL_CONFIGS["ImageNet_LT/feat_shift.yaml"] as any).training_opt.sampler,
            cycle: 1,
          }),
      ),
      /cycle.*linear schedule/,
    ],
    ["use_fc", variant((c) => (c.networks.feat_model.params.use_fc = true)), /use_fc.*fc_add/],
    [
      "unknown model file",
      variant((c) => (c.networks.feat_model.def_file = "./models/MyNet.py")),
      /MyNet.py is not one of the original's feature models/,
    ],
    ["OLTR memory", variant((c) => (c.memory.centroids = true)), /memory.centroids/],
    ["unknown key", variant((c) => (c.training_opt.warmup = 5)), /unknown key 'training_opt.warmup'.*valid keys here/],
    [
      "feat_dim mismatch",
      variant((c) => (c.networks.classifier.params.feat_dim = 512)),
      /feat_dim' is 512 but resnext50 gives 2048/,
    ],
    [
      "mixed formats",
      variant((c) => (c.stage2 = { method: "crt" })),
      /mixes the original classifier-balancing format.*stage2/,
    ],
  ];
  for (const [what, cfg, re] of cases) {
    it(what, () => {
      capture();
      const f = write(
        `bad/${what.replace(/\W+/g, "_")}.yaml`,
        originalYaml("ImageNet_LT/feat_uniform.yaml").replace(/[\s\S]*/, () => JSON.stringify(cfg)),
      );
      let err: unknown;
      try {
        loadConfig(f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).toContain(f);
    });
  }

  it("a file in neither format keeps today's errors", () => {
    const f = write(
      "neither.yaml",
      "training_opt: {dataset: ImageNet_LT, backbone: resnext50}\nscheduler_params: {gamma: 0.1}\n",
    );
    expect(() => loadConfig(f)).toThrow(/unknown key 'scheduler_params'; valid keys here: seed, backend/);
    expect(() => loadConfig(f)).toThrow(/unknown key 'training_opt.backbone'/);
  });
});

describe("the progressively-balanced schedule follows the sampler's own epochs", () => {
  it("feat_shift.yaml run for 10 epochs keeps the original's 90-epoch λ spacing", () => {
    capture();
    const cfg = loadConfig(files["ImageNet_LT/feat_shift.yaml"], ["training_opt.num_epochs=10"]).config;
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 2, 3]);
    const ds = { train: { labels }, numClasses: 4 } as unknown as Dataset;
    const s = buildSampler({ ...cfg, training_opt: { ...cfg.training_opt, batch_size: 2 } }, ds);
    const lam = 9 / 89;
    const want = [6, 2, 1, 1].map((n) => (1 - lam) * (n / 10) + lam / 4);
    Array.from(s.classProbabilities(9)).forEach((p, j) => expect(p).toBeCloseTo(want[j], 12));
    // Without the key the schedule spans the run: the last epoch is class-balanced.
    const own = buildSampler(
      {
        ...cfg,
        training_opt: {
          ...cfg.training_opt,
          batch_size: 2,
          sampler: { ...cfg.training_opt.sampler!, epochs: undefined },
        },
      },
      ds,
    );
    Array.from(own.classProbabilities(9)).forEach((p) => expect(p).toBeCloseTo(0.25, 12));
  });
});
