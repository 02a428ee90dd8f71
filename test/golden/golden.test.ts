/**
 * The golden test (docs/DETERMINISM.md, "The golden test"): a short stage-1 run on real Fashion-MNIST-LT data and the
 * five classifiers on its features must give exactly the weights hashes and metrics committed in
 * test/golden/fmnist_short.json for the active engine. CI runs on varying machines, so this is what holds the
 * promise "same commit, same seed, same numbers on every machine of this kind". It runs as `npm run golden` does, in
 * a child process (the native layer reads its numerics mode when it loads).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { GoldenMachine, GoldenValues } from "../../scripts/golden/compute.js";
import { checkGolden, diffValues, type GoldenFile, readGolden, updatedGolden } from "../../scripts/golden/file.js";

describe("golden run", () => {
  it("stage-1 weights, cRT and LWS heads, losses and metrics equal the committed values", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/golden.ts", "--quiet"], {
      env: { ...process.env, LTR_NUMERICS: "deterministic" },
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    expect(r.status, `npm run golden said:\n${r.stdout}\n${r.stderr.split("\n").slice(-15).join("\n")}`).toBe(0);
    expect(r.stdout).toMatch(
      /^golden: identical to test\/golden\/fmnist_short\.json \(engine (native-deterministic|wasm), 5 classifiers/m,
    );
  }, 600_000);

  it("the committed file holds the engine CI runs, with what it was generated with", () => {
    const g = readGolden()!;
    const entry = g.engines["native-deterministic"];
    expect(entry.generated_with.cpu_flags).toEqual(expect.arrayContaining(["avx2", "fma"]));
    expect(entry.generated_with.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(entry.values.stage1.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(entry.values.stage2)).toEqual(["joint", "ncm", "crt", "tau_norm", "lws"]);
    expect(entry.values.stage2.crt.head_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.values.stage2.lws.head_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.values.stage2.tau_norm.tau).toBeTypeOf("number");
  });
});

describe("golden comparison messages", () => {
  const machine = (cpu: string, engine = "native-deterministic"): GoldenMachine => ({
    engine,
    commit: "a".repeat(40),
    dirty: false,
    cpu,
    cpu_flags: ["avx2", "fma"],
    native: { openblasCore: "Haswell", dnnlIsa: "avx2 (capped at avx2)" },
    node: "v20",
  });
  const values = (top1: number): GoldenValues => ({
    data_sha256: "d",
    stage1: {
      weights_sha256: "w",
      best_epoch: 2,
      train_loss: [2.1, 1.7],
      val: { top1, many: 1, medium: 2, few: 3 },
      test: { top1, many: 1, medium: 2, few: 3 },
    },
    stage2: {},
  });
  const g: GoldenFile = updatedGolden(null, values(50), machine("CPU A"), "2026-01-01T00:00:00.000Z");

  it("say nothing when equal, and name both machines and docs/DETERMINISM.md when not", () => {
    expect(checkGolden(g, values(50), machine("CPU B"))).toEqual([]);
    const msg = checkGolden(g, values(50.5), machine("CPU B")).join("\n");
    expect(msg).toContain("differs from test/golden/fmnist_short.json in 2 values");
    expect(msg).toContain("stage1.val.top1: golden 50, here 50.5");
    expect(msg).toContain("golden generated on CPU A [avx2 fma], engine native-deterministic (OpenBLAS core Haswell");
    expect(msg).toContain("this machine: CPU B [avx2 fma]");
    expect(msg).toContain("docs/DETERMINISM.md");
  });

  it("fail with the command to run for an engine the file lacks, and keep other engines on update", () => {
    expect(checkGolden(g, values(50), machine("CPU A", "wasm")).join("\n")).toMatch(
      /no values for engine 'wasm' \(it has: native-deterministic\).*npm run golden -- --update/s,
    );
    const both = updatedGolden(g, values(40), machine("CPU A", "wasm"));
    expect(Object.keys(both.engines)).toEqual(["native-deterministic", "wasm"]);
    expect(both.engines["native-deterministic"]).toEqual(g.engines["native-deterministic"]);
    expect(diffValues({ a: [1, 2], b: { c: "x" } }, { a: [1, 3], b: {} })).toEqual([
      "a.1: golden 2, here 3",
      'b.c: golden "x", here undefined',
    ]);
  });
});
