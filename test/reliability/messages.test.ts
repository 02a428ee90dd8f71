/**
 * Every message names the culprit and a fix that exists: stray command-line words (a second override after one
 * --set), two assignments in one --set, a YAML list at the top level, data roots that do not exist, one missing
 * IDX file, a missing list file, and an output that cannot be written (checked before computing).
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { datasets } from "../../src/data/registry.js";
import { writeNpy } from "../../src/features/npy.js";
import { tempDir, tinyConfig, tinyData, writeConfig } from "./helpers.js";

const tmp = tempDir("msg");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = tinyData(join(tmp, "data"));
const cfg = writeConfig(join(tmp, "feat.yaml"), tinyConfig());

function capture() {
  const out: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a) => void out.push(a.join(" ")));
  vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s) => (out.push(String(s)), true));
  return () => out.join("\n");
}
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.LTR_DATA_ROOT;
});

describe("the command line never drops an argument silently", () => {
  it("--set a=1 b=2: the second override is rejected with the fix", async () => {
    const text = capture();
    expect(
      await main(["config", "show", "--cfg", cfg, "--set", "training_opt.num_epochs=2", "training_opt.batch_size=8"]),
    ).toBe(2);
    expect(text()).toContain(
      "ltr config: unexpected argument 'training_opt.batch_size=8'; every override needs its own --set: write --set training_opt.num_epochs=2 --set training_opt.batch_size=8",
    );
  });

  it('--set "a=1 b=2" in one argument is refused, not stored as a string', async () => {
    const text = capture();
    expect(
      await main(["config", "show", "--cfg", cfg, "--set", "training_opt.stage=x training_opt.num_epochs=5"]),
    ).toBe(2);
    expect(text()).toContain(
      "--set training_opt.stage=x training_opt.num_epochs=5:\n  - holds two assignments; give each its own --set: --set training_opt.stage=x --set training_opt.num_epochs=5",
    );
  });

  it.each([
    [["train", "--cfg", cfg, "now"], "ltr train: unexpected argument 'now'; see ltr train --help"],
    [["test", "--cfg", cfg, "val"], "ltr test: unexpected argument 'val'"],
    [
      ["data", "prepare", "extra", "--cfg", cfg],
      "ltr data: unexpected argument 'extra'; ltr data takes one action (prepare)",
    ],
    [["config", "shw", "--cfg", cfg], "ltr config: unexpected argument 'shw'; valid actions: show"],
    [["classify", "--features", tmp, "ncm"], "ltr classify: unexpected argument 'ncm'"],
  ])("unknown positionals are rejected: %j", async (argv, msg) => {
    const text = capture();
    expect(await main(argv as string[])).toBe(2);
    expect(text()).toContain(msg);
  });

  it("a YAML list at the top level is reported as a list", async () => {
    const f = join(tmp, "list.yaml");
    writeFileSync(f, "- seed: 1\n- seed: 2\n");
    const text = capture();
    expect(await main(["config", "show", "--cfg", f])).toBe(2);
    expect(text()).toContain("the file must hold a YAML mapping (key: value lines) at the top level, got a list");
  });
});

describe("a feature folder that does not exist", () => {
  it("ltr classify --features MISSING names the folder and how to make one", async () => {
    const text = capture();
    const missing = join(tmp, "no-such-features");
    expect(await main(["classify", "--features", missing, "--method", "ncm"])).toBe(1);
    expect(text()).toContain(`feature folder ${missing} does not exist; fix the --features path, or export`);
    expect(text()).toMatch(/ltr test --cfg RUN\/config\.yaml --run-dir RUN --save-feat train --npy/);
  });
});

describe("data roots: nothing is substituted silently", () => {
  it("LTR_DATA_ROOT and dataset.root pointing at a missing folder are errors", async () => {
    const text = capture();
    process.env.LTR_DATA_ROOT = join(tmp, "no-such-folder");
    expect(await main(["data", "prepare", "--cfg", cfg])).toBe(1);
    expect(text()).toContain(`LTR_DATA_ROOT=${join(tmp, "no-such-folder")} does not exist; fix it, or unset it`);
    delete process.env.LTR_DATA_ROOT;
    expect(await main(["data", "prepare", "--cfg", cfg, "--data-root", join(tmp, "nowhere")])).toBe(1);
    expect(text()).toContain(`the data folder ${join(tmp, "nowhere")} (dataset.root / --data-root) does not exist`);
    await expect(
      datasets.get("ImageNet_LT")({
        root: join(tmp, "nowhere"),
        imbFactor: 1,
        profile: "exp",
        subsetSeed: 0,
        valPerClass: 1,
      }),
    ).rejects.toThrow(/the data folder .*nowhere .*does not exist/);
  });

  it("one missing IDX file is named", async () => {
    const three = join(tmp, "three");
    cpSync(data, three, { recursive: true });
    rmSync(join(three, "t10k-labels-idx1-ubyte.gz"));
    const text = capture();
    expect(await main(["data", "prepare", "--cfg", cfg, "--data-root", three])).toBe(1);
    expect(text()).toContain(`${three} holds only some of the data files: missing t10k-labels-idx1-ubyte.gz`);
  });

  it("a missing list file points at the config key that sets it (no made-up flag)", async () => {
    const root = join(tmp, "places");
    mkdirSync(root);
    const err = await datasets
      .get("Places_LT")({ root, imbFactor: 1, profile: "exp", subsetSeed: 0, valPerClass: 1 })
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(err?.message).toMatch(
      /Places_LT_train\.txt cannot be read .*dataset\.train_list \(in the config, or --set dataset\.train_list=FILE\)/,
    );
    expect(err?.message).not.toContain("--train-list");
  });
});

describe("outputs are checked before the work", () => {
  it("ltr classify --out in an unwritable place fails before loading or computing anything", async () => {
    const feats = join(tmp, "feats");
    mkdirSync(feats);
    for (const s of ["train", "val", "test"]) {
      writeNpy(
        join(feats, `${s}_feats.npy`),
        new Float32Array(20 * 4).map((_, i) => Math.cos(i)),
        [20, 4],
      );
      writeNpy(
        join(feats, `${s}_labels.npy`),
        Int32Array.from({ length: 20 }, (_, i) => i % 2),
        [20],
      );
    }
    const blocker = join(tmp, "a-file");
    writeFileSync(blocker, "x");
    const text = capture();
    expect(
      await main(["classify", "--features", feats, "--method", "ncm", "--out", join(blocker, "sub", "r.json")]),
    ).toBe(1);
    expect(text()).toMatch(
      new RegExp(
        `cannot create the folder ${blocker}/sub: a component of ${blocker}/sub is a file, not a folder \\(ENOTDIR\\)`,
      ),
    );
    expect(text()).not.toContain("features: train");
    // The same folder written to a good place works.
    expect(await main(["classify", "--features", feats, "--method", "ncm", "--out", join(tmp, "out", "r.json")])).toBe(
      0,
    );
  });
});
