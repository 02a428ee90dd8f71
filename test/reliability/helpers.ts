/**
 * Shared pieces of the fault-injection suite: a tiny learnable Fashion-MNIST look-alike in the real IDX format, a
 * stage-1 config that trains in a few seconds, the `ltr` command run as a real process, byte flips, and checkpoint
 * comparison.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoadedConfig, resolveConfig } from "../../src/config/load.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { forStage2 } from "../helpers/stage2.js";
import { writeSyntheticFmnist } from "../helpers/synthetic_fmnist.js";

export const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ltr-rel-${prefix}-`));
}

/** 30 train / 10 test images per class: n_max 20, IF 10 (79 train images, 4 steps of 16), 5 val per class. */
export function tinyData(dir: string): string {
  return writeSyntheticFmnist(dir, 30, 10);
}

/** The stage-1 settings every reliability test trains with (as a YAML mapping). */
export function tinyConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    seed: 1,
    backend: "wasm",
    training_opt: {
      dataset: "FashionMNIST_LT",
      num_classes: 10,
      batch_size: 16,
      num_epochs: 3,
      eval_batch_size: 100,
      display_step: 1,
    },
    dataset: { imb_factor: 10, n_max: 20, val_per_class: 5, augment: false },
    networks: {
      feat_model: { type: "resnet8", optim_params: { lr: 0.1 } },
      classifier: { type: "linear", optim_params: { lr: 0.1 } },
    },
  };
  return merge(base, extra);
}

/** A tiny stage-2 config of `method` on the stage-1 run `modelDir`, resolved (with `overrides`) as `cls_<method>.yaml`. */
export function tinyStage2(data: string, modelDir: string, method: string, overrides: string[] = []): LoadedConfig {
  const raw = tinyConfig({
    dataset: { root: data },
    model_dir: modelDir,
    networks: { feat_model: { fix: true } },
    training_opt: { stage: `cls_${method}` },
    stage2: { method },
  });
  return resolveConfig(forStage2(raw, method), `cls_${method}.yaml`, overrides);
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object"
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Write a config as YAML (JSON is valid YAML). */
export function writeConfig(path: string, cfg: Record<string, unknown>): string {
  writeFileSync(path, `${JSON.stringify(cfg, null, 1)}\n`);
  return path;
}

export interface LtrResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface LtrOptions {
  env?: Record<string, string | undefined>;
  /** Called with the child once it runs (to send it a signal). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
  timeoutMs?: number;
}

let distChecked = false;

/** Run `ltr <args>` as a separate process (the real CLI: bin/ltr.mjs, which runs the compiled dist/). */
export function ltr(args: string[], o: LtrOptions = {}): Promise<LtrResult> {
  if (!distChecked) {
    // The CLI runs dist/: refuse to test stale code (scripts/test.sh builds it first; alone, run `npm run build`).
    const r = spawnSync(process.execPath, [join(REPO, "scripts", "self-link.mjs"), "--check"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`the ltr command would run stale or missing dist/: ${r.stderr.trim()}`);
    distChecked = true;
  }
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(REPO, "bin", "ltr.mjs"), ...args], {
      cwd: REPO,
      env: { ...process.env, LTR_DATA_ROOT: undefined, LTR_FAULT_KILL: undefined, ...o.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 90_000);
    child.on("error", fail);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
    o.onSpawn?.(child);
  });
}

/** Flip every bit of one byte of a file (the byte at `offset`, or at a fraction of the file when 0 < offset < 1). */
export function flipByte(path: string, offset: number): number {
  const size = statSync(path).size;
  const at = offset > 0 && offset < 1 ? Math.floor(size * offset) : offset < 0 ? size + offset : offset;
  const fd = openSync(path, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
  return at;
}

/** Offset of the first tensor data byte of a checkpoint (after magic, length and JSON header). */
export function ckptDataOffset(path: string): number {
  const b = readFileSync(path);
  return 12 + b.readUInt32LE(8);
}

/** Expect two checkpoints to hold the same tensors, bit for bit. */
export function sameTensors(a: string, b: string): { ok: boolean; diff: string[] } {
  const x = loadCheckpoint(a);
  const y = loadCheckpoint(b);
  const diff: string[] = [];
  const keys = new Set([...Object.keys(x.tensors), ...Object.keys(y.tensors)]);
  for (const k of keys) {
    const p = x.tensors[k];
    const q = y.tensors[k];
    if (!p || !q) diff.push(`${k}: only in ${p ? a : b}`);
    else if (
      !Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).equals(
        Buffer.from(q.data.buffer, q.data.byteOffset, q.data.byteLength),
      )
    )
      diff.push(k);
  }
  return { ok: diff.length === 0, diff };
}

/** results.json without what legitimately differs between two runs of one config (throughput, checksum). */
export function resultsOf(dir: string): Record<string, unknown> {
  const r = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as Record<string, unknown>;
  delete r.images_per_s;
  delete r.checksum;
  return r;
}

/** Temporary files of atomic writes and lock files left in a folder (and its features/). */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const d of [dir, join(dir, "features")]) {
    if (!existsSync(d)) continue;
    for (const n of readdirSync(d))
      if (n.endsWith(".tmp") || n === "run.lock" || n.endsWith(".takeover")) out.push(join(d, n));
  }
  return out;
}

export function manifestOf(
  dir: string,
): Record<string, unknown> & { status: string; summary?: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
}

/** Snapshot of every file's bytes in a folder (to prove a refusal changed nothing). */
export function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isFile()) m.set(n, readFileSync(p).toString("base64"));
  }
  return m;
}
