/**
 * The package as a user gets it: `npm pack` this checkout, install the tarball into an empty folder, then a plain
 * ES-module script there imports `decoupling-lt` and runs two stage-2 classifiers (NCM and τ-norm, through the
 * classifier registry) on tiny features, and the installed `ltr` prints its version.
 *
 * The install is offline: `npm ci --offline` against a lockfile made from this project's own (the tarball plus every
 * run-time entry), so npm reads only its cache, which `npm ci` in this checkout filled. LTR_NATIVE=0 makes the
 * package's postinstall (scripts/build-native.mjs) skip the native build, which leaves the JS paths in use there;
 * the numbers are compared with the same calls made here from the sources with the addon off (`withoutAddon`).
 * The tarball is packed from dist/ as it is (`--ignore-scripts`: no rebuild), so dist/ must be current
 * (scripts/test.sh builds it first).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { classifiers } from "../../src/classifiers/registry.js";
import { withoutAddon } from "../../src/kernels/native/addon.js";
import { clusters } from "../classifiers/helpers.js";

const ROOT = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), "ltr-pack-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
}

/**
 * The environment for the npm and node commands of this test: without the npm_* variables an outer `npm test` sets
 * (an inner npm would read npm_config_* as its own settings), except the cache it should read; and with
 * LTR_NATIVE=0 (the installed copy's postinstall skips the native build). LTR_REQUIRE_NATIVE (CI's strict native
 * build) applies to this checkout, not to the user's install.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.toLowerCase().startsWith("npm_") || k.toLowerCase() === "npm_config_cache") env[k] = v;
  delete env.LTR_REQUIRE_NATIVE;
  env.LTR_NATIVE = "0";
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) failed with status ${r.status}:\n${r.stderr}\n${r.stdout}`.slice(0, 4000),
    );
  return r.stdout;
}

/** package.json and package-lock.json of an app whose one dependency is the tarball, with this project's pins. */
function appFiles(tarball: string, integrity: string) {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    lockfileVersion: number;
    packages: Record<string, LockEntry>;
  };
  const spec = `file:../${tarball}`;
  const packages: Record<string, unknown> = {
    "": { name: "pack-test-app", dependencies: { "decoupling-lt": spec } },
    "node_modules/decoupling-lt": {
      version: pkg.version,
      resolved: spec,
      integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      hasInstallScript: true,
    },
  };
  // The run-time tree is the project's own minus its development tools.
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith("node_modules/") && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  return {
    pkg: {
      name: "pack-test-app",
      private: true,
      type: "module",
      dependencies: { "decoupling-lt": spec },
      overrides: pkg.overrides,
    },
    lock: { name: "pack-test-app", lockfileVersion: lock.lockfileVersion, requires: true, packages },
  };
}

// What the user's script computes; the same calls run below from the sources.
const SCRIPT = `
import { readFileSync } from "node:fs";
import { classifiers } from "decoupling-lt";
const d = JSON.parse(readFileSync("data.json", "utf8"));
const fs = (s) => ({ feats: Float32Array.from(s.feats), dim: s.dim, labels: Int32Array.from(s.labels), indices: Int32Array.from(s.indices), n: s.n });
const args = { train: fs(d.train), val: fs(d.val), test: fs(d.test), trainCounts: d.trainCounts, numClasses: d.numClasses,
  stage1: { weight: Float32Array.from(d.weight), bias: Float32Array.from(d.bias) } };
const out = {};
for (const [name, options] of [["ncm", { featType: "cl2n", dist: "l2" }], ["tau_norm", { taus: [0, 0.5, 1, 1.5, 2] }]]) {
  const r = await classifiers.get(name)({ ...args, options });
  out[name] = { top1: r.test.top1, perClass: Array.from(r.test.perClass), norms: Array.from(r.weightNorms), tau: r.extra.tau ?? null };
}
console.log(JSON.stringify(out));
`;

