/**
 * The whole main job for one sampler, as a user runs it: `ltr train` for the instance-balanced stage 1
 * (config/FashionMNIST_LT/feat_uniform.yaml) and then for the five classifiers on it (cls_joint, cls_ncm, cls_crt,
 * cls_taunorm, cls_lws), each a child process, timed end to end; against scripts/bench/torch_pipeline.py, the same
 * recipe in PyTorch on the same data.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const CLASSIFIER_CONFIGS = ["cls_joint", "cls_ncm", "cls_crt", "cls_taunorm", "cls_lws"] as const;

export interface PipelineRun {
  stage1_s: number;
  stage2_s: Record<string, number>;
  total_s: number;
}

export interface PipelineOpts {
  /** Stage-1 epochs (30 = the config; fewer for a quick look). */
  epochs: number;
  threads: number;
  dir: string;
  extraSets?: string[];
}

function ltr(args: string[], threads: number): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["bin/ltr.mjs", "train", ...args], {
    encoding: "utf8",
    env: { ...process.env, LTR_NUM_THREADS: String(threads) },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0)
    throw new Error(
      `bench: ltr train ${args.join(" ")} failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`,
    );
  return (performance.now() - t0) / 1000;
}

export function runOursPipeline(o: PipelineOpts): PipelineRun {
  const s1 = join(o.dir, "feat_uniform");
  const sets = (o.extraSets ?? []).flatMap((s) => ["--set", s]);
  const stage1 = ltr(
    [
      "--cfg",
      "config/FashionMNIST_LT/feat_uniform.yaml",
      "--set",
      `training_opt.num_epochs=${o.epochs}`,
      ...sets,
      "--run-dir",
      s1,
    ],
    o.threads,
  );
  const stage2: Record<string, number> = {};
  for (const c of CLASSIFIER_CONFIGS) {
    stage2[c] = ltr(
      ["--cfg", `config/FashionMNIST_LT/${c}.yaml`, "--set", `model_dir=${s1}`, ...sets, "--run-dir", join(s1, c)],
      o.threads,
    );
  }
  return { stage1_s: stage1, stage2_s: stage2, total_s: stage1 + Object.values(stage2).reduce((p, q) => p + q, 0) };
}

export interface TorchPipelineRun {
  times: Record<string, number>;
  test_top1: Record<string, number>;
  /** Wall seconds of the whole child process (interpreter and PyTorch start-up included, like ours). */
  wall_s: number;
}

export function runTorchPipeline(data: string, o: PipelineOpts, env: NodeJS.ProcessEnv): TorchPipelineRun | string {
  const t0 = performance.now();
  const r = spawnSync(
    "/usr/bin/python3",
    [
      join("scripts", "bench", "torch_pipeline.py"),
      "--data",
      data,
      "--epochs",
      String(o.epochs),
      "--threads",
      String(o.threads),
    ],
    { encoding: "utf8", env, maxBuffer: 1 << 24 },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    return `PyTorch pipeline failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-1)[0]}`;
  const out = JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]) as Omit<TorchPipelineRun, "wall_s">;
  return { ...out, wall_s: wall };
}
