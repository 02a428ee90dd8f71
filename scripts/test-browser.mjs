#!/usr/bin/env node
/**
 * The notebooks as a user meets them: Debian's Jupyter notebook server with the tslab kernel, driven from Debian's
 * chromium through playwright-core. For every notebook, in its default results mode (no training):
 *
 *   - Run All executes every code cell, and every cell gets its execution count;
 *   - no cell shows error output (stderr, or an error message);
 *   - every code cell shows the outputs its `metadata.ltr.expect` lists, and every figure cell an image;
 *   - the maths of the Markdown cells is typeset by MathJax, served by the notebook server itself;
 *   - in 05_tau_sweep, moving the τ slider changes the numbers of its table;
 *   - the page makes no request beyond the local server (offline);
 * and one screenshot per notebook goes to build/browser/<name>.png.
 *
 *   node scripts/test-browser.mjs [--bundle DIR] [--out DIR] [NAME_FILTER ...]
 *
 * --bundle DIR points the notebooks at another results bundle (LTR_BUNDLE; default: the committed one in
 * results/FashionMNIST_LT/bundle). The server runs on 127.0.0.1, a free port and a random token, on copies of the
 * notebooks in <out>/notebooks (so autosave cannot touch notebooks/), and is shut down at the end with its kernels.
 * Per-notebook limit: $LTR_BROWSER_TIMEOUT_S (default 300 s). Last line: "browser: N passed, M failed".
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PY = process.env.LTR_JUPYTER_PYTHON ?? "/usr/bin/python3";
const CHROMIUM = process.env.LTR_CHROMIUM ?? "/usr/bin/chromium";
const TIMEOUT_S = Number(process.env.LTR_BROWSER_TIMEOUT_S ?? 300);
const USAGE = "usage: node scripts/test-browser.mjs [--bundle DIR] [--out DIR] [NAME_FILTER ...]";

const args = { bundle: null, out: join(ROOT, "build", "browser"), filters: [] };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--bundle") args.bundle = resolve(process.argv[++i]);
  else if (a === "--out") args.out = resolve(process.argv[++i]);
  else if (a === "-h" || a === "--help") {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith("--")) {
    console.error(`test-browser: unknown option '${a}'\n${USAGE}`);
    process.exit(2);
  } else args.filters.push(a);
}

const log = (s) => console.log(`browser: ${s}`);
let passed = 0;
let failed = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function preflight() {
  const problems = [];
  if (!existsSync(CHROMIUM)) problems.push(`${CHROMIUM} not found (apt-get install chromium, or set LTR_CHROMIUM)`);
  if (spawnSync(PY, ["-c", "import notebook"], { stdio: "ignore" }).status !== 0)
    problems.push(`${PY} cannot import notebook (bash scripts/install-deps.sh installs jupyter-notebook)`);
  if (!existsSync(join(ROOT, "node_modules", "tslab"))) problems.push("node_modules/tslab missing (npm ci)");
  // The notebooks import the compiled package: dist/ built when stale, node_modules/decoupling-lt linked (scripts/self-link.mjs).
  if (
    spawnSync(process.execPath, [join(ROOT, "scripts", "self-link.mjs"), "--ensure"], { stdio: "inherit" }).status !== 0
  )
    problems.push("the package could not be built or linked (see the lines above)");
  const bundle = args.bundle ?? join(ROOT, "results", "FashionMNIST_LT", "bundle");
  if (!existsSync(join(bundle, "bundle.json")))
    problems.push(
      `no results bundle in ${relative(ROOT, bundle)} (npm run reproduce:table writes it; --bundle DIR tests another)`,
    );
  return problems;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Copies of the notebooks inside the project, so `from "decoupling-lt"` resolves to this checkout (scripts/self-link.mjs). */
function stageNotebooks(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const names = readdirSync(join(ROOT, "notebooks"))
    .filter((f) => f.endsWith(".ipynb"))
    .filter((f) => !args.filters.length || args.filters.some((p) => f.includes(p)))
    .sort();
  for (const n of names) copyFileSync(join(ROOT, "notebooks", n), join(dir, n));
  return names;
}

