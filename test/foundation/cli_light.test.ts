/**
 * The quick answers of the `ltr` command load no tensors: bare `ltr`, `--version`, `--help`, `<command> --help` and
 * `config show` run without importing tfjs (each subcommand imports its heavy modules inside `run`, and the config
 * check reads component names from tensor-free modules). Run as real processes through bin/ltr.mjs (dist/), with a
 * preloaded probe that counts the @tensorflow modules loaded; a control run that imports tfjs shows the probe works.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = process.cwd();
const PROBE = join(ROOT, "test", "helpers", "report_tfjs.cjs");

function node(args: string[]) {
  const r = spawnSync(process.execPath, ["--require", PROBE, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  const m = /tfjs-modules-loaded: (\d+)/.exec(r.stderr);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, tfjs: m ? Number(m[1]) : -1 };
}
const ltr = (...args: string[]) => node([join(ROOT, "bin", "ltr.mjs"), ...args]);

beforeAll(() => {
  const fresh = spawnSync(process.execPath, [join(ROOT, "scripts", "self-link.mjs"), "--check"], { encoding: "utf8" });
  if (fresh.status !== 0) throw new Error(`bin/ltr.mjs runs dist/, which is missing or stale: ${fresh.stderr.trim()}`);
});

describe("ltr answers without loading tfjs", () => {
  it("the probe sees tfjs when it is loaded", () => {
    expect(node(["-e", "require('@tensorflow/tfjs')"]).tfjs).toBeGreaterThan(0);
  });

  it("ltr --version and -V print the package version; bare ltr prints the usage and exits 0", () => {
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    for (const flag of ["--version", "-V"]) {
      const r = ltr(flag);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
      expect(r.tfjs).toBe(0);
    }
    const bare = ltr();
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain("usage: ltr <command> [options]");
    expect(bare.tfjs).toBe(0);
  });

  it.each([
    "--help",
    "train --help",
    "test --help",
    "tau-norm --help",
    "classify --help",
    "data --help",
    "config --help",
  ])("ltr %s", (cmd) => {
    const r = ltr(...cmd.split(" "));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: ltr/);
    expect(r.tfjs).toBe(0);
  });

  it("ltr config show validates every component name and prints the config", () => {
    const r = ltr("config", "show", "--cfg", "config/FashionMNIST_LT/cls_lws.yaml");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/config hash [0-9a-f]{64}/);
    expect(r.stdout).toContain("method: lws");
    expect(r.tfjs).toBe(0);
    const bad = ltr(
      "config",
      "show",
      "--cfg",
      "config/FashionMNIST_LT/cls_lws.yaml",
      "--set",
      "networks.feat_model.type=resnet9",
      "--set",
      "stage2.method=lwss",
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown backbone 'resnet9'; valid: resnet10, resnet101");
    expect(bad.stderr).toContain("unknown classifier 'lwss'; valid: crt, joint, lws, ncm, tau_norm");
    expect(bad.tfjs).toBe(0);
  });
});
