/**
 * A fake but well-formed run cache for one profile: every stage-1 run (manifest, results, best.ckpt) and its five
 * classifiers (manifest, results, cRT/LWS classifier.ckpt), plus the cached features of the IB first-seed run, at the
 * folders the reproduction plans for them. No training: the numbers are seeded and made up, the files are real.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFeatures } from "../../src/features/format.js";
import { CLASSIFIERS, type Profile, SAMPLERS } from "../../src/repro/profiles.js";
import { stage1Plan, stage2Plan } from "../../src/repro/runs.js";
import { saveCheckpoint } from "../../src/run/checkpoint.js";

export const C = 10;
export const D = 8;
export const COUNTS = [300, 190, 120, 76, 48, 30, 19, 12, 7, 5];

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const json = (p: string, v: unknown) => writeFileSync(p, `${JSON.stringify(v, null, 2)}\n`);
const evalOf = (r: () => number) => {
  const [many, medium, few] = [80 + 10 * r(), 40 + 20 * r(), 30 * r()].map((x) => Math.round(x * 100) / 100);
  return {
    top1: Math.round(((many * 4 + medium * 4 + few * 2) / 10) * 100) / 100,
    many,
    medium,
    few,
    macro_f1: 50,
    n: 1000,
  };
};

/** Write the fake cache; returns the stage-1 folders, to delete afterwards with {@link removeFakeRuns}. */
export function writeFakeRuns(profile: Profile, seed = 1): string[] {
  const r = rng(seed);
  const dirs: string[] = [];
  for (const s of SAMPLERS)
    for (const sd of profile.seeds) {
      const s1 = stage1Plan(s.stage, sd, profile).dir;
      rmSync(s1, { recursive: true, force: true });
      mkdirSync(s1, { recursive: true });
      dirs.push(s1);
      const weight = Float32Array.from({ length: C * D }, () => r() - 0.5);
      const bias = Float32Array.from({ length: C }, () => r() - 0.5);
      saveCheckpoint(join(s1, "best.ckpt"), {
        tensors: {
          "classifier.fc.weight": { shape: [C, D], data: weight },
          "classifier.fc.bias": { shape: [C], data: bias },
        },
        meta: { epoch: 1 },
      });
      json(join(s1, "manifest.json"), {
        kind: "stage1",
        status: "finished",
        seed: sd,
        config: { training_opt: { num_epochs: 2, batch_size: 128 } },
      });
      json(join(s1, "results.json"), { best_epoch: 1, val: evalOf(r), test: evalOf(r), train_counts: COUNTS });
      for (const c of CLASSIFIERS) {
        const d2 = stage2Plan(c.stage, s1, sd, profile).dir;
        mkdirSync(d2, { recursive: true });
        const extra: Record<string, unknown> = {};
        if (c.method === "tau_norm") {
          const sweep = Array.from({ length: 21 }, (_, i) => ({ tau: i / 10, ...evalOf(r) }));
          Object.assign(extra, { tau: 0.7 + 0.1 * (sd - profile.seeds[0]), valSweep: sweep, testSweep: sweep });
        }
        json(join(d2, "manifest.json"), { kind: `stage2-${c.method}`, status: "finished", seed: sd });
        json(join(d2, "results.json"), {
          method: c.method,
          val: evalOf(r),
          test: evalOf(r),
          weight_norms: COUNTS.map((n) => Math.log(n)),
          train_counts: COUNTS,
          extra,
        });
        if (c.method === "crt")
          saveCheckpoint(join(d2, "classifier.ckpt"), {
            tensors: {
              "classifier.fc.weight": { shape: [C, D], data: weight.map((x) => 2 * x) },
              "classifier.fc.bias": { shape: [C], data: bias },
            },
            meta: { method: "crt" },
          });
        if (c.method === "lws")
          saveCheckpoint(join(d2, "classifier.ckpt"), {
            tensors: { "classifier.scales": { shape: [C], data: Float32Array.from(COUNTS, (n) => 1 + 1 / n) } },
            meta: { method: "lws" },
          });
      }
      if (s.short === "IB" && sd === profile.seeds[0]) {
        mkdirSync(join(s1, "features"), { recursive: true });
        for (const [split, n] of [
          ["train", 40],
          ["val", 20],
          ["test", 30],
        ] as const) {
          const feats = Float32Array.from({ length: n * D }, () => 4 * r());
          const labels = Int32Array.from({ length: n }, (_, i) => i % C);
          writeFeatures(
            join(s1, "features", `${split}.ltf`),
            { feats, dim: D, labels, indices: Int32Array.from({ length: n }, (_, i) => i), n },
            { split },
          );
        }
      }
    }
  return dirs;
}

export function removeFakeRuns(dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
