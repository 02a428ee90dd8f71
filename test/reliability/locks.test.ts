/**
 * One writer per run folder: while `ltr train` runs, a second `ltr train` (even with another config), an
 * in-process run and stage 2 on it are all refused naming the holder; after the holder is killed, its stale lock
 * is taken over by --resume. Locks of dead processes are taken over, locks of other hosts respected.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { runStatus } from "../../src/repro/runs.js";
import { acquireRunLock, RunLockedError } from "../../src/run/lock.js";
import { buildDataset } from "../../src/train/build.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { trainStage2 } from "../../src/train/stage2.js";
import { forStage2 } from "../helpers/stage2.js";
import { leftovers, ltr, manifestOf, tempDir, tinyConfig, tinyData, writeConfig } from "./helpers.js";

const tmp = tempDir("locks");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = tinyData(join(tmp, "data"));
const s1cfg = (overrides: string[] = []) =>
  resolveConfig(tinyConfig({ dataset: { root: data } }), "feat.yaml", overrides);
let ds: Dataset;

beforeAll(async () => {
  await initBackend("wasm");
  ds = await buildDataset(s1cfg().config);
});

const waitFor = async (cond: () => boolean, ms = 60_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("concurrent writers", () => {
  it("a second ltr train (another config), an in-process run and stage 2 are refused while the first runs; its stale lock is taken over after kill -9", async () => {
    const dir = join(tmp, "shared");
    const cfgA = writeConfig(
      join(tmp, "a.yaml"),
      tinyConfig({ dataset: { root: data }, training_opt: { num_epochs: 40 } }),
    );
    const cfgB = writeConfig(
      join(tmp, "b.yaml"),
      tinyConfig({ dataset: { root: data }, networks: { feat_model: { optim_params: { lr: 0.3 } } } }),
    );
    let pid = 0;
    let kill = () => {};
    const first = ltr(["train", "--cfg", cfgA, "--run-dir", dir], {
      onSpawn: (c) => {
        pid = c.pid!;
        kill = () => c.kill("SIGKILL");
      },
    });
    try {
      await waitFor(
        () =>
          existsSync(join(dir, "run.lock")) &&
          existsSync(join(dir, "log.jsonl")) &&
          readFileSync(join(dir, "log.jsonl"), "utf8").includes('"kind":"step"'),
      );
      const second = await ltr(["train", "--cfg", cfgB, "--run-dir", dir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(
          `run folder ${dir} is in use by pid ${pid} on ${hostname()} .*only one process may write a run folder`,
        ),
      );
      const resumed = await ltr(["train", "--cfg", cfgA, "--run-dir", dir, "--resume"]);
      expect(resumed.stderr).toContain(`in use by pid ${pid}`);
      await expect(
        trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true }),
      ).rejects.toBeInstanceOf(RunLockedError);
      const s2 = resolveConfig(
        forStage2(
          tinyConfig({
            dataset: { root: data },
            model_dir: dir,
            networks: { feat_model: { fix: true } },
            stage2: { method: "ncm" },
          }),
          "ncm",
        ),
        "cls.yaml",
      );
      await expect(trainStage2({ loaded: s2, dataset: ds, quiet: true })).rejects.toThrow(
        new RegExp(`not a finished stage-1 run yet: it is being trained right now by pid ${pid}`),
      );
      expect(runStatus(dir)).toBe("running");
      // The folder still describes run A.
      expect(readFileSync(join(dir, "config.yaml"), "utf8")).toContain("num_epochs: 40");
    } finally {
      kill();
      await first;
    }
    // kill -9 left the lock and a `running` manifest: the next look reports it interrupted, and --resume takes the
    // stale lock over and continues (here for one epoch).
    expect(existsSync(join(dir, "run.lock"))).toBe(true);
    expect(manifestOf(dir).status).toBe("running");
    expect(runStatus(dir)).toBe("resumable");
    expect(manifestOf(dir).status).toBe("interrupted");
    const a40 = resolveConfig(tinyConfig({ dataset: { root: data }, training_opt: { num_epochs: 40 } }), cfgA);
    await expect(
      trainStage1({ loaded: a40, runDir: dir, dataset: ds, quiet: true, resume: true, stopAfterEpochs: 1 }),
    ).rejects.toThrow(/run stopped after epoch/);
    expect(manifestOf(dir).status).toBe("interrupted");
    expect((manifestOf(dir) as { resumes?: unknown[] }).resumes).toHaveLength(1);
    expect(leftovers(dir)).toEqual([]);
  }, 240_000);

  it("two runs on one folder in one process: the second is refused", async () => {
    const dir = join(tmp, "same-process");
    const a = trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true });
    const b = trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true });
    const [ra, rb] = await Promise.allSettled([a, b]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual(["fulfilled", "rejected"]);
    const rejected = (ra.status === "rejected" ? ra : rb) as PromiseRejectedResult;
    expect(String(rejected.reason.message)).toMatch(/already open in this process|already holds/);
  });
});

describe("stale and foreign locks", () => {
  it("a lock of a dead process is taken over; one of another host is respected with the way out", async () => {
    const dir = join(tmp, "stale");
    mkdirSync(dir, { recursive: true });
    // A pid that does not run: the one of a process that has exited.
    const child = spawnSync(process.execPath, ["-e", ""]);
    const dead = child.pid!;
    writeFileSync(
      join(dir, "run.lock"),
      JSON.stringify({
        pid: dead,
        host: hostname(),
        started_at: "2020-01-01T00:00:00Z",
        pid_start: null,
        command: "ltr train",
      }),
    );
    const lock = acquireRunLock(dir);
    expect(lock.tookOverFrom?.pid).toBe(dead);
    lock.release();
    expect(existsSync(join(dir, "run.lock"))).toBe(false);

    writeFileSync(
      join(dir, "run.lock"),
      JSON.stringify({
        pid: 1234,
        host: "elsewhere.example",
        started_at: "2020-01-01T00:00:00Z",
        pid_start: null,
        command: "ltr train",
      }),
    );
    expect(() => acquireRunLock(dir)).toThrow(
      new RegExp(
        `locked by pid 1234 on elsewhere\\.example .*cannot be checked from ${hostname()}.*delete ${join(dir, "run.lock")}`,
      ),
    );
  });
});
