/**
 * A full disk and a read-only folder, on a real tmpfs (mounted here when the machine allows it: CI runs as root;
 * elsewhere the tests are skipped with a notice). Full: the run fails naming the file, the device and the fix,
 * leaves no temporary file, keeps the previous checkpoints verified, and resumes bit-identically once there is
 * space. Read-only: ltr classify --out, ltr test --save-feat and ltr train fail before computing anything.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { initBackend } from "../../src/backend.js";
import { main } from "../../src/cli/main.js";
import { resolveConfig } from "../../src/config/load.js";
import type { Dataset } from "../../src/data/types.js";
import { writeNpy } from "../../src/features/npy.js";
import { loadCheckpoint } from "../../src/run/checkpoint.js";
import { buildDataset } from "../../src/train/build.js";
import { trainStage1 } from "../../src/train/stage1.js";
import { leftovers, manifestOf, resultsOf, sameTensors, tempDir, tinyConfig, tinyData } from "./helpers.js";

const tmp = tempDir("disk");
const data = tinyData(join(tmp, "data"));
const mnt = join(tmp, "mnt");
mkdirSync(mnt);

function sh(cmd: string, args: string[]): string | null {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    return null;
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e).trim() || String(e);
  }
}

// Can this machine mount a tmpfs? (root with CAP_SYS_ADMIN: CI; most containers and non-root users: no.)
const mountError =
  process.platform !== "linux" ? "not Linux" : sh("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
if (mountError === null) sh("umount", [mnt]);
const canMount = mountError === null;
if (!canMount)
  console.warn(
    `NOTICE: the tmpfs tests (disk full, read-only folder) are SKIPPED here: cannot mount a tmpfs (${mountError}). CI runs them as root.`,
  );

const s1cfg = () => resolveConfig(tinyConfig({ dataset: { root: data } }), "feat.yaml");
const ref = join(tmp, "reference");
let ds: Dataset;
let ckptBytes = 0;

beforeAll(async () => {
  if (!canMount) return;
  await initBackend("wasm");
  ds = await buildDataset(s1cfg().config);
  await trainStage1({ loaded: s1cfg(), runDir: ref, dataset: ds, quiet: true });
  ckptBytes = statSync(join(ref, "latest.ckpt")).size;
});
afterAll(() => {
  if (canMount) sh("umount", [mnt]);
  try {
    rmSync(tmp, { recursive: true, force: true });
  } catch {
    /* the mount point is still busy: leave the folder */
  }
});
afterEach(() => vi.restoreAllMocks());

describe.skipIf(!canMount)("on a tmpfs", () => {
  it("disk full: a clear error naming the file and the fix, no temporary file left, previous checkpoints intact, then resume to identical results", async () => {
    // Room for config, manifest, log and the two checkpoints of epoch 1, not for a third checkpoint.
    const kib = Math.ceil((2 * ckptBytes + 48 * 1024) / 1024);
    expect(sh("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", mnt])).toBeNull();
    const dir = join(mnt, "run");
    try {
      const err = (await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true }).then(
        () => null,
        (e: Error) => e,
      ))!;
      expect(err).not.toBeNull();
      expect(err.message).toMatch(
        new RegExp(
          `cannot write ${dir}/(best|latest)\\.ckpt: no space left on the device holding ${dir} \\(ENOSPC\\); free some space there or write somewhere else`,
        ),
      );
      expect(err.message).toContain("Any previous version of the file is unchanged");
      expect(leftovers(dir)).toEqual([]);
      expect(loadCheckpoint<{ epoch: number }>(join(dir, "latest.ckpt")).meta.epoch).toBe(0);
      expect(manifestOf(dir).status).toBe("failed");
      // Free space (a bigger device) and resume: the same result as the run that never ran out.
      expect(sh("mount", ["-o", `remount,size=${kib * 4}k`, mnt])).toBeNull();
      await trainStage1({ loaded: s1cfg(), runDir: dir, dataset: ds, quiet: true, resume: true });
      expect(sameTensors(join(ref, "best.ckpt"), join(dir, "best.ckpt")).diff).toEqual([]);
      expect(resultsOf(dir)).toEqual(resultsOf(ref));
      expect(leftovers(dir)).toEqual([]);
    } finally {
      sh("umount", [mnt]);
    }
  });

  it("read-only: ltr classify --out, ltr test --save-feat and ltr train fail before computing, naming the path", async () => {
    expect(sh("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt])).toBeNull();
    try {
      const feats = join(mnt, "features");
      mkdirSync(feats);
      for (const s of ["train", "val", "test"]) {
        writeNpy(
          join(feats, `${s}_feats.npy`),
          new Float32Array(20 * 4).map((_, i) => Math.cos(i)),
          [20, 4],
        );
        writeNpy(
          join(feats, `${s}_labels.npy`),
          Int32Array.from({ length: 20 }, (_, i) => i % 2),
          [20],
        );
      }
      const run = join(mnt, "run");
      cpSync(ref, run, { recursive: true });
      expect(sh("mount", ["-o", "remount,ro", mnt])).toBeNull();
      const out: string[] = [];
      vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
      vi.spyOn(console, "error").mockImplementation((...a) => void out.push(a.join(" ")));
      vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      expect(await main(["classify", "--features", feats, "--method", "ncm", "--out", join(feats, "r.json")])).toBe(1);
      const text = out.join("\n");
      expect(text).toMatch(
        new RegExp(`cannot write ${feats}/r\\.json: ${feats} is on a read-only file system \\(EROFS\\)`),
      );
      expect(text).not.toMatch(/features: train/); // failed before loading and computing
      out.length = 0;
      const cfgFile = join(tmp, "feat.yaml");
      cpSync(join(ref, "config.yaml"), cfgFile);
      expect(await main(["test", "--cfg", cfgFile, "--run-dir", run, "--save-feat", "train"])).toBe(1);
      expect(out.join("\n")).toMatch(
        new RegExp(
          `cannot (write ${run}/features/train\\.ltf|create the folder ${run}/features): ${run} is on a read-only file system \\(EROFS\\)`,
        ),
      );
      await expect(
        trainStage1({ loaded: s1cfg(), runDir: join(mnt, "new"), dataset: ds, quiet: true }),
      ).rejects.toThrow(
        new RegExp(`cannot create the folder ${mnt}/new: ${mnt} is on a read-only file system \\(EROFS\\)`),
      );
      expect(readFileSync(join(run, "results.json"), "utf8")).toBe(readFileSync(join(ref, "results.json"), "utf8"));
    } finally {
      sh("umount", [mnt]);
    }
  });
});
