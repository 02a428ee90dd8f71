/**
 * What a reproduction notebook's first cell sets up: where its numbers come from, and where its outputs go.
 *
 * A notebook chooses one of
 *   - "results" (the default): the committed reproduction, read from the results bundle (bundle.ts). Nothing trains;
 *     every notebook runs top to bottom in seconds. Without a bundle the notebook stops with a message saying how
 *     to make one, and trains nothing.
 *   - "teach": a small version of the reproduction trained here (profiles.ts), cached under runs/teach/.
 *   - "full": the reproduction itself, trained here, cached under runs/full/ (what `npm run reproduce:table` runs).
 *   - "smoke": a tiny subset, for CI plumbing only (its numbers are near chance).
 * The environment variable LTR_PROFILE overrides the notebook's choice (the replay and the browser test set it).
 *
 * In the training modes, runs are cached by config hash, so a notebook re-opened, or another notebook that needs the
 * same runs, trains nothing again.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { initBackend } from "../backend.js";
import { methodLabel } from "../classifiers/registry.js";
import type { Dataset } from "../data/types.js";
import { loadSplit } from "../features/dir.js";
import type { FeatureSet } from "../features/types.js";
import { sendDisplay } from "../plot/notebook.js";
import { loadCheckpoint } from "../run/checkpoint.js";
import { projectRoot } from "../run/manifest.js";
import { buildDataset } from "../train/build.js";
import { type Bundle, BundleError, bundleDir, loadBundle } from "./bundle.js";
import { CLASSIFIERS, PROFILES, type Profile, type ProfileName, SAMPLERS } from "./profiles.js";
import { ensureStage1, ensureStage2, runStatus, stage1Plan, stage2Plan } from "./runs.js";
import { type ResultSource, type RunRecord, runsSource } from "./source.js";

/** The choices of a notebook's first cell. */
export type NotebookMode = "results" | ProfileName;
export const NOTEBOOK_MODES: readonly NotebookMode[] = ["results", "teach", "full", "smoke"];

/** The runs a notebook reads. */
export interface NotebookNeeds {
  /** Representations by sampler short name ("IB", "CB", "SR", "PB"); default none. */
  samplers?: readonly string[];
  /** Classifiers by label ("Joint", "NCM", "cRT", "τ-norm", "LWS"); default all five. */
  classifiers?: readonly string[];
  /** "all" of the profile's seeds (tables), or only the "first" (walkthrough, weight norms); default "all". */
  seeds?: "all" | "first";
}

/** What the first cell returns. */
export interface NotebookContext {
  mode: NotebookMode;
  /** The profile the numbers belong to: the bundle's in results mode, else the chosen one. */
  profile: Profile;
  /** The finished runs to read: the bundle in results mode, runs/<profile>/ otherwise. */
  source: ResultSource;
  /** The loaded bundle (results mode only). */
  bundle: Bundle | null;
  root: string;
  /** Where the notebook saves its tables and figures: $LTR_NOTEBOOK_OUT, else build/notebook-outputs/<mode>/. */
  nbDir: string;
  /** One sentence on where the numbers come from. */
  about: string;
}

/** A clean stop: the message is shown as Markdown above, the error itself carries no stack trace. */
export class NotebookStop extends Error {
  constructor(message: string) {
    super(message);
    this.stack = `Stopped: ${message.split("\n")[0]}`;
  }
}
// On the prototype, not the instance: an own `name` would be printed after the message.
NotebookStop.prototype.name = "NotebookStop";

const fmtMin = (m: number) =>
  m < 1 ? "under a minute" : m < 90 ? `about ${Math.round(m)} min` : `about ${(m / 60).toFixed(1)} h`;

function stage1RunsNeeded(
  needs: NotebookNeeds,
  profile: Profile,
): { sampler: (typeof SAMPLERS)[number]; seed: number }[] {
  const samplers = pick(SAMPLERS, needs.samplers ?? [], "short", "sampler");
  const seeds = needs.seeds === "first" ? profile.seeds.slice(0, 1) : profile.seeds;
  return seeds.flatMap((seed) => samplers.map((sampler) => ({ sampler, seed })));
}

/**
 * The choices and what each costs this notebook on a 2-core laptop (from the profiles' measured minutes per run;
 * runs already cached cost nothing).
 */
