/**
 * `npm run reproduce:table -- --verify`: compare every number of the committed results with the same results
 * regenerated from the runs (into a temporary folder: results/ is never written). docs/VERIFY.md lists what is
 * compared and what is ignored, and why.
 *
 * Files, relative to the profile's output folder: the tables (`*_table.md`, `*_table.csv`), `cells.json`,
 * `figure_data.json`, the figure specs `figures/*.json`, `manifests.json`, `tau_slider.html`, `README.md` (and, for
 * the full profile, `results/README.md`), and the bundle's `bundle.json`, `runs.json` and arrays (`*.npy`, element
 * by element). JSON is compared leaf by leaf, with array elements that name a `run` keyed by it; Markdown, CSV and
 * HTML number by number within each table row or line. Numbers must be equal exactly, as written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { methodLabel } from "../classifiers/registry.js";
import { projectRoot } from "../run/manifest.js";
import { decodeNpy } from "./arrays.js";
import { exportBundle } from "./bundle.js";
import { CLASSIFIERS, type Profile, SAMPLERS } from "./profiles.js";
import { writeReport } from "./report.js";
import { runsSource } from "./source.js";

/** One number that differs (or exists on one side only). */
export interface Difference {
  /** File, relative to the project root (e.g. results/FashionMNIST_LT/cells.json). */
  file: string;
  /** Where in the file (a JSON path, or a table row and column). */
  key: string;
  committed: number | null;
  regenerated: number | null;
  /** The run folders the number comes from (relative), when it can be told. */
  runs: string[];
  /** A whole file present on one side only (then `key` is "(whole file)" and the values are its number counts). */
  onlyIn?: "committed" | "regenerated";
}

/** What {@link compareResults} found. */
export interface VerifyResult {
  /** Numbers compared (present on both sides). */
  numbers: number;
  /** Files compared (relative to the project root). */
  files: string[];
  /** Numbers left out by the ignore rules. */
  ignored: number;
  differences: Difference[];
}

/**
 * Keys whose numbers must differ between two regenerations or machines, never compared: wall-clock times and
 * speeds, the machine's description, the thread count the user asked for (the numerics do not depend on it:
 * docs/DETERMINISM.md), when a run was resumed, sizes that follow from other compared content.
 */
export const IGNORED_KEYS: readonly string[] = [
  "started_at",
  "ended_at",
  "wall_time_s",
  "seconds",
  "images_per_s",
  "machine",
  "git",
  "resumes",
  "run_id",
  "checksum",
  "threads",
  "bytes",
];

/** The files of an output folder that carry numbers (relative to it), in a fixed order. */
export function numberFiles(outDir: string): string[] {
  const out = [
    "sampler_table.md",
    "sampler_table.csv",
    "classifier_table.md",
    "classifier_table.csv",
    "grid_table.md",
    "grid_table.csv",
    "cells.json",
    "figure_data.json",
    "manifests.json",
    "tau_slider.html",
    "README.md",
  ];
  const list = (sub: string, ext: string) =>
    existsSync(join(outDir, sub))
      ? readdirSync(join(outDir, sub))
          .filter((f) => f.endsWith(ext))
          .sort()
          .map((f) => `${sub}/${f}`)
      : [];
  out.push(
    ...list("figures", ".json"),
    "bundle/bundle.json",
    "bundle/runs.json",
    ...list("bundle/arrays", ".npy"),
    ...list("bundle/features", ".npy"),
  );
  return out;
}

type Leaf = { key: string; value: number; run?: string };

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

/** Leaves of a JSON value: numbers with their paths; array elements with a string `run` are keyed by it. */
export function jsonLeaves(v: unknown, ignored: { n: number }, path = "", run?: string): Leaf[] {
  if (typeof v === "number") return [{ key: path || "(value)", value: v, run }];
  if (Array.isArray(v))
    return v.flatMap((x, i) => {
      const r =
        x && typeof x === "object" && !Array.isArray(x) && typeof (x as { run?: unknown }).run === "string"
          ? (x as { run: string }).run
          : undefined;
      return jsonLeaves(x, ignored, r ? `${path}[${r}]` : `${path}[${i}]`, r ?? run);
    });
  if (v && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => {
      if (IGNORED_KEYS.includes(k)) {
        ignored.n += jsonLeaves(x, { n: 0 }).length;
        return [];
      }
      return jsonLeaves(x, ignored, path ? `${path}.${k}` : k, run);
    });
  return [];
}