async function startServer(nbDir, port, token, runtimeDir) {
  const setup = spawnSync("bash", [join(ROOT, "scripts", "setup-jupyter.sh")], { encoding: "utf8" });
  if (setup.status !== 0) throw new Error(`setup-jupyter.sh failed:\n${setup.stderr}`);
  const env = {
    ...process.env,
    JUPYTER_PATH: join(ROOT, ".jupyter", "share", "jupyter"),
    JUPYTER_CONFIG_DIR: join(runtimeDir, "config"),
    JUPYTER_RUNTIME_DIR: join(runtimeDir, "runtime"),
    JUPYTER_DATA_DIR: join(runtimeDir, "data"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    LTR_NOTEBOOK_OUT: join(args.out, "outputs"),
  };
  delete env.LTR_PROFILE; // the notebooks' own default: results
  if (args.bundle) env.LTR_BUNDLE = args.bundle;
  const argv = [
    "-m",
    "notebook",
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--port-retries=0",
    `--notebook-dir=${nbDir}`,
    `--NotebookApp.token=${token}`,
    "--NotebookApp.password=",
  ];
  if (process.getuid?.() === 0) argv.push("--allow-root");
  const server = spawn(PY, argv, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let serverLog = "";
  server.stdout.on("data", (b) => (serverLog += b));
  server.stderr.on("data", (b) => (serverLog += b));
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (server.exitCode !== null)
      throw new Error(`the notebook server exited (${server.exitCode}):\n${serverLog.slice(-3000)}`);
    try {
      const r = await fetch(`${base}/api/status?token=${token}`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > 60_000)
      throw new Error(`the notebook server did not answer on ${base} within 60 s:\n${serverLog.slice(-3000)}`);
    await sleep(250);
  }
  return { server, base, log: () => serverLog };
}

/** Stop the server (SIGTERM shuts its kernels down), then make sure no kernel it started is left. */
async function stopServer(s, runtimeDir) {
  const kernelPids = () =>
    readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(join(runtimeDir, "runtime"));
        } catch {
          return false;
        }
      })
      .map(Number);
  try {
    process.kill(-s.server.pid, "SIGTERM");
  } catch {
    // already gone
  }
  for (let i = 0; i < 100 && s.server.exitCode === null && s.server.signalCode === null; i++) await sleep(100);
  if (s.server.exitCode === null && s.server.signalCode === null) {
    process.kill(-s.server.pid, "SIGKILL");
    await sleep(200);
  }
  await sleep(500);
  const left = kernelPids();
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  return left;
}

/** Everything the assertions need, read from the live notebook page. */
function pageState() {
  /* global Jupyter, MathJax, document */
  const cells = Jupyter.notebook.get_cells();
  return {
    kernelIdle: document.querySelector("#kernel_indicator_icon")?.className.includes("kernel_idle_icon") ?? false,
    mathjax:
      typeof MathJax !== "undefined"
        ? { version: MathJax.version ?? null, queueDone: !MathJax.Hub || MathJax.Hub.queue.pending === 0 }
        : null,
    typeset: document.querySelectorAll(
      ".text_cell_render .MathJax, .text_cell_render .MathJax_Display, .text_cell_render .MathJax_CHTML, .text_cell_render .MathJax_SVG, .text_cell_render .MathJax_Preview + script",
    ).length,
    rawMath: [...document.querySelectorAll(".text_cell_render")].filter((el) =>
      /\$\$|\\frac|\\lVert/.test(el.innerText ?? ""),
    ).length,
    markdownWithMath: cells.filter((c) => c.cell_type === "markdown" && /\$/.test(c.get_text())).length,
    code: cells
      .map((c, index) => ({ c, index }))
      .filter(({ c }) => c.cell_type === "code")
      .map(({ c, index }) => ({
        index,
        prompt: c.input_prompt_number ?? null,
        // metadata.ltr.expect.outputs: the output kinds the cell must show (docs/TESTING.md)
        expect: c.metadata?.ltr?.expect?.outputs ?? null,
        outputs: c.output_area.outputs.map((o) => ({
          type: o.output_type,
          name: o.name ?? null,
          mimes: o.data ? Object.keys(o.data) : [],
          text: String(o.text ?? "").slice(0, 600),
        })),
        images: c.element[0].querySelectorAll(".output_area img").length,
        errors: [...c.element[0].querySelectorAll(".output_stderr, .output_error")].map((e) =>
          (e.textContent ?? "").slice(0, 600),
        ),
      })),
  };
}