export function choiceTable(needs: NotebookNeeds): string {
  const rows = ["| profile | what the numbers are | this notebook's cost on a 2-core laptop |", "|---|---|---|"];
  rows.push(
    "| `results` | the committed full reproduction (results/FashionMNIST_LT/bundle) | no training, under a minute |",
  );
  for (const name of ["teach", "full"] as const) {
    const p = PROFILES[name];
    const runs = stage1RunsNeeded(needs, p);
    const todo = runs.filter(
      ({ sampler, seed }) => runStatus(stage1Plan(sampler.stage, seed, p).dir) !== "finished",
    ).length;
    const cost =
      runs.length === 0
        ? "no training"
        : todo === 0
          ? `none: ${runs.length === 1 ? "its run is" : `its ${runs.length} runs are`} cached in runs/${name}/`
          : `${fmtMin(todo * p.minutesPerRun)} to train ${todo} stage-1 run${todo > 1 ? "s" : ""} (then cached)`;
    rows.push(`| \`${name}\` | ${p.about} | ${cost} |`);
  }
  return rows.join("\n");
}

function pick<T extends { short?: string; label?: string }>(
  all: readonly T[],
  names: readonly string[],
  key: "short" | "label",
  what: string,
): T[] {
  return names.map((n) => {
    const hit = all.find((x) => x[key] === n);
    if (!hit) throw new Error(`openNotebook: unknown ${what} '${n}'; valid: ${all.map((x) => x[key]).join(", ")}`);
    return hit;
  });
}

function markdown(text: string): void {
  if (!sendDisplay({ data: { "text/markdown": text, "text/plain": text }, metadata: {} })) console.log(text);
}

/**
 * Where a notebook saves its tables and figures (created): $LTR_NOTEBOOK_OUT (the reproduction points it at
 * `<output folder>/notebooks`), else `build/notebook-outputs/<mode>/`, which git ignores — so opening and running
 * a notebook never changes the committed results.
 */
