#!/usr/bin/env node
/**
 * Make this checkout importable as the package `decoupling-lt` the way an installed copy is, for the notebooks:
 *
 *   node scripts/self-link.mjs            link node_modules/decoupling-lt -> .. (run by `npm ci` through `prepare`)
 *   node scripts/self-link.mjs --check    also fail (exit 1) when dist/ is missing or older than src/
 *   node scripts/self-link.mjs --ensure   also build dist/ (tsc -p tsconfig.json) when it is missing or older (the
 *                                         notebook replay, `npm run notebooks` and the browser test run this)
 *
 * The notebooks `import { … } from "decoupling-lt"`. At run time Node resolves that name inside this project through
 * package.json `exports` (self-reference) to dist/index.js. But tslab type-checks notebook cells with TypeScript's
 * `node10` module resolution, which knows no self-reference and only looks in node_modules/ folders; the link gives
 * it node_modules/decoupling-lt/package.json, whose `types` points at dist/index.d.ts — the same files an installed
 * package would offer. docs/ARCHITECTURE.md ("The package") describes the layout.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ensure = process.argv.includes("--ensure");
const check = ensure || process.argv.includes("--check");

function link() {
  const nm = join(root, "node_modules");
  if (!existsSync(nm)) {
    console.error(`self-link: ${nm} does not exist; run \`npm ci\` first`);
    return false;
  }
  const at = join(nm, "decoupling-lt");
  const target = relative(nm, root); // "..": node_modules/decoupling-lt -> the project root
  let st = null;
  try {
    st = lstatSync(at);
  } catch {
    // absent
  }
  if (st?.isSymbolicLink() && readlinkSync(at) === target) return true;
  if (st && !st.isSymbolicLink()) {
    console.error(
      `self-link: ${at} exists and is not a link (an installed copy?); remove it and run \`node scripts/self-link.mjs\``,
    );
    return false;
  }
  if (st) rmSync(at);
  symlinkSync(target, at, "dir");
  return true;
}

/** The newest modification time under `dir` of files whose names pass `keep`, with that file. */
function newest(dir, keep) {
  let best = { t: 0, file: null };
  if (!existsSync(dir)) return best;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const n = newest(p, keep);
      if (n.t > best.t) best = n;
    } else if (keep(e.name)) {
      const t = statSync(p).mtimeMs;
      if (t > best.t) best = { t, file: p };
    }
  }
  return best;
}

/** Why dist/ cannot serve the notebooks, or null when it is current. */
function distProblem() {
  if (!existsSync(join(root, "dist", "index.js")))
    return "dist/index.js is missing: the notebooks import the compiled package";
  const src = newest(join(root, "src"), (n) => n.endsWith(".ts"));
  const built = newest(join(root, "dist"), (n) => n.endsWith(".js"));
  if (src.t > built.t) return `dist/ is older than ${relative(root, src.file)}: the notebooks would run stale code`;
  return null;
}

function build() {
  // The same compiler as `npm run build` and scripts/test.sh: the `tsc` that npm puts on node_modules/.bin.
  const tsc = join(root, "node_modules", ".bin", "tsc");
  if (!existsSync(tsc)) {
    console.error("self-link: TypeScript is not installed (node_modules/typescript); run `npm ci`");
    return false;
  }
  console.error("self-link: building the package (tsc -p tsconfig.json -> dist/)");
  // The generated list of classifier methods first, as `npm run build` does (scripts/gen-methods.mjs).
  if (spawnSync(process.execPath, [join(root, "scripts", "gen-methods.mjs")], { stdio: "inherit" }).status !== 0)
    return false;
  return spawnSync(tsc, ["-p", join(root, "tsconfig.json")], { stdio: "inherit" }).status === 0;
}

function main() {
  if (!link()) return false;
  if (!check) return true;
  let problem = distProblem();
  if (problem && ensure) problem = build() ? distProblem() : "the build failed (see above)";
  if (problem) console.error(`self-link: ${problem}; run \`npm run build\``);
  return problem === null;
}

process.exit(main() ? 0 : 1);