/** Numbers of a Markdown or HTML text, keyed by table row (first cell) and column header, or by line. */
export function textLeaves(text: string): Leaf[] {
  const out: Leaf[] = [];
  let header: string[] = [];
  text.split("\n").forEach((line, i) => {
    const t = line.trim();
    if (t.startsWith("|")) {
      const cells = t
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
      if (cells.every((c) => /^:?-+:?$/.test(c))) return;
      if (!cells.slice(1).some((c) => /\d/.test(c))) {
        header = cells;
        return;
      }
      // The row's name: its sampler / classifier cells, without the τ the classifier cell may carry (compared too).
      const named = cells.filter((_, j) => /^(Sampling|Sampler|Classifier)$/.test(header[j] ?? ""));
      const label = (named.length ? named : cells.slice(0, 1)).map((c) => c.replace(/\s*\(τ=[^)]*\)/, "")).join(" / ");
      cells.forEach((c, j) =>
        [...c.matchAll(NUMBER)].forEach((m, k) =>
          out.push({ key: `row "${label}" column "${header[j] ?? j}"${k ? ` #${k + 1}` : ""}`, value: Number(m[0]) }),
        ),
      );
      return;
    }
    header = t ? header : [];
    [...line.matchAll(NUMBER)].forEach((m, k) => out.push({ key: `line ${i + 1} #${k + 1}`, value: Number(m[0]) }));
  });
  return out;
}

/** Numbers of a CSV table, keyed by the row's text cells (sampler/classifier) and the column name. */
export function csvLeaves(text: string): Leaf[] {
  const [head, ...rows] = text
    .trim()
    .split("\n")
    .map((l) => l.split(","));
  return rows.flatMap((r) => {
    const label = r.filter((c) => c !== "" && !Number.isFinite(Number(c))).join("/");
    return r.flatMap((c, j) =>
      c !== "" && Number.isFinite(Number(c)) ? [{ key: `row ${label} column ${head[j]}`, value: Number(c) }] : [],
    );
  });
}

/** Element-by-element comparison of two .npy arrays (shape first); at most `keep` differences are listed. */
function compareNpy(
  rel: string,
  name: string,
  a: Uint8Array | null,
  b: Uint8Array | null,
  reps: string[] | null,
  walkRun: string | null,
  result: VerifyResult,
  keep = 20,
): void {
  const A = a ? decodeNpy(a, rel) : null;
  const B = b ? decodeNpy(b, rel) : null;
  const runOf = (arr: { shape: number[]; data: ArrayLike<number> }, i: number): string[] => {
    if (name.startsWith("bundle/features/")) return walkRun ? [walkRun] : [];
    const per = arr.shape.length > 1 ? arr.data.length / arr.shape[0] : 1;
    return reps && reps.length === arr.shape[0] ? [reps[Math.floor(i / per)]] : [];
  };
  if (!A || !B || JSON.stringify(A.shape) !== JSON.stringify(B.shape)) {
    const side = (A ?? B)!;
    result.differences.push({
      file: rel,
      key: `shape [${A?.shape ?? "absent"}] vs [${B?.shape ?? "absent"}] (${side.data.length} elements not compared)`,
      committed: A ? A.data.length : null,
      regenerated: B ? B.data.length : null,
      runs: [],
    });
    return;
  }
  let listed = 0;
  let more = 0;
  for (let i = 0; i < A.data.length; i++) {
    const x = A.data[i];
    const y = B.data[i];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (listed < keep) {
      result.differences.push({ file: rel, key: `[${i}]`, committed: x, regenerated: y, runs: runOf(A, i) });
      listed++;
    } else more++;
  }
  if (more)
    result.differences.push({
      file: rel,
      key: `${more} more elements differ`,
      committed: null,
      regenerated: null,
      runs: [],
    });
  result.numbers += A.data.length;
}

function leavesOf(file: string, bytes: Buffer, ignored: { n: number }): Leaf[] {
  if (file.endsWith(".json")) return jsonLeaves(JSON.parse(bytes.toString("utf8")), ignored);
  if (file.endsWith(".csv")) return csvLeaves(bytes.toString("utf8"));
  return textLeaves(bytes.toString("utf8"));
}

/** The runs behind a table row or a figure: from the regenerated cells (sampler, classifier, run). */
function rowRuns(file: string, key: string, cells: { sampler: string; classifier: string; run: string }[]): string[] {
  // Row names: CSV "row IB/cRT column …", Markdown 'row "IB / cRT" column …' or 'row "Instance-balanced" …'.
  const m = /^row (?:"([^"]*)"|(\S+))/.exec(key);
  const names = (m?.[1] ?? m?.[2] ?? "").split(/\s*\/\s*/);
  const sampler = file.startsWith("classifier_table")
    ? "IB"
    : SAMPLERS.find((s) => names.includes(s.short) || names.includes(s.label))?.short;
  const classifier = file.startsWith("sampler_table")
    ? methodLabel("joint")
    : CLASSIFIERS.find((c) => names.includes(c.label))?.label;
  if (!sampler || !classifier) return [];
  return cells.filter((c) => c.sampler === sampler && c.classifier === classifier).map((c) => c.run);
}

