import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPT = join(process.cwd(), "scripts", "replay-notebooks.cjs");
const FIXTURE = join(process.cwd(), "test", "notebooks", "fixtures", "display_then_error.ipynb");
const out = mkdtempSync(join(tmpdir(), "ltr-replay-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function replay(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { env: { ...process.env, ...env }, timeout: 230_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** nbformat's own validator (Debian python3-nbformat), when installed. */
function nbformatAvailable(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import nbformat"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

it("replays a notebook: display output kept, first failing cell reported with its error", async () => {
  const r = await replay(["--out", out, "--profile", "smoke", FIXTURE]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAIL display_then_error\.ipynb at cell 2 \(\d+\.\d s\)/);
  expect(r.stdout).toContain("Error: fixture failure: boom");
  expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("notebooks: 0 passed, 1 failed");

  const nb = JSON.parse(readFileSync(join(out, "display_then_error.ipynb"), "utf8"));
  expect(nb.nbformat).toBe(4);
  const [first, second] = nb.cells;
  expect(first.execution_count).toBe(1);
  expect(first.outputs).toEqual([
    { output_type: "stream", name: "stdout", text: ["profile=smoke\n"] },
    { output_type: "display_data", data: { "text/markdown": "**hello** from the replay fixture" }, metadata: {} },
  ]);
  expect(second.execution_count).toBe(2);
  expect(second.outputs.map((o: { name: string }) => o.name)).toEqual(["stderr"]);
  expect(second.outputs[0].text.join("")).toContain("fixture failure: boom");

  if (nbformatAvailable()) {
    const code = "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')";
    expect(
      execFileSync("/usr/bin/python3", ["-c", code, join(out, "display_then_error.ipynb")], {
        encoding: "utf8",
      }).trim(),
    ).toBe("valid");
  } else {
    console.warn(
      "replay.test.ts: /usr/bin/python3 has no nbformat; skipped the schema check (apt-get install python3-nbformat)",
    );
  }
}, 240_000);

it("rejects bad arguments before running anything", async () => {
  const bad = await replay(["--profile", "huge", FIXTURE]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--profile must be 'results', 'teach', 'full' or 'smoke', got 'huge'");
  const missing = await replay(["--out", out, "no/such/folder"]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("'no/such/folder' does not exist");
  const timeout = await replay(["--out", out, FIXTURE], { LTR_CELL_TIMEOUT_S: "soon" });
  expect(timeout.code).toBe(2);
  expect(timeout.stderr).toContain("LTR_CELL_TIMEOUT_S='soon'");
  const jobs = await replay(["--out", out, "--jobs", "0", FIXTURE]);
  expect(jobs.code).toBe(2);
  expect(jobs.stderr).toContain("--jobs must be a whole number >= 1, got '0'");
  // A training profile's notebooks may need the same (locked) run folder: only results mode replays in parallel.
  const training = await replay(["--out", out, "--profile", "smoke", "--jobs", "2", FIXTURE]);
  expect(training.code).toBe(2);
  expect(training.stderr).toContain("--jobs 2 needs --profile results");
  const threads = await replay(["--out", out, "--profile", "results", "--jobs", "2", FIXTURE], {
    LTR_NUM_THREADS: "many",
  });
  expect(threads.code).toBe(2);
  expect(threads.stderr).toContain("LTR_NUM_THREADS must be a positive integer, got 'many'");
});

it("--jobs 2: two notebooks at once, each report whole and in sorted order, one summary", async () => {
  const fixtures = ["expectations_pass.ipynb", "display_then_error.ipynb"].map((f) =>
    join(process.cwd(), "test", "notebooks", "fixtures", f),
  );
  const r = await replay(["--out", out, "--profile", "results", "--jobs", "2", ...fixtures]);
  expect(r.code).toBe(1);
  const lines = r.stdout.trimEnd().split("\n");
  const start = (name: string) => lines.indexOf(`${name} (profile results)`);
  const a = start("display_then_error.ipynb");
  const b = start("expectations_pass.ipynb");
  expect(a).toBe(0);
  expect(b).toBeGreaterThan(a);
  // The first report runs uninterrupted from its header to its FAIL line (its error text follows), then the second.
  const failAt = lines.findIndex((l) => /^FAIL display_then_error\.ipynb at cell 2 /.test(l));
  expect(failAt).toBeGreaterThan(a);
  expect(failAt).toBeLessThan(b);
  expect(lines.slice(a + 1, failAt).every((l) => l.startsWith("  cell "))).toBe(true);
  expect(lines.slice(b + 1, -2).every((l) => l.startsWith("  cell "))).toBe(true);
  expect(lines.at(-2)).toMatch(/^PASS expectations_pass\.ipynb \(4 code cells/);
  expect(lines.at(-1)).toBe("notebooks: 1 passed, 1 failed");
}, 240_000);

/** Replay one fixture notebook; its last stdout line and the FAIL line. */
async function replayFixture(name: string, extra: string[] = []) {
  const r = await replay(["--out", out, ...extra, join(process.cwd(), "test", "notebooks", "fixtures", name)]);
  const last = r.stdout.trimEnd().split("\n").at(-1);
  return { ...r, last };
}

// Each replay warms up tslab's compiler (a few seconds; tens of seconds on a loaded machine), so the limits are generous.
describe.concurrent("nothing is swallowed: each of these fails the notebook", { timeout: 240_000 }, () => {
  it("an unhandled rejection of a promise nobody awaits, charged to its cell; later cells do not run", async () => {
    const r = await replayFixture("unhandled_rejection.ipynb");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL unhandled_rejection\.ipynb at cell 2 /);
    expect(r.stdout).toContain("unhandled promise rejection during cell 2: Error: fixture: never awaited");
    expect(r.stdout).not.toContain("cell 3/3");
    expect(r.last).toBe("notebooks: 0 passed, 1 failed");
  });

  it("a rejection that lands after the last cell", async () => {
    const r = await replayFixture("late_rejection.ipynb");
    expect(r.code).toBe(1);
    // charged to cell 1 whether the timer fires before the cell is reported done (a loaded machine) or after
    expect(r.stdout).toMatch(
      /unhandled promise rejection (during|after) cell 1: Error: fixture: rejected after the last cell/,
    );
    expect(r.last).toBe("notebooks: 0 passed, 1 failed");
  });

  it("an exception thrown in a timer callback", async () => {
    const r = await replayFixture("timer_exception.ipynb");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("uncaught exception during cell 1: Error: fixture: thrown in a timer");
    expect(r.last).toBe("notebooks: 0 passed, 1 failed");
  });

  it("process.exit(0) in the middle: the notebook stopped before its last code cell", async () => {
    const r = await replayFixture("exit_mid.ipynb");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL exit_mid\.ipynb at cell 2 /);
    expect(r.stdout).toContain(
      "the notebook stopped before its last code cell: the replay child exited with code 0 during cell 2 (1 of 3 code cells ran)",
    );
    expect(r.last).toBe("notebooks: 0 passed, 1 failed");
  });
});

describe.concurrent("per-cell expectations (metadata.ltr.expect)", { timeout: 240_000 }, () => {
  it("pass when every cell shows what it declares (kinds, regexes, stderr, a PNG with content)", async () => {
    const r = await replayFixture("expectations_pass.ipynb", ["--require-expect"]);
    expect(r.stdout).toMatch(/PASS expectations_pass\.ipynb \(4 code cells/);
    expect(r.code).toBe(0);
    expect(r.last).toBe("notebooks: 1 passed, 0 failed");
  });

  it("fail, naming each cell and mismatch: missing kind, regex, stderr, a typo'd key, a blank PNG, an empty figure", async () => {
    const r = await replayFixture("expectations_fail.ipynb");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL expectations_fail\.ipynb at cell 1 /);
    for (const line of [
      "cell 1: expected 1 image/png output, got 0 (the cell produced: text/markdown×1)",
      "cell 2: expect.text: /accuracy \\d+\\.\\d %/ matches none of the cell's text",
      'cell 3: expect.stderr is false but the cell wrote to stderr: "unexpected warning\\n"',
      "cell 4: metadata.ltr.expect: unknown key 'output' (valid: outputs, text, match, stderr)",
      "cell 5: an image/png output (40x30) is blank: 0 of 1200 pixels differ from the background",
      "cell 6: a plotly figure has traces but no data points",
    ])
      expect(r.stdout).toContain(line);
    expect(r.last).toBe("notebooks: 0 passed, 1 failed");
  });

  it("--require-expect: a code cell without expectations fails (without the flag such cells only need to run)", async () => {
    const strict = await replayFixture("require_expect.ipynb", ["--require-expect"]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("cell 2: no metadata.ltr.expect (--require-expect");
    expect(strict.last).toBe("notebooks: 0 passed, 1 failed");
  });
});
