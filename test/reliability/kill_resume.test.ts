/**
 * Kill `ltr train` (a real process) at chosen and at randomly drawn points — mid-epoch, inside an atomic write,
 * between the best.ckpt and latest.ckpt renames, after an epoch, and with SIGTERM — resume after each, and end
 * with exactly the weights and results of an uninterrupted run. After every kill the folder's status must be
 * true (a stale `running` manifest is detected and repaired to `interrupted`), and at the end no temporary file
 * or lock is left.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runStatus } from "../../src/repro/runs.js";
import { Rng } from "../../src/rng.js";
import { inspectRun } from "../../src/run/state.js";
import {
  type LtrOptions,
  leftovers,
  ltr,
  manifestOf,
  resultsOf,
  sameTensors,
  tempDir,
  tinyConfig,
  tinyData,
  writeConfig,
} from "./helpers.js";

const tmp = tempDir("kill");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = tinyData(join(tmp, "data"));
const cfg = writeConfig(join(tmp, "feat.yaml"), tinyConfig({ training_opt: { num_epochs: 4 } }));
const ref = join(tmp, "reference");
const args = (dir: string) => ["train", "--cfg", cfg, "--data-root", data, "--run-dir", dir];

// Random kill points, reproducible: LTR_FAULT_SEED picks another draw.
const seed = Number(process.env.LTR_FAULT_SEED ?? 20260);
const rng = new Rng(seed);
const stepKill = 2 + rng.int(6); // somewhere in epochs 1..2 (4 steps per epoch)
const writeKill = 1 + rng.int(4); // the config, the manifest, or a checkpoint of the next epoch

beforeAll(async () => {
  const r = await ltr(args(ref));
  if (r.code !== 0) throw new Error(`reference run failed:\n${r.stderr}`);
});

/** Run the next link of the chain: fresh or --resume as the folder's state says, as the reproduction does. */
async function next(dir: string, env: Record<string, string> = {}, onSpawn?: LtrOptions["onSpawn"]) {
  const st = runStatus(dir);
  expect(["absent", "resumable", "finished"]).toContain(st);
  if (st === "finished") return null;
  return ltr([...args(dir), ...(st === "resumable" ? ["--resume"] : [])], { env, onSpawn });
}

describe(`kill -9 and SIGTERM at random steps, then --resume (seed ${seed}: step ${stepKill}, write ${writeKill})`, () => {
  it("ends bit-identical to an uninterrupted run, with a true status after every kill", async () => {
    const dir = join(tmp, "chain");
    const kills = [`best-saved:1`, `step:${stepKill}`, `tmp-written:${writeKill}`, `epoch:1`];
    const log: string[] = [];
    for (const k of kills) {
      const r = await next(dir, { LTR_FAULT_KILL: k });
      if (!r) break;
      log.push(`${k}: ${r.signal ?? r.code}`);
      if (r.code === 0) break; // finished before reaching the point
      expect(r.signal, `${k}: ${r.stderr}`).toBe("SIGKILL");
      // The next look sees the dead process: a `running` manifest is reported (and repaired) as interrupted.
      const before = inspectRun(dir);
      if (before.manifest?.status === "running") {
        expect(before.stale).toBe(true);
        expect(before.status).toBe("interrupted");
        runStatus(dir);
        const m = manifestOf(dir);
        expect(m.status).toBe("interrupted");
        expect(String(m.summary?.error)).toMatch(/ended without closing the run/);
      }
    }
    // SIGTERM once a step has been logged: the manifest says interrupted, no lock or temporary file stays.
    const logLines = () =>
      existsSync(join(dir, "log.jsonl")) ? readFileSync(join(dir, "log.jsonl"), "utf8").split("\n").length : 0;
    const start = logLines();
    const term = await next(dir, {}, (child) => {
      const t = setInterval(() => {
        if (logLines() > start + 2) {
          clearInterval(t);
          child.kill("SIGTERM");
        }
      }, 50);
      child.on("close", () => clearInterval(t));
    });
    if (term && term.code !== 0) {
      log.push(`SIGTERM: ${term.code}`);
      expect(term.code, term.stderr).toBe(143);
      expect(manifestOf(dir).status).toBe("interrupted");
      expect(manifestOf(dir).summary?.error).toBe("interrupted by SIGTERM");
      expect(leftovers(dir)).toEqual([]);
    }
    // Finish it.
    for (let i = 0; i < 3; i++) {
      const r = await next(dir);
      if (!r) break;
      expect(r.code, r.stderr).toBe(0);
    }
    console.log(`kill chain: ${log.join("; ")}`);
    expect(runStatus(dir), log.join("; ")).toBe("finished");
    expect(leftovers(dir)).toEqual([]);
    expect(sameTensors(join(ref, "latest.ckpt"), join(dir, "latest.ckpt")).diff).toEqual([]);
    expect(sameTensors(join(ref, "best.ckpt"), join(dir, "best.ckpt")).diff).toEqual([]);
    expect(resultsOf(dir)).toEqual(resultsOf(ref));
    const m = manifestOf(dir) as { resumes?: unknown[] };
    expect(m.resumes?.length ?? 0).toBeGreaterThan(0);
  });
});