/**
 * Compare every number of `<committedRoot>/<profile.outDir>` with `<regeneratedRoot>/<profile.outDir>` (and, for the
 * full profile, both `results/README.md`). A file present on one side only is one difference
 * (`onlyIn`); a file on neither side is skipped.
 */
export function compareResults(committedRoot: string, regeneratedRoot: string, profile: Profile): VerifyResult {
  const dirs = { committed: join(committedRoot, profile.outDir), regenerated: join(regeneratedRoot, profile.outDir) };
  const names = [...new Set([...numberFiles(dirs.committed), ...numberFiles(dirs.regenerated)])];
  const targets = names.map((n) => ({
    name: n,
    rel: join(profile.outDir, n),
    a: join(dirs.committed, n),
    b: join(dirs.regenerated, n),
  }));
  if (profile.name === "full")
    targets.push({
      name: "../README.md",
      rel: join("results", "README.md"),
      a: join(committedRoot, "results", "README.md"),
      b: join(regeneratedRoot, "results", "README.md"),
    });
  const read = (p: string) => (existsSync(p) ? readFileSync(p) : null);
  const json = (p: string) => (existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : null);
  const cells = (json(join(dirs.regenerated, "cells.json")) ?? json(join(dirs.committed, "cells.json")) ?? []) as {
    sampler: string;
    classifier: string;
    run: string;
  }[];
  const index = (json(join(dirs.regenerated, "bundle", "bundle.json")) ??
    json(join(dirs.committed, "bundle", "bundle.json"))) as {
    representations: { run: string }[];
    walkthrough: { run: string };
  } | null;
  const reps = index ? index.representations.map((r) => r.run) : null;
  const walkRun = index?.walkthrough.run ?? null;
  const result: VerifyResult = { numbers: 0, files: [], ignored: 0, differences: [] };
  for (const t of targets) {
    const [ba, bb] = [read(t.a), read(t.b)];
    if (!ba && !bb) continue;
    result.files.push(t.rel);
    if (!ba || !bb) {
      const only = (ba ?? bb)!;
      const count = t.name.endsWith(".npy")
        ? decodeNpy(only, t.rel).data.length
        : leavesOf(t.name, only, { n: 0 }).length;
      result.differences.push({
        file: t.rel,
        key: "(whole file)",
        committed: ba ? count : null,
        regenerated: bb ? count : null,
        runs: [],
        onlyIn: ba ? "committed" : "regenerated",
      });
      continue;
    }
    if (t.name.endsWith(".npy")) {
      compareNpy(t.rel, t.name, ba, bb, reps, walkRun, result);
      continue;
    }
    const ign = { n: 0 };
    const la = leavesOf(t.name, ba, ign);
    const lb = leavesOf(t.name, bb, { n: 0 });
    result.ignored += ign.n;
    const runsOf = (l: Leaf) =>
      l.run ? [l.run] : /_table\.(md|csv)$/.test(t.name) ? rowRuns(t.name, l.key, cells) : [];
    const mb = new Map<string, Leaf[]>();
    for (const l of lb) mb.set(l.key, [...(mb.get(l.key) ?? []), l]);
    const seen = new Map<string, number>();
    for (const l of la) {
      const k = seen.get(l.key) ?? 0;
      seen.set(l.key, k + 1);
      const other = mb.get(l.key)?.[k];
      if (!other) {
        result.differences.push({ file: t.rel, key: l.key, committed: l.value, regenerated: null, runs: runsOf(l) });
        continue;
      }
      result.numbers++;
      if (!Object.is(l.value, other.value) && !(l.value === other.value))
        result.differences.push({
          file: t.rel,
          key: l.key,
          committed: l.value,
          regenerated: other.value,
          runs: runsOf(other),
        });
    }
    for (const [key, ls] of mb)
      for (const l of ls.slice(seen.get(key) ?? 0))
        result.differences.push({ file: t.rel, key, committed: null, regenerated: l.value, runs: runsOf(l) });
  }
  return result;
}

