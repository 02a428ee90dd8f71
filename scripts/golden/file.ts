/**
 * test/golden/fmnist_short.json: the golden run's values per engine, each with what it was generated with, and the
 * comparison that explains a mismatch (docs/DETERMINISM.md, "The golden test").
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/run/atomic.js";
import { projectRoot } from "../../src/run/manifest.js";
import { GOLDEN_CLASSIFIERS, GOLDEN_STAGE1, GOLDEN_STAGE2, type GoldenMachine, type GoldenValues } from "./compute.js";

export const GOLDEN_FORMAT = "decoupling-lt golden v1";

export interface GoldenEntry {
  generated_with: GoldenMachine & { generated_at: string };
  values: GoldenValues;
}

export interface GoldenFile {
  format: string;
  about: string;
  setup: { stage1: string[]; stage2: string[]; classifiers: readonly string[] };
  /** By engine: "native-deterministic" (what CI runs), "wasm" (no native layer). */
  engines: Record<string, GoldenEntry>;
}

export function goldenPath(): string {
  return join(projectRoot(), "test", "golden", "fmnist_short.json");
}

export function readGolden(path = goldenPath()): GoldenFile | null {
  if (!existsSync(path)) return null;
  const g = JSON.parse(readFileSync(path, "utf8")) as GoldenFile;
  if (g.format !== GOLDEN_FORMAT)
    throw new Error(
      `${path}: format '${g.format}', expected '${GOLDEN_FORMAT}'; regenerate it with npm run golden -- --update`,
    );
  return g;
}

/** The golden file with this engine's entry replaced (other engines kept). */
export function updatedGolden(
  prev: GoldenFile | null,
  values: GoldenValues,
  machine: GoldenMachine,
  at = new Date().toISOString(),
): GoldenFile {
  return {
    format: GOLDEN_FORMAT,
    about:
      "Values of the golden run (scripts/golden/compute.ts) per engine; test/golden/golden.test.ts recomputes them and must find them equal. " +
      "Regenerate with `npm run golden -- --update` (docs/DETERMINISM.md).",
    setup: { stage1: GOLDEN_STAGE1, stage2: GOLDEN_STAGE2, classifiers: GOLDEN_CLASSIFIERS },
    engines: {
      ...(prev?.engines ?? {}),
      [machine.engine]: { generated_with: { ...machine, generated_at: at }, values },
    },
  };
}

export function writeGolden(g: GoldenFile, path = goldenPath()): void {
  writeFileAtomic(path, `${JSON.stringify(g, null, 2)}\n`);
}

/** Leaves of two values that differ, as "key: golden X, here Y". */
export function diffValues(golden: unknown, here: unknown, path = ""): string[] {
  if (golden !== null && here !== null && typeof golden === "object" && typeof here === "object") {
    const keys = [...new Set([...Object.keys(golden as object), ...Object.keys(here as object)])];
    return keys.flatMap((k) =>
      diffValues(
        (golden as Record<string, unknown>)[k],
        (here as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      ),
    );
  }
  return Object.is(golden, here) ? [] : [`${path}: golden ${JSON.stringify(golden)}, here ${JSON.stringify(here)}`];
}

const describe = (m: GoldenMachine) => {
  const n = m.native as { numerics?: string; openblasCore?: string; dnnlIsa?: string } | null;
  return `${m.cpu} [${m.cpu_flags.join(" ")}], engine ${m.engine}${n ? ` (OpenBLAS core ${n.openblasCore}, oneDNN ISA ${n.dnnlIsa})` : ""}, node ${m.node}`;
};

/** The comparison with the golden file: no lines when equal, else what differs and on which machines. */
export function checkGolden(
  g: GoldenFile | null,
  values: GoldenValues,
  machine: GoldenMachine,
  path = "test/golden/fmnist_short.json",
): string[] {
  const entry = g?.engines[machine.engine];
  if (!entry) {
    return [
      `${path} has no values for engine '${machine.engine}' (it has: ${Object.keys(g?.engines ?? {}).join(", ") || "none"}).`,
      `Generate them on this engine with \`npm run golden -- --update\`${machine.engine === "wasm" ? " (LTR_NATIVE=0 selects this engine where the native layer is built)" : ""} and commit the file.`,
    ];
  }
  const diffs = diffValues(entry.values, values);
  if (!diffs.length) return [];
  const w = entry.generated_with;
  return [
    `the golden run differs from ${path} in ${diffs.length} value${diffs.length > 1 ? "s" : ""}:`,
    ...diffs.map((d) => `  ${d}`),
    `golden generated on ${describe(w)} at commit ${w.commit?.slice(0, 12) ?? "unknown"}${w.dirty ? " (dirty)" : ""};`,
    `this machine: ${describe(machine)} at commit ${machine.commit?.slice(0, 12) ?? "unknown"}${machine.dirty ? " (dirty)" : ""}.`,
    "Same commit, other CPU: the numerics depend on the machine, which docs/DETERMINISM.md says they must not (see its layer-by-layer argument).",
    "A commit that changes numerics on purpose: regenerate with `npm run golden -- --update` (for every engine) and commit test/golden/fmnist_short.json.",
  ];
}