async function runNotebook(context, base, token, name) {
  const problems = [];
  const page = await context.newPage();
  const external = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["127.0.0.1", "localhost"].includes(u.hostname) && !["data:", "blob:", "about:"].includes(u.protocol))
      external.push(r.url());
  });
  try {
    await page.goto(`${base}/notebooks/${encodeURIComponent(name)}?token=${token}`);
    await page.waitForFunction(() => globalThis.Jupyter?.notebook?.kernel?.is_connected?.() === true, null, {
      timeout: 120_000,
    });
    await page.evaluate(() => Jupyter.notebook.set_autosave_interval(0));
    const t0 = Date.now();
    await page.evaluate(() => Jupyter.notebook.execute_all_cells());
    // Done when no cell is queued or running ("*") and the kernel is idle, twice in a row.
    let quiet = 0;
    let state = null;
    for (;;) {
      await sleep(500);
      state = await page.evaluate(pageState);
      const busy = state.code.some((c) => c.prompt === "*");
      quiet = !busy && state.kernelIdle ? quiet + 1 : 0;
      if (quiet >= 2) break;
      if (Date.now() - t0 > TIMEOUT_S * 1000) {
        problems.push(`still running after ${TIMEOUT_S} s (raise LTR_BROWSER_TIMEOUT_S on a slow machine)`);
        break;
      }
    }
    const seconds = (Date.now() - t0) / 1000;
    await page
      .waitForFunction(() => typeof MathJax === "undefined" || !MathJax.Hub || MathJax.Hub.queue.pending === 0, null, {
        timeout: 30_000,
      })
      .catch(() => {});
    state = await page.evaluate(pageState);
    // 1. every code cell ran and got its execution count
    const notRun = state.code.filter((c) => typeof c.prompt !== "number");
    if (notRun.length)
      problems.push(
        `cells without an execution count: ${notRun.map((c) => `${c.index + 1} (${c.prompt ?? "not run"})`).join(", ")}`,
      );
    // 2. no error output
    for (const c of state.code) {
      const errs = [...c.errors, ...c.outputs.filter((o) => o.type === "error").map((o) => o.text)];
      if (errs.length)
        problems.push(`cell ${c.index + 1} shows error output: ${errs.join(" | ").replace(/\s+/g, " ").slice(0, 400)}`);
    }
    // 3. expected outputs, figures shown as images
    for (const c of state.code) {
      if (!Array.isArray(c.expect)) {
        problems.push(`cell ${c.index + 1} has no metadata.ltr.expect.outputs`);
        continue;
      }
      for (const kind of new Set(c.expect)) {
        const want = c.expect.filter((k) => k === kind).length;
        const have =
          kind === "stdout" || kind === "stderr"
            ? c.outputs.filter((o) => o.type === "stream" && o.name === kind).length
            : c.outputs.filter((o) => o.mimes.includes(kind)).length;
        if (have < Math.min(want, kind === "stdout" ? 1 : want))
          problems.push(`cell ${c.index + 1}: expected ${want} × ${kind}, got ${have}`);
      }
      const figures = c.expect.filter((k) => k === "image/png").length;
      if (c.images < figures)
        problems.push(`cell ${c.index + 1}: ${figures} figure(s) expected, ${c.images} image(s) shown`);
    }
    // 4. maths typeset, from the local server
    if (state.markdownWithMath > 0) {
      if (!state.mathjax) problems.push("MathJax is not loaded (Debian: libjs-mathjax)");
      else if (state.typeset === 0)
        problems.push(
          `MathJax ${state.mathjax.version ?? "?"} loaded but no maths typeset in ${state.markdownWithMath} Markdown cells with $...$`,
        );
      if (state.rawMath > 0) problems.push(`${state.rawMath} Markdown cells still show raw LaTeX`);
    }
    // 5. the τ slider moves the numbers
    let slider = "";
    if (name.startsWith("05_")) {
      const range = page.locator(".output_area input[type=range]").first();
      if ((await range.count()) === 0) problems.push("no τ slider in the outputs");
      else {
        const table = page.locator(".output_area .ltr-tau-slider table").first();
        const label = page.locator(".output_area .ltr-tau-slider b").first();
        await range.scrollIntoViewIfNeeded();
        await range.focus();
        await page.keyboard.press("Home");
        const [t1, l1] = [await table.innerText(), await label.innerText()];
        await page.keyboard.press("End");
        const [t2, l2] = [await table.innerText(), await label.innerText()];
        if (t1 === t2 || l1 === l2) problems.push(`moving the τ slider from ${l1} to ${l2} did not change its table`);
        else slider = `; slider τ ${l1} → ${l2} changes the table`;
      }
    }
    if (external.length)
      problems.push(`requests beyond the local server: ${[...new Set(external)].slice(0, 5).join(", ")}`);
    // Screenshot of the whole notebook: Notebook 6 scrolls inside #site, so make the window as tall as its content
    // (capped below chromium's 16384-pixel limit) and let the page re-layout.
    const tall = await page.evaluate(
      () =>
        (document.getElementById("site")?.scrollHeight ?? 900) + (document.getElementById("header")?.offsetHeight ?? 0),
    );
    await page.setViewportSize({ width: 1200, height: Math.min(16000, tall + 40) });
    await sleep(500);
    const shot = join(args.out, name.replace(/\.ipynb$/, ".png"));
    await page.screenshot({ path: shot });
    const cellsRun = state.code.filter((c) => typeof c.prompt === "number").length;
    const images = state.code.reduce((a, c) => a + c.images, 0);
    await page.evaluate(() => Jupyter.notebook.session.delete()).catch(() => {});
    return {
      problems,
      summary: `${cellsRun}/${state.code.length} code cells in ${seconds.toFixed(1)} s, ${images} images, ${state.typeset} typeset formulas${slider}; ${relative(ROOT, shot)}`,
    };
  } catch (e) {
    problems.push(`driver error: ${e && e.message ? e.message.split("\n")[0] : e}`);
    return { problems, summary: "" };
  } finally {
    await page.close({ runBeforeUnload: false }).catch(() => {});
  }
}

