/**
 * The project's tslab kernel under real Jupyter (nbconvert): scripts/setup-jupyter.sh registers
 * scripts/tslab-kernel.cjs, which adds the execute_input message, so nbconvert records execution counts
 * (with tslab's own kernel every cell kept `In [ ]:`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

const ROOT = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), "ltr-kernel-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it("nbconvert records execution counts and outputs through the project's kernel", (ctx) => {
  if (!existsSync("/usr/bin/jupyter-nbconvert")) {
    console.warn("kernel.test.ts: Debian's jupyter-nbconvert is not installed (bash scripts/install-deps.sh); skipped");
    ctx.skip();
  }
  execFileSync("bash", [join(ROOT, "scripts", "setup-jupyter.sh")], { stdio: "ignore" });
  const spec = JSON.parse(readFileSync(join(ROOT, ".jupyter/share/jupyter/kernels/tslab/kernel.json"), "utf8"));
  expect(spec.argv.slice(1)).toEqual([join(ROOT, "scripts", "tslab-kernel.cjs"), "--config-path", "{connection_file}"]);
  const cell = (id: string, source: string) => ({
    cell_type: "code",
    id,
    metadata: {},
    source,
    outputs: [],
    execution_count: null,
  });
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
    cells: [cell("a", "const x: number = 20 + 1;\nconsole.log(x)"), cell("b", "console.log(x * 2)")],
  };
  // Inside the project, so the kernel resolves the pinned tslab from node_modules.
  const dir = join(ROOT, "build", `kernel-test-${process.pid}`);
  execFileSync("mkdir", ["-p", dir]);
  try {
    writeFileSync(join(dir, "counts.ipynb"), JSON.stringify(nb));
    execFileSync(
      "/usr/bin/jupyter",
      [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=120",
        "--output-dir",
        tmp,
        join(dir, "counts.ipynb"),
      ],
      {
        env: {
          ...process.env,
          JUPYTER_PATH: join(ROOT, ".jupyter/share/jupyter"),
          PYDEVD_DISABLE_FILE_VALIDATION: "1",
        },
        stdio: "ignore",
        timeout: 150_000,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = JSON.parse(readFileSync(join(tmp, "counts.ipynb"), "utf8"));
  expect(out.cells.map((c: { execution_count: number | null }) => c.execution_count)).toEqual([1, 2]);
  expect(
    out.cells.map((c: { outputs: { text: string[] }[] }) => c.outputs.map((o) => o.text.join("")).join("")),
  ).toEqual(["21\n", "42\n"]);
}, 180_000);
