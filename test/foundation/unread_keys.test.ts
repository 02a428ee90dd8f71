/**
 * Keys that would do nothing are refused (src/train/unread_keys.ts, docs/CONFIG.md "Keys with no effect"): each rule
 * on a shipped config with one key changed, and the shipped configs themselves pass.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig, resolveConfig } from "../../src/config/load.js";
import { refuseUnreadKeys, unreadKeys } from "../../src/train/unread_keys.js";
import { ORIGINAL_CONFIGS } from "../original/original_configs.js";

const FM = "config/FashionMNIST_LT";
const unread = (file: string, sets: string[] = []) => unreadKeys(loadConfig(file, sets).config);

describe("keys with no effect", () => {
  // The translation of the original configs announces what it drops on stderr; not this test's concern.
  beforeAll(() => void vi.spyOn(process.stderr, "write").mockImplementation(() => true));
  it("every shipped config reads every key it sets", () => {
    for (const d of readdirSync("config"))
      for (const f of readdirSync(join("config", d))) expect(unread(join("config", d, f)), `${d}/${f}`).toEqual([]);
  });

  it("a key at its default is never refused, whatever the experiment", () => {
    expect(unread(`${FM}/cls_ncm.yaml`, ["stage2.bn_mode=eval", "shuffle=false", "dataset.image_root=null"])).toEqual(
      [],
    );
  });

  it("stage 2: the frozen backbone's optimiser, the in-batch shuffle on features, images mode and bn_mode", () => {
    expect(unread(`${FM}/cls_crt.yaml`, ["networks.feat_model.optim_params.lr=0.1"])).toEqual([
      'networks.feat_model.optim_params is {"lr":0.1,"momentum":0.9,"weight_decay":0.0005}, which has no effect here: stage 2 freezes the backbone (networks.feat_model.fix: true), so no optimiser updates it; remove it',
    ]);
    expect(unread(`${FM}/cls_lws.yaml`, ["shuffle=true"])[0]).toMatch(
      /^shuffle is true, which has no effect here: lws on features averages the loss .*; remove it \(it reorders the augmented batches of stage2.input: images\)$/,
    );
    expect(unread(`${FM}/cls_crt.yaml`, ["shuffle=true", "stage2.input=images"])).toEqual([]);
    expect(unread(`${FM}/cls_crt.yaml`, ["stage2.bn_mode=train"])).toEqual([
      'stage2.bn_mode is "train", which has no effect here: it sets the frozen backbone\'s BatchNorm mode in images mode only; remove it',
    ]);
    expect(unread(`${FM}/cls_crt.yaml`, ["dataset.augment=false", "training_opt.display_step=1"])).toEqual([
      "dataset.augment is false, which has no effect here: it augments the images of a training loop, and crt here learns from features extracted once without augmentation; remove it, or set stage2.input: images",
      "training_opt.display_step is 1, which has no effect here: it spaces the step records of a training loop, and crt here learns from features extracted once without augmentation; remove it, or set stage2.input: images",
    ]);
    expect(unread(`${FM}/cls_crt.yaml`, ["dataset.augment=false", "stage2.input=images"])).toEqual([]);
    expect(unread(`${FM}/cls_ncm.yaml`, ["stage2.input=images"])).toEqual([
      'stage2.input is "images", which has no effect here: ncm runs on the frozen backbone\'s features; only crt, lws train a head on images; remove it (features is the default)',
    ]);
  });

  it("stage 2: the training settings and method sections of the other methods, and a contradicting head", () => {
    expect(unread(`${FM}/cls_ncm.yaml`, ["training_opt.num_epochs=5", "stage2.tau_grid.stop=3"])).toEqual([
      "training_opt.num_epochs is 5, which has no effect here: stage2.method 'ncm' reads stage2.ncm; remove it",
      'stage2.tau_grid is {"start":0,"stop":3,"step":0.1}, which has no effect here: stage2.method \'ncm\' reads stage2.ncm; remove it',
    ]);
    expect(unread(`${FM}/cls_joint.yaml`, ["coslr=false"])).toEqual([
      "coslr is false, which has no effect here: stage2.method 'joint' reads none of the training settings; remove it",
    ]);
    expect(unread(`${FM}/cls_crt.yaml`, ["stage2.ncm.dist=cos"])).toHaveLength(1);
    expect(unread(`${FM}/cls_crt.yaml`, ["networks.classifier.type=lws"])).toEqual([
      "networks.classifier.type is \"lws\", which has no effect here: stage 2's classifier is the one stage2.method 'crt' defines (a linear head); remove it or set linear",
    ]);
    expect(unread(`${FM}/cls_lws.yaml`)).toEqual([]); // type: lws, the method's own head
  });

  it("stage 1: model_dir, the shuffle of instance-balanced batches, sampler keys the sampler does not read", () => {
    expect(unread(`${FM}/feat_uniform.yaml`, ["model_dir=runs/x"])[0]).toMatch(
      /^model_dir is "runs\/x", which has no effect here: a config without a stage2 section trains a new backbone/,
    );
    expect(unread(`${FM}/feat_uniform.yaml`, ["shuffle=true"])[0]).toMatch(
      /^shuffle is true, which has no effect here: the instance_balanced sampler's batches are slices of a uniform permutation/,
    );
    expect(unread(`${FM}/feat_balance.yaml`, ["training_opt.sampler.q=0.2"])).toEqual([
      "training_opt.sampler.q is 0.2, which has no effect here: the class_balanced sampler reads num_samples_cls; remove it",
    ]);
    expect(
      unread(`${FM}/feat_balance.yaml`, ["training_opt.sampler.type=q_power", "training_opt.sampler.q=0.2"]),
    ).toEqual([]);
  });

  it("the dataset's keys: the subset of a generated dataset, the lists of a list-file one", () => {
    expect(unread(`${FM}/feat_uniform.yaml`, ['dataset.train_list="a.txt"'])).toEqual([
      'dataset.train_list is "a.txt", which has no effect here: FashionMNIST_LT reads imb_factor, profile, n_max, subset_seed, val_per_class (and root, augment); remove it',
    ]);
    expect(unread("config/ImageNet_LT/feat_uniform.yaml", ["dataset.imb_factor=100"])[0]).toMatch(
      /^dataset.imb_factor is 100, which has no effect here: ImageNet_LT reads train_list, val_list, test_list, image_root/,
    );
  });

  it("refuseUnreadKeys names the file and the overrides", () => {
    const loaded = loadConfig(`${FM}/cls_ncm.yaml`, ["coslr=false"]);
    expect(() => refuseUnreadKeys(loaded)).toThrow(`${FM}/cls_ncm.yaml (after --set coslr=false)`);
    expect(() => refuseUnreadKeys(resolveConfig({}, "<defaults>"))).not.toThrow();
  });

  it("an original code's config translates to keys that are all read, NCM (KNNClassifier) included", () => {
    for (const name of Object.keys(ORIGINAL_CONFIGS))
      expect(unreadKeys(resolveConfig(structuredClone(ORIGINAL_CONFIGS[name]), name).config), name).toEqual([]);
    const knn = structuredClone(ORIGINAL_CONFIGS["ImageNet_LT/cls_crt.yaml"]) as any;
    knn.networks.classifier.def_file = "./models/KNNClassifier.py";
    knn.networks.classifier.params = { ...knn.networks.classifier.params, feat_type: "l2n", dist_type: "cos" };
    const cfg = resolveConfig(knn, "knn.yaml").config;
    expect(cfg.stage2).toMatchObject({ method: "ncm", input: "features", ncm: { feat_type: "l2n", dist: "dot" } });
    expect(unreadKeys(cfg)).toEqual([]);
  });
});
