#!/usr/bin/env node
/**
 * Build the optional native kernel addon (native/ → native/build/Release/ltr_native.node) with the node-gyp that
 * ships with npm, offline against the installed Node headers. Run by `npm run build:native` and `postinstall`.
 *
 * By default it never fails: when a prerequisite is missing or the compile fails it prints one line saying the native
 * layer is skipped and why, and exits 0 (the portable wasm kernels stay in use), so `npm ci` works on any machine.
 *   --strict, or LTR_REQUIRE_NATIVE=1 (set by .ci/run): exit 1 instead, for CI, which installs every prerequisite.
 *   --probe: only check the prerequisites; print what is missing and exit 3, or exit 0 when all are present
 *            (scripts/test.sh uses it: prerequisites present but no loadable addon is a test failure).
 * LTR_NATIVE=0 skips the build (and is itself a failure under --strict / LTR_REQUIRE_NATIVE=1).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const strict = process.argv.includes("--strict") || process.env.LTR_REQUIRE_NATIVE === "1";
const probe = process.argv.includes("--probe");

function skip(why) {
  if (probe) {
    console.log(`native prerequisite missing: ${why}`);
    process.exit(3);
  }
  if (strict) {
    console.error(
      `native kernel layer FAILED to build: ${why} (required by ${process.argv.includes("--strict") ? "--strict" : "LTR_REQUIRE_NATIVE=1"}; see scripts/build-native.mjs)`,
    );
    process.exit(1);
  }
  console.log(`native kernel layer skipped: ${why} (the wasm kernels are used; see scripts/build-native.mjs)`);
  process.exit(0);
}

// Anything unexpected (unreadable directories, spawn errors) must not fail `npm ci` either.
process.on("uncaughtException", (e) =>
  skip(`unexpected error: ${String(e && e.message ? e.message : e).split("\n")[0]}`),
);

function has(cmd, args = ["--version"]) {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

/** First existing path among candidates. */
function firstExisting(paths) {
  return paths.find((p) => existsSync(p)) ?? null;
}

/** node-gyp: the copy bundled with npm (offline), else one on PATH. */
function findNodeGyp() {
  const npmDirs = [
    process.env.npm_execpath ? resolve(dirname(process.env.npm_execpath), "..") : null,
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm"),
    "/usr/lib/node_modules/npm",
    "/usr/local/lib/node_modules/npm",
    "/usr/share/nodejs/npm",
  ].filter(Boolean);
  for (const d of npmDirs) {
    const js = join(d, "node_modules", "node-gyp", "bin", "node-gyp.js");
    if (existsSync(js)) return [process.execPath, js];
  }
  if (has("node-gyp")) return ["node-gyp"];
  return null;
}

/** A --nodedir with include/node/node_api.h (system headers), so no download is needed. */
function findNodeDir() {
  const prefix = resolve(dirname(process.execPath), "..");
  for (const d of [prefix, "/usr", "/usr/local"]) if (existsSync(join(d, "include", "node", "node_api.h"))) return d;
  return null;
}

function libExists(name) {
  const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib", "/usr/lib64"];
  return dirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.startsWith(`${name}.so`)));
}

if (process.env.LTR_NATIVE === "0") skip("LTR_NATIVE=0");
if (process.platform !== "linux") skip(`platform ${process.platform} (the build is set up for Linux)`);
if (!has("g++")) skip("g++ not found (apt-get install g++)");
if (!has("make")) skip("make not found (apt-get install make)");
if (!has("python3")) skip("python3 not found (node-gyp needs it)");
const nodeDir = findNodeDir();
if (!nodeDir)
  skip("Node headers (include/node/node_api.h) not found (apt-get install libnode-dev or use an official Node build)");
if (
  !firstExisting(["/usr/include/oneapi/dnnl/dnnl.hpp", "/usr/local/include/oneapi/dnnl/dnnl.hpp"]) ||
  !libExists("libdnnl")
)
  skip("oneDNN not found (apt-get install libdnnl-dev)");
if (
  !firstExisting([
    "/usr/include/x86_64-linux-gnu/cblas.h",
    "/usr/include/aarch64-linux-gnu/cblas.h",
    "/usr/include/cblas.h",
    "/usr/include/openblas/cblas.h",
  ]) ||
  !libExists("libopenblas")
)
  skip("OpenBLAS not found (apt-get install libopenblas-dev)");
const gyp = findNodeGyp();
if (!gyp) skip("node-gyp not found (it ships with npm)");
if (probe) {
  console.log("native prerequisites present: g++, make, python3, Node headers, oneDNN, OpenBLAS, node-gyp");
  process.exit(0);
}

const t0 = Date.now();
const r = spawnSync(gyp[0], [...gyp.slice(1), "rebuild", `--nodedir=${nodeDir}`], {
  cwd: join(root, "native"),
  encoding: "utf8",
  env: { ...process.env, npm_config_offline: "true" },
});
if (r.status !== 0) {
  const err = `${r.stderr ?? ""}\n${r.stdout ?? ""}`.split("\n").find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  skip(`compile failed: ${err.trim().slice(0, 200)}`);
}
const out = join(root, "native", "build", "Release", "ltr_native.node");
if (!existsSync(out)) skip("node-gyp finished but ltr_native.node is missing");
console.log(
  `native kernel layer built: native/build/Release/ltr_native.node (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
);
