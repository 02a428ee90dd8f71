/**
 * The committed results bundle: everything the notebooks and `npm run figures` need from a finished reproduction,
 * small enough to commit (about 3.5 MB for the full profile), so a fresh clone shows the real numbers without
 * training. `npm run reproduce:table` exports it from the run cache once every run of the profile has finished.
 *
 * Layout of `<profile output folder>/bundle/` (results/FashionMNIST_LT/bundle for the full profile):
 *
 * | file                               | content                                                                        |
 * |------------------------------------|--------------------------------------------------------------------------------|
 * | `bundle.json`                      | the index: profile, seeds, the representations in array order, every other   |
 * |                                    | file with its size and sha256 (checked on load), what each holds              |
 * | `runs.json`                        | every run (4 samplers × seeds × stage 1 + 5 classifiers): its folder name,   |
 * |                                    | manifest.json and results.json, machine paths made portable (portable.ts)     |
 * | `arrays/stage1_fc_{weight,bias}.npy` | the stage-1 (Joint) classifier of every representation, float32 [R, C, d] / [R, C] |
 * | `arrays/crt_fc_{weight,bias}.npy`  | the re-trained cRT classifier of every representation, float32                 |
 * | `arrays/lws_scales.npy`            | the learned LWS scales f_j of every representation, float32 [R, C]            |
 * | `features/<rep>_<split>_feats.npy` | float16 copies of one representation's pooled features (train, val, test)     |
 * | `features/<rep>_<split>_labels.npy`| their labels, uint8                                                            |
 *
 * R runs over `bundle.json`'s `representations` (sampler-major, then seed). The features are those of the
 * walkthrough representation (instance-balanced, first seed): the notebooks recompute NCM, τ-normalisation, cRT
 * and LWS from them in a few visible lines. float16 keeps 11 significant bits, so a recomputed accuracy can differ
 * from the run's (float32) one in the last digit; the notebooks show both.
 *
 * Writes are all-or-nothing: the new bundle is written into a sibling folder and swapped in; a bundle whose files are
 * unchanged is not rewritten. Reads verify every file's size and sha256.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { methodStage } from "../classifiers/registry.js";
import { readFeatures } from "../features/format.js";
import type { FeatureSet } from "../features/types.js";
import { sha256Hex } from "../hash.js";
import { writeFileAtomic } from "../run/atomic.js";
import { loadCheckpoint } from "../run/checkpoint.js";
import { projectRoot } from "../run/manifest.js";
import { exportedRecord } from "../run/portable.js";
import { type BundleDtype, decodeNpy, npyBytes } from "./arrays.js";
import { CLASSIFIERS, PROFILES, type Profile, type ProfileName, SAMPLERS } from "./profiles.js";
import { readJson, runStatus, stage1Plan, stage2Plan } from "./runs.js";
import type { ResultSource, RunRecord } from "./source.js";

export const BUNDLE_FORMAT = "decoupling-lt/results-bundle";
export const BUNDLE_VERSION = 1;

/** One file of the bundle, as listed in bundle.json. */
export interface BundleFile {
  /** Path inside the bundle folder. */
  path: string;
  bytes: number;
  sha256: string;
  /** What it holds, in words. */
  content: string;
  dtype?: BundleDtype;
  shape?: number[];
}

/** bundle.json. */
export interface BundleIndex {
  format: string;
  version: number;
  /** The reproduction profile the runs belong to ("full" for the committed bundle). */
  profile: ProfileName;
  dataset: string;
  seeds: number[];
  /** Sampler short names and classifier labels, as in profiles.ts. */
  samplers: string[];
  classifiers: string[];
  /** The profile's config overrides (empty for full: the configs as written). */
  overrides: { stage1: string[]; stage2: string[]; stage2_training: string[] };
  /** The command that wrote it. */
  made_by: string;
  /** Order of the first axis of the arrays/ files. */
  representations: { sampler: string; seed: number; run: string }[];
  /** The representation whose features are included. */
  walkthrough: {
    sampler: string;
    seed: number;
    run: string;
    numClasses: number;
    dim: number;
    rows: Record<Split, number>;
    note: string;
  };
  files: BundleFile[];
}

type Split = "train" | "val" | "test";
const SPLITS: Split[] = ["train", "val", "test"];

/** One entry of runs.json. */
export interface BundleRun extends RunRecord {
  sampler: string;
  /** Config stage of this run (feat_* for stage 1, cls_* for stage 2). */
  stage: string;
  /** Config stage of the stage-1 run it belongs to. */
  stage1: string;
  seed: number;
}

/** The classifiers of one representation, as stored in arrays/. */
export interface RepresentationClassifiers {
  stage1: { weight: Float32Array; bias: Float32Array };
  crt: { weight: Float32Array; bias: Float32Array };
  lws: { scales: Float32Array };
}