export function notebookOutputDir(mode: string = process.env.LTR_PROFILE || "results"): string {
  const root = projectRoot();
  const dir = process.env.LTR_NOTEBOOK_OUT
    ? resolve(root, process.env.LTR_NOTEBOOK_OUT)
    : join(root, "build", "notebook-outputs", mode);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * The first cell's work: resolve the choice (LTR_PROFILE wins), then either load the results bundle (results mode)
 * or make sure the runs the notebook needs are finished, training only what runs/<profile>/ lacks.
 */
export async function openNotebook(choice: string, needs: NotebookNeeds = {}): Promise<NotebookContext> {
  const mode = choice as NotebookMode;
  if (!NOTEBOOK_MODES.includes(mode))
    throw new NotebookStop(
      `unknown profile '${choice}'; choose one of ${NOTEBOOK_MODES.map((m) => `"${m}"`).join(", ")}`,
    );
  const root = projectRoot();
  const nbDir = notebookOutputDir(mode);
  if (mode === "results") {
    const dir = process.env.LTR_BUNDLE ? resolve(root, process.env.LTR_BUNDLE) : bundleDir(PROFILES.full);
    const where = relative(root, dir);
    if (!existsSync(join(dir, "bundle.json"))) {
      markdown(
        `**The committed results are not in this checkout:** \`${where}/bundle.json\` is missing, so there is nothing to show in ` +
          "`results` mode (and this notebook never trains unasked).\n\n" +
          "- Make the bundle: `npm run reproduce:table` trains the full reproduction (about an hour on 2 cores) and writes it; " +
          "`npm run figures` writes it from runs you already have.\n" +
          `- Or set \`profile = "teach"\` in the first code cell to train a small version here:\n\n${choiceTable(needs)}`,
      );
      throw new NotebookStop(`no results bundle in ${where}; see the message above`);
    }
    let bundle: Bundle;
    try {
      bundle = loadBundle(dir);
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      markdown(`**The results bundle cannot be used:** ${e.message}`);
      throw new NotebookStop("damaged results bundle; see the message above");
    }
    const p = bundle.index.profile;
    const about =
      p === "full"
        ? `the committed full reproduction (${bundle.index.seeds.length} seeds), read from \`${where}/\``
        : `a **${p}**-profile export in \`${where}/\` (not the committed full reproduction)`;
    return { mode, profile: bundle.source.profile, source: bundle.source, bundle, root, nbDir, about };
  }
  const profile = PROFILES[mode];
  await ensureNeeds(profile, needs);
  return {
    mode,
    profile,
    source: runsSource(profile),
    bundle: null,
    root,
    nbDir,
    about: `runs trained here, \`runs/${mode}/\` (${profile.about})`,
  };
}

/** Train what the notebook needs and the run cache lacks (stage-1 runs and their classifiers). */
async function ensureNeeds(profile: Profile, needs: NotebookNeeds): Promise<void> {
  const runs = stage1RunsNeeded(needs, profile);
  if (!runs.length) return;
  const classifiers = pick(CLASSIFIERS, needs.classifiers ?? CLASSIFIERS.map((c) => c.label), "label", "classifier");
  const todo = runs.filter(({ sampler, seed }) => {
    const s1 = stage1Plan(sampler.stage, seed, profile).dir;
    return (
      runStatus(s1) !== "finished" ||
      classifiers.some((c) => runStatus(stage2Plan(c.stage, s1, seed, profile).dir) !== "finished")
    );
  });
  if (!todo.length) {
    console.log(
      `runs: all ${runs.length * (1 + classifiers.length)} runs this notebook reads are cached in runs/${profile.name}/; nothing to train`,
    );
    return;
  }
  console.log(
    `runs: ${todo.length} of ${runs.length} representations need training or classifiers (profile ${profile.name}); progress below`,
  );
  await initBackend();
  let dataset: Dataset | undefined;
  for (const { sampler, seed } of todo) {
    dataset ??= await buildDataset(stage1Plan(sampler.stage, seed, profile).loaded.config);
    const t0 = Date.now();
    const s1 = await ensureStage1(sampler.stage, seed, profile, {
      dataset,
      quiet: true,
      onStart: (w) => console.log(`runs: training stage 1 ${w} ...`),
    });
    for (const c of classifiers) await ensureStage2(c.stage, s1, seed, profile, { dataset, quiet: true });
    console.log(`runs: ${sampler.short} seed ${seed} finished in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}

/** The walkthrough representation: one stage-1 run, its features and its classifiers, for the visible computations. */
export interface Walkthrough {
  sampler: string;
  seed: number;
  /** The stage-1 run folder (relative). */
  run: string;
  numClasses: number;
  dim: number;
  /** Training images per class n_j. */
  trainCounts: number[];
  train: FeatureSet;
  val: FeatureSet;
  test: FeatureSet;
  /** The stage-1 (Joint) classifier, cRT's re-trained one, LWS's scales. */
  joint: { weight: Float32Array; bias: Float32Array };
  crt: { weight: Float32Array; bias: Float32Array };
  lws: { scales: Float32Array };
  /** The runs' own results, by classifier label ("Joint", ...), to compare the recomputation with. */
  runs: Record<string, RunRecord>;
  /** Where the features come from, in words. */
  note: string;
}

/** The instance-balanced, first-seed representation of the context: from the bundle, or from the run folders. */
export function walkthrough(ctx: NotebookContext): Walkthrough {
  const seed = ctx.profile.seeds[0];
  const runs: Record<string, RunRecord> = {};
  for (const c of CLASSIFIERS) {
    const r = ctx.source.stage2("feat_uniform", c.stage, seed);
    if (r) runs[c.label] = r;
  }
  const s1 = ctx.source.stage1("feat_uniform", seed);
  if (!s1 || Object.keys(runs).length < CLASSIFIERS.length)
    throw new NotebookStop(`walkthrough: the IB seed-${seed} runs are not all finished in ${ctx.source.name}`);
  const trainCounts = (runs[methodLabel("joint")].results as { train_counts: number[] }).train_counts;
  if (ctx.bundle) {
    const f = ctx.bundle.features();
    const c = ctx.bundle.classifiersOf("IB", seed);
    const w = ctx.bundle.index.walkthrough;
    return {
      sampler: "IB",
      seed,
      run: s1.run,
      numClasses: w.numClasses,
      dim: w.dim,
      trainCounts,
      ...f,
      joint: c.stage1,
      crt: c.crt,
      lws: c.lws,
      runs,
      note: "float16 copies of the run's float32 features (about 3 significant digits), from the results bundle",
    };
  }
  const dir = join(ctx.root, s1.run);
  const tensor = (path: string, name: string) => {
    const t = loadCheckpoint(path).tensors[name];
    if (!t) throw new Error(`${path}: no tensor '${name}'`);
    return { data: Float32Array.from(t.data), shape: t.shape };
  };
  const w = tensor(join(dir, "best.ckpt"), "classifier.fc.weight");
  const [numClasses, dim] = w.shape;
  const s2 = (label: string) => join(ctx.root, runs[label].run, "classifier.ckpt");
  return {
    sampler: "IB",
    seed,
    run: s1.run,
    numClasses,
    dim,
    trainCounts,
    train: loadSplit(join(dir, "features"), "train"),
    val: loadSplit(join(dir, "features"), "val"),
    test: loadSplit(join(dir, "features"), "test"),
    joint: { weight: w.data, bias: tensor(join(dir, "best.ckpt"), "classifier.fc.bias").data },
    crt: {
      weight: tensor(s2(methodLabel("crt")), "classifier.fc.weight").data,
      bias: tensor(s2(methodLabel("crt")), "classifier.fc.bias").data,
    },
    lws: { scales: tensor(s2(methodLabel("lws")), "classifier.scales").data },
    runs,
    note: `the run's own float32 features (${s1.run}/features/)`,
  };
}
