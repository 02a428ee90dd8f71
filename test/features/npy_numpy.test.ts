/**
 * Our .npy files are NumPy's: arrays of every rank (0-D to 3-D) and dtype we write are byte-identical to what
 * `np.save` writes (goldens from scripts/fixtures/make_npy_goldens.py), NumPy's own files read back exactly, and —
 * where Debian's python3-numpy is installed — NumPy itself loads what we wrote with the right dtype, shape and values.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../src/features/npy.js";

interface Case {
  name: string;
  descr: "<f4" | "<f8" | "<i4";
  shape: number[];
  values: number[];
}

const FIX = join(process.cwd(), "test", "fixtures", "npy");
const { cases } = JSON.parse(readFileSync(join(FIX, "cases.json"), "utf8")) as { cases: Case[] };
const dir = mkdtempSync(join(tmpdir(), "ltr-npy-numpy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function typed(c: Case): Float32Array | Float64Array | Int32Array {
  return c.descr === "<f4"
    ? Float32Array.from(c.values)
    : c.descr === "<f8"
      ? Float64Array.from(c.values)
      : Int32Array.from(c.values);
}

/** A Python with NumPy: Debian's /usr/bin/python3 first (python3 on PATH may be another install). */
function numpyPython(): string | null {
  for (const py of ["/usr/bin/python3", "python3"]) {
    if (py.startsWith("/") && !existsSync(py)) continue;
    if (spawnSync(py, ["-c", "import numpy"], { stdio: "ignore" }).status === 0) return py;
  }
  return null;
}

describe("npy files of every rank", () => {
  it("cover 0-D, 1-D, 2-D and 3-D arrays of <f4, <f8 and <i4", () => {
    expect(new Set(cases.map((c) => c.shape.length))).toEqual(new Set([0, 1, 2, 3]));
    expect(new Set(cases.map((c) => c.descr))).toEqual(new Set(["<f4", "<f8", "<i4"]));
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    "%s: our bytes equal np.save's; NumPy's file reads back exactly",
    (name, c) => {
      const p = join(dir, `${name}.npy`);
      writeNpy(p, typed(c), c.shape);
      const ours = readFileSync(p);
      const golden = readFileSync(join(FIX, `${name}.npy`));
      // Compare the header as text first, so a mismatch shows the header rather than bytes.
      const headerLen = (b: Buffer) => 10 + b.readUInt16LE(8);
      expect(ours.subarray(0, headerLen(ours)).toString("latin1")).toBe(
        golden.subarray(0, headerLen(golden)).toString("latin1"),
      );
      expect(ours.equals(golden)).toBe(true);
      const r = readNpy(join(FIX, `${name}.npy`));
      expect(r.descr).toBe(c.descr);
      expect(r.shape).toEqual(c.shape);
      expect(Array.from(r.data)).toEqual(c.descr === "<f8" ? Array.from(Float32Array.from(c.values)) : c.values);
    },
  );

  const py = numpyPython();
  if (!py)
    console.warn(
      "test/features/npy_numpy.test.ts: python3-numpy not installed, NumPy load check SKIPPED (apt-get install python3-numpy); the golden-byte checks still ran",
    );
  it.skipIf(!py)("NumPy loads every file we wrote with the dtype, shape and values we meant", () => {
    for (const c of cases) writeNpy(join(dir, `${c.name}.npy`), typed(c), c.shape);
    const script = [
      "import json, sys, numpy as np",
      "out = []",
      "for c in json.load(open(sys.argv[1]))['cases']:",
      "    a = np.load(sys.argv[2] + '/' + c['name'] + '.npy', allow_pickle=False)",
      "    out.append({'name': c['name'], 'descr': a.dtype.str, 'shape': list(a.shape), 'values': a.ravel().tolist()})",
      "print(json.dumps(out))",
    ].join("\n");
    const got = JSON.parse(
      execFileSync(py!, ["-c", script, join(FIX, "cases.json"), dir], { encoding: "utf8" }),
    ) as Case[];
    expect(got.map((g) => g.name)).toEqual(cases.map((c) => c.name));
    got.forEach((g, i) => {
      const c = cases[i];
      expect({ name: g.name, descr: g.descr, shape: g.shape }).toEqual({
        name: c.name,
        descr: c.descr,
        shape: c.shape,
      });
      expect(g.values).toEqual(c.values);
    });
  });
});