/** The report of a comparison: "identical: N numbers in M files", or one line per difference (at most `limit`). */
export function formatVerify(r: VerifyResult, limit = 200): string {
  if (!r.differences.length)
    return `identical: ${r.numbers} numbers in ${r.files.length} files (${r.ignored} numbers ignored by the rules of docs/VERIFY.md)`;
  const show = (v: number | null) => (v === null ? "(absent)" : String(v));
  const lines = r.differences.slice(0, limit).map((d) => {
    const runs = d.runs.length
      ? `; run${d.runs.length > 1 ? "s" : ""} ${d.runs.map((x) => `${x} (manifest ${x}/manifest.json)`).join(", ")}`
      : "";
    if (d.onlyIn)
      return `  ${d.file}: only ${d.onlyIn === "committed" ? "committed, not regenerated" : "regenerated, not committed"} (${d.committed ?? d.regenerated} numbers)`;
    return `  ${d.file} ${d.key}: committed ${show(d.committed)}, regenerated ${show(d.regenerated)}${runs}`;
  });
  if (r.differences.length > limit) lines.push(`  … and ${r.differences.length - limit} more`);
  return [
    `${r.differences.length} differences (${r.numbers} numbers compared in ${r.files.length} files):`,
    ...lines,
  ].join("\n");
}

/** What {@link verifyProfile} did. */
export interface VerifyRun {
  result: VerifyResult;
  /** The temporary folder holding the regenerated outputs (removed when everything was identical). */
  dir: string;
  kept: boolean;
}

/**
 * Regenerate a profile's outputs (bundle, tables, figure data and specs, manifests, README) from its run cache into a
 * temporary folder — figures are not rendered — and compare them with those under `committedRoot` (default: the
 * project root). Nothing under the project's output folder is written.
 */
export async function verifyProfile(
  profile: Profile,
  o: { committedRoot?: string; log?: (s: string) => void } = {},
): Promise<VerifyRun> {
  const dir = mkdtempSync(join(tmpdir(), "ltr-verify-"));
  const ex = exportBundle(profile, join(dir, profile.outDir, "bundle"));
  if (ex.status === "incomplete")
    o.log?.(
      `the bundle cannot be regenerated: ${ex.missing.length} runs or feature files are missing (${ex.missing.slice(0, 4).join(", ")}${ex.missing.length > 4 ? ", …" : ""})`,
    );
  await writeReport(profile, { source: runsSource(profile), render: false, allowPartial: true, outRoot: dir });
  const result = compareResults(o.committedRoot ?? projectRoot(), dir, profile);
  const kept = result.differences.length > 0;
  if (!kept) rmSync(dir, { recursive: true, force: true });
  return { result, dir, kept };
}
