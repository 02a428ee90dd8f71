/** `ltr tau-norm --run DIR`: tau-normalisation sweep on a stage-1 run; tau selected on val, reported on test. */
import { join } from "node:path";
import type { EvalResult } from "../metrics.js";
import { assertWritable } from "../run/atomic.js";
import { writeCheckedJson } from "../run/checksum.js";
import { resolveRunDir } from "../run/rundir.js";
import { evalSummary } from "../train/report.js";
import { type CommandSpec, parseCommand, requireString, UsageError } from "./args.js";
import { printShotTable, shotColumns } from "./common.js";

export const spec: CommandSpec = {
  name: "tau-norm",
  summary: "tau-normalisation sweep on a stage-1 run's classifier; tau chosen on val, reported on test",
  usage: "ltr tau-norm --run DIR [--grid START:STOP:STEP]",
  options: {
    run: { type: "string", arg: "DIR", help: "stage-1 run folder (runs/<dataset>/<stage>_seed<seed>)" },
    grid: { type: "string", arg: "A:B:S", help: "tau grid, inclusive", default: "0:2:0.1" },
    backend: { type: "string", arg: "NAME", help: "tensor backend: auto | wasm | cpu | tensorflow" },
  },
  notes: ["w_j / ||w_j||^tau on the stage-1 weights, bias dropped (as the paper's code). Writes <run>/tau_norm.json."],
};

export function parseGrid(s: string): number[] {
  const parts = s.split(":").map(Number);
  if (
    parts.length !== 3 ||
    parts.some((x) => !Number.isFinite(x)) ||
    parts[2] <= 0 ||
    parts[0] > parts[1] ||
    parts[0] < 0
  )
    throw new UsageError(
      `ltr tau-norm: --grid must be START:STOP:STEP with 0 <= START <= STOP and STEP > 0, got '${s}'`,
    );
  const [a, b, st] = parts;
  const n = Math.floor((b - a) / st + 1e-9) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((a + i * st) * 1e6) / 1e6);
}

export async function run(argv: string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (!p) return 0;
  const dir = resolveRunDir(requireString(p.values, "run", "tau-norm"));
  const taus = parseGrid(typeof p.values.grid === "string" ? p.values.grid : "0:2:0.1");
  assertWritable(join(dir, "tau_norm.json"));
  const { classifyRun } = await import("../train/stage2.js"); // tfjs loads only now: `--help` stays fast
  const { result } = await classifyRun({
    runDir: dir,
    method: "tau_norm",
    options: { taus },
    backend: p.values.backend as string | undefined,
  });
  const ex = result.extra as { tau: number; valSweep: { results: EvalResult[] }; testSweep: { results: EvalResult[] } };
  console.log(`tau-normalisation on ${dir} (Many / Medium / Few / All, %)`);
  const rows = taus.map((tau, i) => {
    const v = evalSummary(ex.valSweep.results[i]);
    const t = evalSummary(ex.testSweep.results[i]);
    return { tau, val: v, test: t };
  });
  const table = rows.map((r) => ({
    tau: r.tau,
    ...shotColumns(r.val, "val "),
    ...shotColumns(r.test, "test "),
    selection: r.tau === ex.tau ? "<- chosen on val" : "",
  }));
  printShotTable(table, { tau: 2 });
  writeCheckedJson(join(dir, "tau_norm.json"), { chosen_tau: ex.tau, selected_on: "val (top-1)", rows });
  console.log(`chosen tau ${ex.tau} (on val); written ${join(dir, "tau_norm.json")}`);
  return 0;
}
