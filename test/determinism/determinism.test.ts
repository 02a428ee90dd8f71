/**
 * Deterministic numerics (docs/DETERMINISM.md): the same commit and seed give the same trained weights bit for bit,
 * run after run and whatever the thread count. Each run is a child process (the thread count and numerics mode are
 * read when the native addon loads): a short ResNet-8 stage-1 run on synthetic Fashion-MNIST-LT data.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAddon } from "../../src/kernels/native/index.js";
import { writeSyntheticFmnist } from "../helpers/synthetic_fmnist.js";

const native = loadAddon();
const suite = native.addon ? describe : describe.skip;
if (!native.addon) console.warn(`determinism tests skipped: ${native.reason}`);

interface ChildResult {
  sha256: string;
  losses: number[];
  tensors: number;
  native: { numerics: string; threads: number; openblasCore: string } | null;
  manifest: {
    machine: { cpu: string; cpu_flags: string[] };
    native: { numerics: string; dnnlIsa: string; openblasCore: string } | null;
  };
}

function child(script: string, args: string[], env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ["--import", "tsx", join("test", "determinism", script), ...args], {
    env: { ...process.env, LTR_NUMERICS: "deterministic", ...env },
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0)
    throw new Error(`${script} failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return r.stdout.trim().split("\n").slice(-1)[0];
}

function train(dataDir: string, runDir: string, env: Record<string, string>): ChildResult {
  return JSON.parse(child("train_child.ts", [dataDir, runDir], env)) as ChildResult;
}

suite("deterministic numerics", () => {
  it("a short stage-1 run gives bit-identical weights with 1 and 2 threads", () => {
    const tmp = mkdtempSync(join(tmpdir(), "ltr-determinism-"));
    const data = writeSyntheticFmnist(join(tmp, "data"));
    const one = train(data, join(tmp, "t1"), { LTR_NUM_THREADS: "1" });
    const two = train(data, join(tmp, "t2"), { LTR_NUM_THREADS: "2" });
    expect(one.native?.numerics).toBe("deterministic");
    expect(one.native?.threads).toBe(1);
    expect(two.native?.threads).toBe(2);
    expect(one.native?.openblasCore.toLowerCase()).toBe("haswell");
    expect(one.tensors).toBeGreaterThan(50);
    expect(one.losses).toHaveLength(2);
    expect(two.losses).toEqual(one.losses);
    expect(two.sha256).toBe(one.sha256);
    // The run manifest says which machine, ISA and numerics produced the numbers.
    expect(one.manifest.machine.cpu_flags).toEqual(expect.arrayContaining(["avx2", "fma"]));
    expect(one.manifest.native?.numerics).toBe("deterministic");
    expect(one.manifest.native?.openblasCore.toLowerCase()).toBe("haswell");
    expect(one.manifest.native?.dnnlIsa).toMatch(/^avx2 \(capped at avx2\)$/);
  }, 300_000);

  it("GEMM (OpenBLAS) products do not depend on LTR_NUM_THREADS: OpenBLAS keeps a fixed thread count", () => {
    const one = JSON.parse(child("gemm_child.ts", [], { LTR_NUM_THREADS: "1" })) as {
      sha256: string;
      info: { threads: number; openblasThreads: number };
    };
    const two = JSON.parse(child("gemm_child.ts", [], { LTR_NUM_THREADS: "2" })) as typeof one;
    expect(one.info.threads).toBe(1);
    expect(one.info.openblasThreads).toBe(two.info.openblasThreads);
    expect(two.sha256).toBe(one.sha256);
  }, 120_000);
});
