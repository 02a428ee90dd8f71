/**
 * What deterministic numerics cost: real `ltr train` epochs with the default `LTR_NUMERICS=deterministic` (our own
 * Winograd/direct convolution kernels, pinned OpenBLAS core, fixed thread partitioning; docs/DETERMINISM.md)
 * against `LTR_NUMERICS=fast` (oneDNN's CPU-dispatched convolutions), in A/B alternation, the same recipe and data
 * as the headline bench (scripts/bench/epochs.ts: ResNet-8 on Fashion-MNIST-LT, ResNet-32 on CIFAR-shaped noise).
 *
 * Like the headline bench it refuses to publish from a busy machine (load above 0.5 per core at the start).
 * Usage: node --import tsx scripts/bench/numerics.ts [--pairs N] [--epochs N] [--out DIR] [--allow-busy]
 * Writes <out>/numerics.json and numerics.md (default results/bench).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { buildDataset } from "../../src/train/build.js";
import { writeSyntheticCifar10 } from "./data.js";
import { type EpochWorkload, median, type RunResult, runOurs } from "./epochs.js";
import { loadCheck, startGuard } from "./machine.js";

const BATCH = 128;
const argv = process.argv.slice(2);
const num = (flag: string, d: number) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const outDir = (() => {
  const i = argv.indexOf("--out");
  return i >= 0 ? argv[i + 1] : "results/bench";
})();
const pairs = num("--pairs", 5);
const epochs = num("--epochs", 3);
const threads = Number(process.env.LTR_NUM_THREADS ?? cpus().length);

const start = loadCheck();
const busy = start.busy;
if (busy && !argv.includes("--allow-busy")) {
  console.error(
    `bench numerics: load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores (above 0.5 per core); stop other jobs and run again, or pass --allow-busy (the report is then marked as not publishable)`,
  );
  process.exit(1);
}

const guard = startGuard();
const work = mkdtempSync(join(tmpdir(), "ltr-bench-numerics-"));
const log = (s: string) => console.log(s);
try {
  const fm = await buildDataset(loadConfig("config/FashionMNIST_LT/feat_uniform.yaml", []).config);
  const root = writeSyntheticCifar10(join(work, "cifar"), 1000);
  const sets = ["dataset.imb_factor=1", "dataset.n_max=500", "dataset.val_per_class=20"];
  const cds = await buildDataset(
    loadConfig("config/CIFAR10_LT/feat_uniform.yaml", [...sets, `dataset.root=${JSON.stringify(root)}`]).config,
  );
  const workloads: EpochWorkload[] = [
    {
      name: `resnet8 ${fm.name} 28x28x1`,
      ltrArgs: ["--cfg", "config/FashionMNIST_LT/feat_uniform.yaml"],
      model: "resnet8",
      peerData: "",
      imagesPerEpoch: Math.floor(fm.train.size / BATCH) * BATCH,
    },
    {
      name: "resnet32 synthetic CIFAR-shaped 32x32x3",
      ltrArgs: [
        "--cfg",
        "config/CIFAR10_LT/feat_uniform.yaml",
        "--data-root",
        root,
        ...sets.flatMap((s) => ["--set", s]),
      ],
      model: "resnet32",
      peerData: "",
      imagesPerEpoch: Math.floor(cds.train.size / BATCH) * BATCH,
    },
  ];
  let n = 0;
  const o = { epochs, threads, peerEnv: process.env, log, runDir: (tag: string) => join(work, `run-${n++}-${tag}`) };
  const mode = (m: "deterministic" | "fast", w: EpochWorkload, tag: string): RunResult => {
    process.env.LTR_NUMERICS = m;
    try {
      return runOurs(w, o, tag);
    } finally {
      delete process.env.LTR_NUMERICS;
    }
  };
  const report: Record<string, unknown> = {};
  for (const w of workloads) {
    const rows: Array<{ order: string; deterministic: RunResult; fast: RunResult; ratio: number }> = [];
    for (let p = 0; p < pairs; p++) {
      const detFirst = p % 2 === 0;
      const a = detFirst ? mode("deterministic", w, "det") : mode("fast", w, "fast");
      const b = detFirst ? mode("fast", w, "fast") : mode("deterministic", w, "det");
      const det = detFirst ? a : b;
      const fast = detFirst ? b : a;
      rows.push({
        order: detFirst ? "deterministic-first" : "fast-first",
        deterministic: det,
        fast,
        ratio: det.img_s / fast.img_s,
      });
      log(
        `${w.name} pair ${p + 1}: deterministic ${det.img_s.toFixed(0)} img/s, fast ${fast.img_s.toFixed(0)} img/s (deterministic/fast ${(det.img_s / fast.img_s).toFixed(2)})`,
      );
    }
    const ratios = rows.map((r) => r.ratio);
    report[w.name] = {
      pairs: rows,
      deterministic_img_s: median(rows.map((r) => r.deterministic.img_s)),
      fast_img_s: median(rows.map((r) => r.fast.img_s)),
      ratio_median: median(ratios),
      ratio_min: Math.min(...ratios),
      ratio_max: Math.max(...ratios),
    };
  }
  const manifest = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", logical_cpus: cpus().length },
    threads,
    epochs_per_run: epochs,
    pairs,
    load_average: { before: start.loadavg, after: loadavg() },
    foreign_cores_during_run: guard.foreignCores(),
    publishable: !busy,
    note: "training images/s per epoch from log.jsonl (validation excluded), median over epochs after the first; ratio = deterministic / fast",
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "numerics.json"), `${JSON.stringify({ manifest, ...report }, null, 2)}\n`);
  const md = [
    "# Benchmark: the speed cost of deterministic numerics",
    "",
    "Generated by scripts/bench/numerics.ts; raw numbers in `numerics.json`. Real `ltr train` epochs, the default",
    "`LTR_NUMERICS=deterministic` against `LTR_NUMERICS=fast`, alternated pair by pair (docs/DETERMINISM.md).",
    busy ? "\n**Not publishable: the machine was busy when it started.**\n" : "",
    "| workload | deterministic img/s | fast img/s | deterministic / fast (median, range) |",
    "|---|---|---|---|",
    ...workloads.map((w) => {
      const r = report[w.name] as Record<string, number>;
      return `| ${w.name} | ${r.deterministic_img_s.toFixed(0)} | ${r.fast_img_s.toFixed(0)} | ${r.ratio_median.toFixed(2)} (${r.ratio_min.toFixed(2)}–${r.ratio_max.toFixed(2)}) |`;
    }),
    "",
    "## Manifest",
    "",
    "```json",
    JSON.stringify(manifest, null, 2),
    "```",
    "",
  ];
  writeFileSync(join(outDir, "numerics.md"), md.join("\n"));
  log(`wrote ${join(outDir, "numerics.json")} and numerics.md`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