async function main() {
  const problems = preflight();
  if (problems.length) {
    for (const p of problems) log(`cannot run: ${p}`);
    log("0 passed, 1 failed");
    process.exit(1);
  }
  mkdirSync(args.out, { recursive: true });
  const nbDir = join(args.out, "notebooks");
  const names = stageNotebooks(nbDir);
  const runtimeDir = mkdtempSync(join(tmpdir(), "ltr-jupyter-"));
  const userDataDir = mkdtempSync(join(tmpdir(), "ltr-chromium-"));
  const port = await freePort();
  const token = randomBytes(24).toString("hex");
  const before = spawnSync("git", ["status", "--porcelain", "--", "notebooks", "results"], {
    cwd: ROOT,
    encoding: "utf8",
  }).stdout;
  let server = null;
  let context = null;
  const lifecycle = [];
  try {
    server = await startServer(nbDir, port, token, runtimeDir);
    log(
      `Jupyter notebook server on 127.0.0.1:${port} (token), ${names.length} notebooks, results bundle ${relative(ROOT, args.bundle ?? join(ROOT, "results/FashionMNIST_LT/bundle"))}`,
    );
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
      viewport: { width: 1200, height: 900 },
    });
    for (const name of names) {
      const r = await runNotebook(context, server.base, token, name);
      if (r.problems.length) {
        failed++;
        log(`FAIL ${name}${r.summary ? ` (${r.summary})` : ""}`);
        for (const p of r.problems) console.log(`    ${p}`);
      } else {
        passed++;
        log(`PASS ${name} (${r.summary})`);
      }
    }
  } catch (e) {
    lifecycle.push(String(e && e.message ? e.message : e));
  } finally {
    if (context) await context.close().catch(() => {});
    if (server) {
      const left = await stopServer(server, runtimeDir);
      if (left.length)
        lifecycle.push(`${left.length} kernel process(es) outlived the server and were killed: ${left.join(", ")}`);
    }
    rmSync(userDataDir, { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
  }
  const after = spawnSync("git", ["status", "--porcelain", "--", "notebooks", "results"], {
    cwd: ROOT,
    encoding: "utf8",
  }).stdout;
  if (after !== before) lifecycle.push(`running the notebooks changed the working tree:\n${after}`);
  if (lifecycle.length) {
    failed++;
    log("FAIL server lifecycle");
    for (const p of lifecycle) console.log(`    ${p}`);
  } else {
    passed++;
    log(
      "PASS server lifecycle (started on a free port with a token, shut down with its kernels, notebooks/ and results/ untouched)",
    );
  }
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