it("npm pack → install into an empty folder → import it and run NCM and τ-norm; the installed ltr --version", () => {
  const fresh = spawnSync(process.execPath, [join(ROOT, "scripts", "self-link.mjs"), "--check"], { encoding: "utf8" });
  expect(fresh.status, `dist/ must be current for the pack test: ${fresh.stderr}`).toBe(0);

  const packed = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const { filename, files } = packed[0];
  const paths = files.map((f) => f.path);
  for (const p of [
    "dist/index.js",
    "dist/index.d.ts",
    "dist/cli/main.js",
    "bin/ltr.mjs",
    "scripts/build-native.mjs",
    "native/binding.gyp",
    "native/src/module.cc",
    "config/FashionMNIST_LT/feat_uniform.yaml",
    "README.md",
  ]) {
    expect(paths, `the tarball lacks ${p}`).toContain(p);
  }
  expect(paths.filter((p) => /^(src|test|notebooks|results|runs)\//.test(p) || p.endsWith(".map"))).toEqual([]);

  const app = join(tmp, "app");
  mkdirSync(app);
  const integrity = `sha512-${createHash("sha512")
    .update(readFileSync(join(tmp, filename)))
    .digest("base64")}`;
  const { pkg, lock } = appFiles(filename, integrity);
  writeFileSync(join(app, "package.json"), JSON.stringify(pkg, null, 2));
  writeFileSync(join(app, "package-lock.json"), JSON.stringify(lock, null, 2));
  run("npm", ["ci", "--offline", "--omit=dev", "--no-audit", "--no-fund"], app);

  // Three classes, 20/8/3 training rows: separable clusters, and a stage-1 classifier whose row norms follow the counts.
  const counts = [20, 8, 3];
  const [train, val, test] = [clusters(counts, 4, 1), clusters([4, 4, 4], 4, 2), clusters([5, 5, 5], 4, 3)];
  const weight = Float32Array.from([3, 0, 0, 0.5, 0, 1.5, 0, 0.2, 0, 0, 0.8, 0.1]);
  const bias = new Float32Array(3);
  const plain = (s: typeof train) => ({
    feats: Array.from(s.feats),
    dim: s.dim,
    labels: Array.from(s.labels),
    indices: Array.from(s.indices),
    n: s.n,
  });
  writeFileSync(
    join(app, "data.json"),
    JSON.stringify({
      train: plain(train),
      val: plain(val),
      test: plain(test),
      trainCounts: counts,
      numClasses: 3,
      weight: Array.from(weight),
      bias: Array.from(bias),
    }),
  );
  writeFileSync(join(app, "use.mjs"), SCRIPT);
  const lines = run(process.execPath, ["use.mjs"], app).trim().split("\n");
  const got = JSON.parse(lines[lines.length - 1]) as Record<
    string,
    { top1: number; perClass: number[]; norms: number[]; tau: number | null }
  >;

  const args = { train, val, test, trainCounts: counts, numClasses: 3, stage1: { weight, bias } };
  const want = withoutAddon(() => ({
    ncm: classifiers.get("ncm")({ ...args, options: { featType: "cl2n", dist: "l2" } }),
    tau_norm: classifiers.get("tau_norm")({ ...args, options: { taus: [0, 0.5, 1, 1.5, 2] } }),
  }));
  return Promise.all([want.ncm, want.tau_norm]).then(([ncm, tau]) => {
    expect(got.ncm.top1).toBe(1); // separable clusters: the class means classify every test row
    expect(got.ncm).toEqual({
      top1: ncm.test.top1,
      perClass: Array.from(ncm.test.perClass),
      norms: Array.from(ncm.weightNorms),
      tau: null,
    });
    expect(got.tau_norm).toEqual({
      top1: tau.test.top1,
      perClass: Array.from(tau.test.perClass),
      norms: Array.from(tau.weightNorms),
      tau: (tau.extra as { tau: number }).tau,
    });
    expect([0, 0.5, 1, 1.5, 2]).toContain(got.tau_norm.tau);

    const bin = join(app, "node_modules", ".bin", "ltr");
    expect(run(bin, ["--version"], app).trim()).toBe(
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    );
    expect(run(bin, [], app)).toContain("usage: ltr <command>");
  });
}, 240_000);
