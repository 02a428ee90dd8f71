import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

const SCRIPT = join(process.cwd(), "scripts", "replay-notebooks.cjs");
const FIXTURE = join(process.cwd(), "test", "notebooks", "fixtures", "display_then_error.ipynb");
const out = mkdtempSync(join(tmpdir(), "ltr-replay-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function replay(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ...env }, timeout: 110_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
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
    expect(execFileSync("/usr/bin/python3", ["-c", code, join(out, "display_then_error.ipynb")], { encoding: "utf8" }).trim()).toBe("valid");
  } else {
    console.warn("replay.test.ts: /usr/bin/python3 has no nbformat; skipped the schema check (apt-get install python3-nbformat)");
  }
});

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
});
