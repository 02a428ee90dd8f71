/**
 * Run manifests: everything needed to say where a number came from — the resolved config and its hash,
 * seed, data hash, backend (and which of our kernels were active), package versions, git commit, machine
 * and wall time. Written beside every run's outputs and copied with them into `results/`, with a checksum
 * (checksum.ts) verified by {@link readManifest}.
 *
 * `status` is the truth about the run: `running` while a process holds the folder's lock, `finished` once its
 * results are written, `failed` (summary.error says why) or `interrupted` (Ctrl-C, kill, `stopAfterEpochs`). A
 * run killed with kill -9 still says `running`; the next look at the folder (rundir.ts `repairStaleRun`) sees
 * that the lock holder is gone and rewrites it as `interrupted`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { BackendInfo } from "../backend.js";
import type { ExperimentConfig } from "../config/defaults.js";
import { readCheckedJson, writeCheckedJson } from "./checksum.js";
import { portableManifest } from "./portable.js";

/** One `--resume` of a run: when, from which epoch, and the safe keys that changed (runconfig.ts SAFE_RESUME_KEYS). */
export interface ResumeRecord {
  at: string;
  /** 0-based index of the first epoch trained after the resume (as `best_epoch` and the log's `epoch`). */
  from_epoch: number;
  changed: Record<string, { from: unknown; to: unknown }>;
}

export type RunStatus = "running" | "finished" | "failed" | "interrupted";

export interface RunManifest {
  kind: string;
  /** Random id of the run, also stored in its checkpoints, so files of different runs are never mixed. */
  run_id?: string;
  name: string;
  config_source: string;
  config_overrides: string[];
  config_hash: string;
  seed: number;
  data: { dataset: string; sha256: string | null; detail?: unknown };
  backend: BackendInfo | null;
  versions: Record<string, string>;
  git: { commit: string | null; dirty: boolean | null };
  machine: { cpu: string; cpu_flags: string[]; cores: number; memory_gib: number; node: string; platform: string };
  started_at: string;
  ended_at: string | null;
  wall_time_s: number | null;
  status: RunStatus;
  /** Every resume of the run, in order. */
  resumes?: ResumeRecord[];
  /** Free-form results summary (best epoch, val/test accuracies...). */
  summary?: Record<string, unknown>;
  config: ExperimentConfig | Record<string, unknown>;
}

const PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-wasm",
  "js-yaml",
  "arquero",
  "sharp",
];

/** Installed versions of the packages that decide numerical results (plus this project's own). */
export function packageVersions(): Record<string, string> {
  const req = createRequire(join(process.cwd(), "noop.js"));
  const out: Record<string, string> = { node: process.versions.node };
  for (const p of ["decoupling-lt", ...PACKAGES]) {
    try {
      const file = p === "decoupling-lt" ? join(projectRoot(), "package.json") : `${p}/package.json`;
      out[p] = (req(file) as { version: string }).version;
    } catch {
      /* not installed */
    }
  }
  return out;
}

/** The project root: the nearest folder above cwd holding this project's package.json. */
export function projectRoot(): string {
  const req = createRequire(join(process.cwd(), "noop.js"));
  let dir = process.cwd();
  for (;;) {
    try {
      const pkg = req(join(dir, "package.json")) as { name?: string };
      if (pkg.name === "decoupling-lt") return dir;
    } catch {
      /* keep walking */
    }
    const up = join(dir, "..");
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export function gitState(cwd = projectRoot()): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd,
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** The vector-ISA flags of /proc/cpuinfo that decide which kernels libraries may pick (docs/DETERMINISM.md). */
const ISA_FLAGS = [
  "sse4_2",
  "avx",
  "avx2",
  "fma",
  "f16c",
  "bmi2",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_vnni",
  "avx512_bf16",
  "amx_tile",
];

function cpuFlags(): string[] {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    const have = new Set(m ? m[1].split(/\s+/) : []);
    return ISA_FLAGS.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

export function machineInfo(): RunManifest["machine"] {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cpu_flags: cpuFlags(),
    cores: c.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export interface ManifestArgs {
  kind: string;
  name: string;
  config: ExperimentConfig | Record<string, unknown>;
  configSource: string;
  configOverrides: string[];
  configHash: string;
  seed: number;
  data: RunManifest["data"];
  backend: BackendInfo | null;
}

export function startManifest(a: ManifestArgs): RunManifest {
  return {
    kind: a.kind,
    name: a.name,
    config_source: a.configSource,
    config_overrides: a.configOverrides,
    config_hash: a.configHash,
    seed: a.seed,
    data: a.data,
    backend: a.backend,
    versions: packageVersions(),
    git: gitState(),
    machine: machineInfo(),
    started_at: new Date().toISOString(),
    ended_at: null,
    wall_time_s: null,
    status: "running",
    config: a.config,
  };
}

export function finishManifest(
  m: RunManifest,
  status: RunManifest["status"],
  summary?: Record<string, unknown>,
): RunManifest {
  const end = new Date();
  return {
    ...m,
    ended_at: end.toISOString(),
    wall_time_s: Math.round((end.getTime() - new Date(m.started_at).getTime()) / 100) / 10,
    status,
    summary: summary ?? m.summary,
  };
}

/**
 * Write a manifest with its checksum. Paths in it are made machine-free first (portable.ts: project-relative, or
 * `<outside the project>/<name>`); the resolved `config` is written as it is.
 */
export function writeManifest(path: string, m: RunManifest): void {
  writeCheckedJson(path, portableManifest(m, projectRoot()));
}

/** Read and verify a run's manifest.json; errors name the file. */
export function readManifest(path: string): RunManifest {
  const m = readCheckedJson<RunManifest>(path, {
    kind: "manifest",
    fix: "The run folder can no longer be trusted; restore the file from a copy, or train the run again in a new folder",
  });
  if (typeof m.status !== "string")
    throw new Error(`${path} is not a run manifest (no 'status'); run folders are written by ltr train`);
  return m;
}
