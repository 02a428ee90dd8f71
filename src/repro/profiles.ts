/**
 * Reproduction profiles, each a set of config overrides (runs are cached under runs/<profile>/ by config hash):
 *   - `full` runs the configs as written (Fashion-MNIST-LT, 30 stage-1 epochs, the seeds of `FULL_SEEDS`): the
 *     reproduction. Its seed count decides how narrow the findings' intervals are (docs/STATISTICS.md); adding seeds
 *     trains only the new ones (runs are cached per seed).
 *   - `teach` is small enough to train from a notebook in minutes and still shows the paper's effects
 *     (src/repro/effects.ts; `npm run test:teach` checks them): 1 seed, 30 epochs on a 500 → 10 subset
 *     (imbalance factor 50, 1,394 images). With fewer epochs or a harder tail (IF 400, or 8–12 epochs) the stage-1
 *     classifier never predicts the Few classes and τ-norm and LWS cannot lift them, as we measured.
 *   - `smoke` runs the same pipeline on a tiny subset for 2 epochs, so every step executes for real in a minute
 *     (CI replays the notebooks with it); its numbers are near chance.
 */
import { CLASSIFIER_METHODS } from "../classifiers/registry.js";

export type ProfileName = "smoke" | "teach" | "full";

export interface Profile {
  name: ProfileName;
  /** Training seeds (the long-tailed subset itself is fixed: subset seed 0). */
  seeds: number[];
  /** Overrides applied to every stage-1 config. */
  stage1: string[];
  /** Overrides applied to every stage-2 config. */
  stage2: string[];
  /**
   * Overrides applied, after `stage2`, to the stage-2 configs of the methods that train (cRT, LWS): the others read
   * no training setting, and a config that set one would be refused (src/train/unread_keys.ts).
   */
  stage2Training: string[];
  /** Where published outputs go (full: results/, others: build/results-<profile>/). */
  outDir: string;
  /** What the profile trains, in a few words (the notebooks' choice table). */
  about: string;
  /**
   * Minutes one stage-1 run plus its five classifiers takes on a 2-core laptop (the notebooks' cost estimates).
   * Measured with `time npm run reproduce:table -- --profile <name> --samplers IB,CB` on a quiet machine.
   */
  minutesPerRun: number;
}

/** The four sampling strategies of the paper's representation table, by config name. */
export const SAMPLERS = [
  { stage: "feat_uniform", label: "Instance-balanced", short: "IB" },
  { stage: "feat_balance", label: "Class-balanced", short: "CB" },
  { stage: "feat_squareroot", label: "Square-root", short: "SR" },
  { stage: "feat_shift", label: "Progressively-balanced", short: "PB" },
] as const;

/** One classifier of the reproduction: its stage-2 config (run-folder stage), registry name and display label. */
export interface ReproClassifier {
  stage: string;
  method: string;
  label: string;
  /** Whether the method trains for epochs (its config then takes the profile's `stage2Training`). */
  trains: boolean;
}

/**
 * The classifiers of the paper's classifier table (Joint, NCM, cRT, τ-norm, LWS), in its order: the registered
 * methods whose entry says `reproduced` (src/classifiers/methods/).
 */
export const CLASSIFIERS: readonly ReproClassifier[] = CLASSIFIER_METHODS.filter((m) => m.reproduced).map((m) => ({
  stage: m.stage,
  method: m.name,
  label: m.label,
  trains: m.trains,
}));

/** The full reproduction's training seeds: everything (tables, findings, bundle, notebooks) follows this list. */
export const FULL_SEEDS: readonly number[] = [0, 1, 2];

export const PROFILES: Record<ProfileName, Profile> = {
  full: {
    name: "full",
    seeds: [...FULL_SEEDS],
    stage1: [],
    stage2: [],
    stage2Training: [],
    outDir: "results/FashionMNIST_LT",
    about: `the reproduction itself: ${FULL_SEEDS.length} seeds, 30 epochs on 9,324 images (5000 → 5 per class)`,
    // Measured: the whole full reproduction (12 stage-1 runs, 60 classifiers, two single-thread pipelines at a
    // time) took 28 min 49 s on a quiet 2-core machine (commit 5c9f538), 2.4 min per run with its five classifiers.
    minutesPerRun: 2.4,
  },
  smoke: {
    name: "smoke",
    seeds: [0],
    // 300, 190, 120, 76, 48, 30, 19, 12, 7, 5 images: all three shot groups present, ~800 images.
    stage1: ["training_opt.num_epochs=2", "dataset.n_max=300", "dataset.imb_factor=60", "dataset.val_per_class=20"],
    stage2: ["dataset.n_max=300", "dataset.imb_factor=60", "dataset.val_per_class=20"],
    stage2Training: ["training_opt.num_epochs=2"],
    outDir: "build/results-smoke/FashionMNIST_LT",
    about: "CI plumbing: 1 seed, 2 epochs on 807 images; numbers near chance",
    // Measured: one run with its five classifiers in 9 s (process start included) on a quiet 2-core machine.
    minutesPerRun: 0.15,
  },
  teach: {
    name: "teach",
    seeds: [0],
    stage1: ["training_opt.num_epochs=30", "dataset.n_max=500", "dataset.imb_factor=50", "dataset.val_per_class=50"],
    stage2: ["dataset.n_max=500", "dataset.imb_factor=50", "dataset.val_per_class=50"],
    stage2Training: [],
    outDir: "build/results-teach/FashionMNIST_LT",
    about: "a small version: 1 seed, 30 epochs on 1,394 images (500 → 10 per class)",
    // Measured: two runs with their five classifiers each in 56 s on a quiet 2-core machine.
    minutesPerRun: 0.5,
  },
};

export function getProfile(name: string | undefined): Profile {
  const n = (name ?? process.env.LTR_PROFILE ?? "full") as ProfileName;
  const p = PROFILES[n];
  if (!p) throw new Error(`unknown profile '${name}'; valid profiles: ${Object.keys(PROFILES).join(", ")}`);
  return p;
}
