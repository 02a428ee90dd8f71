/**
 * The PyTorch/pickle readers on their own: what they accept (zip and legacy checkpoints, float16, the original's
 * feature pickles at protocols 4 and 2) and what they refuse, with messages that name the problem.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadFeatureDir, loadFeatureDirWith } from "../../src/features/dir.js";
import { readFeaturePickle } from "../../src/features/pickle.js";
import { loadTorchFile, type TorchTensor } from "../../src/torch/load.js";
import { NUMPY_CONSTRUCTORS } from "../../src/torch/numpy.js";
import { classifierTensors, featModelTensors, readOriginalCheckpoint } from "../../src/torch/original_checkpoint.js";
import { type PyDict, unpickle } from "../../src/torch/pickle.js";
import { MemorySource } from "../../src/torch/source.js";
import { expected, FIXTURES, gunzipTo, npy, relErr, resnet10LogDir, tmp } from "./fixtures.js";

const dir = tmp("ltr-torch-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const r10 = resnet10LogDir(dir);
const r10pth = join(r10, "final_model_checkpoint.pth");

const pk = (bytes: number[]) => new MemorySource("test.pkl", Uint8Array.from(bytes));
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe("restricted unpickler", () => {
  it("refuses a global it does not know, naming it, before calling anything", () => {
    // pickle.dumps(os.system('echo pwned')) at protocol 2: GLOBAL 'posix system', BINUNICODE, TUPLE1, REDUCE, STOP.
    const evil = [
      0x80,
      2,
      0x63,
      ...ascii("posix\nsystem\n"),
      0x58,
      10,
      0,
      0,
      0,
      ...ascii("echo pwned"),
      0x85,
      0x52,
      0x2e,
    ];
    expect(() => unpickle(pk(evil), { constructors: NUMPY_CONSTRUCTORS })).toThrow(
      /refusing to load the Python global 'posix.system'.*nothing in the file was executed/,
    );
  });

  it("reads plain data: ints, big ints, floats, strings, tuples, lists, dicts, memo", () => {
    // {'a': [1, -2, 300, 70000], 'b': (1.5, 'x'), 'c': 2**70} at protocol 2
    const bytes = [
      0x80, 2, 0x7d, 0x71, 0, 0x28, 0x58, 1, 0, 0, 0, 0x61, 0x5d, 0x71, 1, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff,
      0x4d, 0x2c, 0x01, 0x4a, 0x70, 0x11, 0x01, 0x00, 0x65, 0x58, 1, 0, 0, 0, 0x62, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
      0x58, 1, 0, 0, 0, 0x78, 0x86, 0x58, 1, 0, 0, 0, 0x63, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x75, 0x2e,
    ];
    const v = unpickle(pk(bytes), { constructors: {} }).value as PyDict;
    expect(v.get("a")).toEqual([1, -2, 300, 70000]);
    expect(v.get("b")).toEqual([1.5, "x"]);
    expect(v.get("c")).toBe(2n ** 70n);
  });

  it("names a truncated pickle", () => {
    expect(() => unpickle(pk([0x80, 2, 0x58, 9, 0, 0, 0, 0x61]), { constructors: {} })).toThrow(
      /test.pkl: pickle data ends early/,
    );
  });
});

describe("torch checkpoints", () => {
  it("zip format: the original's dict, DataParallel state dicts with their _metadata", () => {
    const f = loadTorchFile(r10pth);
    try {
      expect(f.format).toBe("zip");
      const top = f.value as PyDict;
      expect([...top.keys()]).toEqual(["epoch", "best_epoch", "state_dict_best", "best_acc", "centroids"]);
      expect(top.get("best_acc")).toBe(0.4375);
      const sd = (top.get("state_dict_best") as PyDict).get("feat_model") as PyDict;
      expect(sd.pyClass).toBe("collections.OrderedDict");
      expect(Object.keys(sd.attrs)).toEqual(["_metadata"]);
      const w = sd.get("module.conv1.weight") as TorchTensor;
      expect([w.dtype, w.shape, w.stride]).toEqual(["float32", [64, 3, 7, 7], [147, 49, 7, 1]]);
      expect((sd.get("module.bn1.num_batches_tracked") as TorchTensor).dtype).toBe("int64");
    } finally {
      f.close();
    }
  });

  it("legacy and float16 files give the same weights (the fixture's values are exact in float16)", () => {
    const a = readOriginalCheckpoint(gunzipTo("resnext50_w16_legacy.pth.gz", dir));
    const b = readOriginalCheckpoint(gunzipTo("resnext50_w16_fp16.pth.gz", dir));
    try {
      expect([a.format, b.format]).toEqual(["legacy", "zip"]);
      expect(b.featModel.get("layer3.2.conv2.weight")!.dtype).toBe("float16");
      expect([...a.featModel.keys()]).toEqual([...b.featModel.keys()]);
      for (const k of ["conv1.weight", "layer2.0.downsample.1.running_var", "layer4.2.conv3.weight"])
        expect(b.featModel.get(k)!.values()).toEqual(a.featModel.get(k)!.values());
      // TauNormClassifier (LWS): scales folded into one linear layer.
      expect(classifierTensors(a).kind).toBe("TauNormClassifier");
    } finally {
      a.close();
      b.close();
    }
  });

  it("a checkpoint that does not fit the model names the missing and extra keys", () => {
    const ck = readOriginalCheckpoint(r10pth);
    try {
      const want = new Map<string, number[]>([
        ["conv1.weight", [7, 7, 3, 64]],
        ["layer1.0.conv3.weight", [1, 1, 64, 256]],
        ["bn1.weight", [32]],
      ]);
      expect(() => featModelTensors(ck, want, "resnet50")).toThrow(
        /missing 'layer1.0.conv3.weight'[\s\S]*'bn1.weight' has shape \[64\], resnet50 needs \[32\][\s\S]*weights resnet50 does not have: bn1.bias.* and \d+ more/,
      );
    } finally {
      ck.close();
    }
  });

  it("not a checkpoint: a truncated zip, a plain pickle, a missing file", () => {
    const bytes = readFileSync(r10pth);
    const cut = join(dir, "cut.pth");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 5000));
    expect(() => loadTorchFile(cut)).toThrow(/not a zip file|truncated|end-of-central-directory/);
    const plain = join(dir, "plain.pth");
    copyFileSync(join(FIXTURES, "resnet10", "testfeat_all.pkl"), plain);
    expect(() => loadTorchFile(plain)).toThrow(/not a torch.save checkpoint/);
    expect(() => readOriginalCheckpoint(join(dir, "missing.pth"))).toThrow(/missing.pth: cannot open/);
  });
});

describe("the original's feature pickles", () => {
  const feats = npy("resnet10_feats.npy");
  const rowsOf = (rows: number[]) =>
    Float32Array.from(rows.flatMap((r) => Array.from(feats.data.subarray(r * 512, (r + 1) * 512))));

  it("{train,val,test}feat_all.pkl (protocol 4) and a protocol-2 pickle", () => {
    for (const [file, split] of [
      ["resnet10/testfeat_all.pkl", "test"],
      ["resnet10/valfeat_all.pkl", "val"],
      ["valfeat_all_protocol2.pkl", "val"],
    ] as const) {
      const fs = readFeaturePickle(join(FIXTURES, file));
      const rows = expected.splits[split];
      expect([fs.n, fs.dim]).toEqual([rows.length, 512]);
      expect(Array.from(fs.labels)).toEqual(rows.map((r) => expected.labels[r]));
      expect(Array.from(fs.indices)).toEqual(rows.map((_, i) => i));
      expect(relErr(fs.feats, rowsOf(rows))).toBe(0);
    }
  });

  it("a feature folder of the original (pickles + final_model_checkpoint.pth) has everything ltr classify needs", async () => {
    expect(loadFeatureDir(r10).stage1).toBeNull();
    const fd = await loadFeatureDirWith(r10);
    expect(fd.train.n).toBe(6);
    const ck = readOriginalCheckpoint(r10pth);
    try {
      expect(fd.stage1!.weight).toEqual(ck.classifier.get("fc.weight")!.values());
    } finally {
      ck.close();
    }
  });

  it("the classifier from a checkpoint given by path (ltr classify --checkpoint); a mismatched one is named", async () => {
    const only = join(dir, "pickles_only");
    for (const s of ["train", "val", "test"]) {
      mkdirSync(only, { recursive: true });
      copyFileSync(join(r10, `${s}feat_all.pkl`), join(only, `${s}feat_all.pkl`));
    }
    expect((await loadFeatureDirWith(only)).stage1).toBeNull();
    expect((await loadFeatureDirWith(only, r10pth)).stage1!.bias).toHaveLength(5);
    await expect(loadFeatureDirWith(only, gunzipTo("resnext50_w16_legacy.pth.gz", dir))).resolves.toBeTruthy(); // 512-d too
    await expect(loadFeatureDirWith(only, join(dir, "nope.pth"))).rejects.toThrow(/nope.pth: cannot open/);
  });
});
