/**
 * Where the reproduction's numbers come from. Tables, figures and notebooks read finished runs through one small
 * interface, so the same code works on
 *   - the run cache `runs/<profile>/` (what `npm run reproduce:table` trains), and
 *   - the committed results bundle (bundle.ts: every run's results and manifest, exported from the cache), so a
 *     fresh clone shows the reproduction without training, and
 *   - the two layered: runs first, the bundle for what the cache lacks (`npm run figures`).
 *
 * Runs are named by their config stage (`feat_uniform`, `cls_joint`, ...) and seed, as in profiles.ts.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { projectRoot } from "../run/manifest.js";
import type { Profile } from "./profiles.js";
import { readJson, runStatus, stage1Plan, stage2Plan } from "./runs.js";

/** One finished run: its folder (relative to the project root), manifest.json and results.json. */
export interface RunRecord {
  run: string;
  manifest: Record<string, unknown>;
  results: Record<string, unknown>;
}

/** Finished runs of one reproduction profile. */
export interface ResultSource {
  /** Where the numbers come from, for humans ("runs/full/", "the results bundle results/…/bundle"). */
  name: string;
  /** The profile the runs belong to (its seeds are what tables aggregate over). */
  profile: Profile;
  /** A finished stage-1 run, or null. */
  stage1(stage: string, seed: number): RunRecord | null;
  /** A finished stage-2 run on the stage-1 run (stage1Stage, seed), or null. */
  stage2(stage1Stage: string, stage: string, seed: number): RunRecord | null;
}

function record(dir: string): RunRecord | null {
  if (runStatus(dir) !== "finished") return null;
  const m = join(dir, "manifest.json");
  return {
    run: relative(projectRoot(), dir),
    manifest: existsSync(m) ? readJson(m) : {},
    results: readJson(join(dir, "results.json")),
  };
}

/** The run cache of a profile (runs/<profile>/), read as it is; nothing trains. */
export function runsSource(profile: Profile): ResultSource {
  return {
    name: `runs/${profile.name}/`,
    profile,
    stage1: (stage, seed) => record(stage1Plan(stage, seed, profile).dir),
    stage2: (s1, stage, seed) => record(stage2Plan(stage, stage1Plan(s1, seed, profile).dir, seed, profile).dir),
  };
}

/** Sources tried in order: the first that has a run wins (runs in the cache before the committed bundle). */
export function layeredSource(first: ResultSource, ...rest: ResultSource[]): ResultSource {
  const all = [first, ...rest];
  const pick = <T>(f: (s: ResultSource) => T | null): T | null => {
    for (const s of all) {
      const hit = f(s);
      if (hit) return hit;
    }
    return null;
  };
  return {
    name: all.map((s) => s.name).join(" + "),
    profile: first.profile,
    stage1: (stage, seed) => pick((s) => s.stage1(stage, seed)),
    stage2: (s1, stage, seed) => pick((s) => s.stage2(s1, stage, seed)),
  };
}