/** A loaded, verified bundle. */
export interface Bundle {
  dir: string;
  index: BundleIndex;
  runs: BundleRun[];
  /** The bundle's runs as a result source (tables, figures). */
  source: ResultSource;
  /** Stage-1, cRT and LWS parameters of a representation (sampler short name, seed). */
  classifiersOf(sampler: string, seed: number): RepresentationClassifiers;
  /** The walkthrough representation's features (float16 copies widened to float32). */
  features(): Record<Split, FeatureSet>;
}

/** Where a profile's bundle lives: `<profile output folder>/bundle` (results/FashionMNIST_LT/bundle for full). */
export function bundleDir(profile: Profile): string {
  return join(projectRoot(), profile.outDir, "bundle");
}

const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 1)}\n`, "utf8");

/** What {@link exportBundle} did. */
export interface ExportResult {
  dir: string;
  /** "written": new or changed; "unchanged": identical to what was there; "incomplete": nothing written. */
  status: "written" | "unchanged" | "incomplete";
  /** Runs (or files) that are not finished yet, when incomplete. */
  missing: string[];
  /** Total size in bytes (written or unchanged). */
  bytes: number;
}

/**
 * Export a profile's bundle from its run cache. Every stage-1 run and every classifier on it must be finished, and
 * the walkthrough representation's features cached (stage 2 writes them); otherwise nothing is written and
 * `missing` says what to run, so a complete bundle is never replaced by a partial one.
 */
export function exportBundle(profile: Profile, dir = bundleDir(profile)): ExportResult {
  const root = projectRoot();
  const missing: string[] = [];
  const runs: BundleRun[] = [];
  const reps: { sampler: string; seed: number; dir: string }[] = [];
  for (const s of SAMPLERS)
    for (const seed of profile.seeds) {
      const s1 = stage1Plan(s.stage, seed, profile).dir;
      reps.push({ sampler: s.short, seed, dir: s1 });
      const dirs = [
        { stage: s.stage, d: s1 },
        ...CLASSIFIERS.map((c) => ({ stage: c.stage, d: stage2Plan(c.stage, s1, seed, profile).dir })),
      ];
      for (const { stage, d } of dirs) {
        if (runStatus(d) !== "finished") {
          missing.push(`${s.short}/${stage}/seed${seed}`);
          continue;
        }
        runs.push({
          sampler: s.short,
          stage,
          stage1: s.stage,
          seed,
          run: relative(root, d),
          manifest: exportedRecord(readJson(join(d, "manifest.json")), root),
          results: exportedRecord(readJson(join(d, "results.json")), root),
        });
      }
    }
  const walk = reps[0]; // IB, first seed
  const featPaths = SPLITS.map((split) => join(walk.dir, "features", `${split}.ltf`));
  for (const p of featPaths) if (!existsSync(p)) missing.push(relative(root, p));
  if (missing.length) return { dir, status: "incomplete", missing, bytes: 0 };

  const files = new Map<string, { bytes: Uint8Array; content: string; dtype?: BundleDtype; shape?: number[] }>();
  files.set("runs.json", { bytes: json(runs), content: "every run's folder name, manifest.json and results.json" });
  // Classifier parameters, stacked over the representations.
  const stack = (get: (dir: string, seed: number) => Float32Array) => {
    const parts = reps.map((r) => get(r.dir, r.seed));
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return { data: out, each: parts[0].length };
  };
  const tensor = (path: string, name: string) => {
    const t = loadCheckpoint(path).tensors[name];
    if (!t) throw new Error(`${path}: no tensor '${name}' (is it a run of this version of decoupling-lt?)`);
    return { data: Float32Array.from(t.data), shape: t.shape };
  };
  const s2 = (s1: string, stage: string, seed: number) =>
    join(stage2Plan(stage, s1, seed, profile).dir, "classifier.ckpt");
  const w0 = tensor(join(walk.dir, "best.ckpt"), "classifier.fc.weight");
  const [numClasses, dim] = w0.shape;
  const R = reps.length;
  const arrays: [string, string, (d: string, seed: number) => Float32Array, number[]][] = [
    [
      "stage1_fc_weight",
      "the stage-1 (Joint) classifier weight w_j of every representation",
      (d) => tensor(join(d, "best.ckpt"), "classifier.fc.weight").data,
      [R, numClasses, dim],
    ],
    [
      "stage1_fc_bias",
      "the stage-1 (Joint) classifier bias of every representation",
      (d) => tensor(join(d, "best.ckpt"), "classifier.fc.bias").data,
      [R, numClasses],
    ],
    [
      "crt_fc_weight",
      "the cRT classifier weight of every representation",
      (d, seed) => tensor(s2(d, methodStage("crt"), seed), "classifier.fc.weight").data,
      [R, numClasses, dim],
    ],
    [
      "crt_fc_bias",
      "the cRT classifier bias of every representation",
      (d, seed) => tensor(s2(d, methodStage("crt"), seed), "classifier.fc.bias").data,
      [R, numClasses],
    ],
    [
      "lws_scales",
      "the learned LWS scales f_j of every representation",
      (d, seed) => tensor(s2(d, methodStage("lws"), seed), "classifier.scales").data,
      [R, numClasses],
    ],
  ];
  for (const [name, content, get, shape] of arrays) {
    const { data } = stack(get);
    files.set(`arrays/${name}.npy`, { bytes: npyBytes("<f4", shape, data), content, dtype: "<f4", shape });
  }
  const rows = {} as Record<Split, number>;
  const rep = `${walk.sampler}_seed${walk.seed}`;
  SPLITS.forEach((split, k) => {
    const f = readFeatures(featPaths[k]);
    if (f.dim !== dim) throw new Error(`${featPaths[k]}: d = ${f.dim} but the classifier has d = ${dim}`);
    rows[split] = f.n;
    files.set(`features/${rep}_${split}_feats.npy`, {
      bytes: npyBytes("<f2", [f.n, f.dim], f.feats),
      content: `float16 copy of the ${split} features of ${relative(root, walk.dir)}`,
      dtype: "<f2",
      shape: [f.n, f.dim],
    });
    files.set(`features/${rep}_${split}_labels.npy`, {
      bytes: npyBytes("|u1", [f.n], f.labels),
      content: `labels of the ${split} features`,
      dtype: "|u1",
      shape: [f.n],
    });
  });

  const index: BundleIndex = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    profile: profile.name,
    dataset: "FashionMNIST_LT",
    seeds: [...profile.seeds],
    samplers: SAMPLERS.map((s) => s.short),
    classifiers: CLASSIFIERS.map((c) => c.label),
    overrides: {
      stage1: [...profile.stage1],
      stage2: [...profile.stage2],
      stage2_training: [...profile.stage2Training],
    },
    made_by: `npm run reproduce:table -- --profile ${profile.name} (or npm run figures -- --profile ${profile.name} once its runs are finished)`,
    representations: reps.map((r) => ({ sampler: r.sampler, seed: r.seed, run: relative(root, r.dir) })),
    walkthrough: {
      sampler: walk.sampler,
      seed: walk.seed,
      run: relative(root, walk.dir),
      numClasses,
      dim,
      rows,
      note: "features are float16 copies of the run's float32 features (about 3 significant digits); indices are row positions",
    },
    files: [...files.entries()].map(([path, f]) => ({
      path,
      bytes: f.bytes.byteLength,
      sha256: sha256Hex(f.bytes),
      content: f.content,
      ...(f.dtype ? { dtype: f.dtype, shape: f.shape } : {}),
    })),
  };
  const all = new Map<string, Uint8Array>([
    ["bundle.json", json(index)],
    ...[...files.entries()].map(([p, f]) => [p, f.bytes] as [string, Uint8Array]),
  ]);
  const bytes = [...all.values()].reduce((a, b) => a + b.byteLength, 0);
  if (sameFiles(dir, all)) return { dir, status: "unchanged", missing: [], bytes };
  swapIn(dir, all);
  return { dir, status: "written", missing: [], bytes };
}

function listFiles(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function sameFiles(dir: string, files: Map<string, Uint8Array>): boolean {
  const have = listFiles(dir);
  if (have.length !== files.size) return false;
  for (const [p, b] of files) {
    const f = join(dir, p);
    if (!existsSync(f) || statSync(f).size !== b.byteLength || !Buffer.from(b).equals(readFileSync(f))) return false;
  }
  return true;
}

/** Write the files into a sibling folder, then swap it in: readers see the old bundle or the new one. */
function swapIn(dir: string, files: Map<string, Uint8Array>): void {
  const tmp = `${dir}.new-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const [p, b] of files) writeFileAtomic(join(tmp, p), b);
  mkdirSync(dirname(dir), { recursive: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** Why a bundle could not be used, with what to do about it. */
export class BundleError extends Error {}

function fail(dir: string, what: string): never {
  throw new BundleError(
    `results bundle ${relative(projectRoot(), dir) || dir}: ${what}. Restore the committed one with \`git checkout -- ${relative(projectRoot(), dir)}\`, ` +
      "or re-export it from finished runs with `npm run figures`.",
  );
}

/** The bundle in `dir`, or null when there is none (no bundle.json). Throws a {@link BundleError} when it is damaged. */
export function tryLoadBundle(dir: string): Bundle | null {
  if (!existsSync(join(dir, "bundle.json"))) return null;
  return loadBundle(dir);
}

/** Load and verify a bundle: format, every file's size and sha256, the arrays' shapes. */
export function loadBundle(dir: string): Bundle {
  const indexPath = join(dir, "bundle.json");
  if (!existsSync(indexPath)) fail(dir, "bundle.json is missing");
  let index: BundleIndex;
  try {
    index = JSON.parse(readFileSync(indexPath, "utf8")) as BundleIndex;
  } catch (e) {
    fail(dir, `bundle.json is not valid JSON (${(e as Error).message})`);
  }
  if (index.format !== BUNDLE_FORMAT)
    fail(dir, `bundle.json has format '${index.format}', expected '${BUNDLE_FORMAT}'`);
  if (index.version !== BUNDLE_VERSION)
    fail(dir, `bundle.json is version ${index.version}; this code reads version ${BUNDLE_VERSION}`);
  if (!PROFILES[index.profile]) fail(dir, `bundle.json names an unknown profile '${index.profile}'`);
  const bytes = new Map<string, Uint8Array>();
  for (const f of index.files) {
    const p = join(dir, f.path);
    if (!existsSync(p)) fail(dir, `${f.path} is missing`);
    const b = readFileSync(p);
    if (b.byteLength !== f.bytes) fail(dir, `${f.path} has ${b.byteLength} bytes, bundle.json says ${f.bytes}`);
    if (sha256Hex(b) !== f.sha256)
      fail(dir, `${f.path} does not match its sha256 in bundle.json (edited or half-written)`);
    bytes.set(f.path, b);
  }
  const entry = (path: string) => {
    const f = index.files.find((x) => x.path === path);
    const b = bytes.get(path);
    if (!f || !b) fail(dir, `${path} is not listed in bundle.json`);
    const a = decodeNpy(b, join(dir, path));
    if (JSON.stringify(a.shape) !== JSON.stringify(f.shape))
      fail(dir, `${path} has shape [${a.shape}], bundle.json says [${f.shape}]`);
    return a;
  };
  const runsBytes = bytes.get("runs.json");
  if (!runsBytes) fail(dir, "runs.json is not listed in bundle.json");
  const runs = JSON.parse(Buffer.from(runsBytes).toString("utf8")) as BundleRun[];
  const profile: Profile = { ...PROFILES[index.profile], seeds: index.seeds };
  const find = (stage1: string, stage: string, seed: number): RunRecord | null => {
    const r = runs.find((x) => x.stage1 === stage1 && x.stage === stage && x.seed === seed);
    return r ? { run: r.run, manifest: r.manifest, results: r.results } : null;
  };
  const source: ResultSource = {
    name: `the results bundle ${relative(projectRoot(), dir)}/ (${index.profile} profile)`,
    profile,
    stage1: (stage, seed) => find(stage, stage, seed),
    stage2: (s1, stage, seed) => find(s1, stage, seed),
  };
  const { numClasses: C, dim: d } = index.walkthrough;
  const cache = new Map<string, Float32Array>();
  const array = (name: string) => {
    if (!cache.has(name)) cache.set(name, entry(`arrays/${name}.npy`).data as Float32Array);
    return cache.get(name)!;
  };
  return {
    dir,
    index,
    runs,
    source,
    classifiersOf(sampler, seed) {
      const r = index.representations.findIndex((x) => x.sampler === sampler && x.seed === seed);
      if (r < 0)
        throw new BundleError(
          `results bundle ${dir}: no representation ${sampler} seed ${seed}; it has ${index.representations.map((x) => `${x.sampler}/seed${x.seed}`).join(", ")}`,
        );
      const mat = (name: string) => array(name).slice(r * C * d, (r + 1) * C * d);
      const vec = (name: string) => array(name).slice(r * C, (r + 1) * C);
      return {
        stage1: { weight: mat("stage1_fc_weight"), bias: vec("stage1_fc_bias") },
        crt: { weight: mat("crt_fc_weight"), bias: vec("crt_fc_bias") },
        lws: { scales: vec("lws_scales") },
      };
    },
    features() {
      const rep = `${index.walkthrough.sampler}_seed${index.walkthrough.seed}`;
      const out = {} as Record<Split, FeatureSet>;
      for (const split of SPLITS) {
        const f = entry(`features/${rep}_${split}_feats.npy`);
        const l = entry(`features/${rep}_${split}_labels.npy`);
        const n = f.shape[0];
        out[split] = {
          feats: f.data as Float32Array,
          dim: f.shape[1],
          labels: Int32Array.from(l.data),
          indices: Int32Array.from({ length: n }, (_, i) => i),
          n,
        };
      }
      return out;
    },
  };
}
