#!/usr/bin/env node
/**
 * Headless replay of the TypeScript notebooks with tslab's own compiler and executor: no Jupyter,
 * no Python, no zeromq (stack-notes §1, "Pure-Node headless replay").
 *
 *   node scripts/replay-notebooks.cjs [--out DIR] [--profile smoke|full] [PATH ...]
 *
 * PATH is a notebook or a folder of notebooks (default: notebooks/); notebooks run in sorted order,
 * each in its own child process whose cwd is the notebook's folder (tslab's rootDir, so local
 * imports like "./src/plot" resolve exactly as in the kernel). Every code cell runs in order;
 * stdout/stderr become stream outputs and `tslab.display.*` / our multi-MIME bundles become
 * display_data outputs. The first failing cell stops the notebook. The executed notebook
 * (nbformat v4) is written to DIR/<name>.ipynb in every case, failed ones included.
 *
 * The profile is passed to the notebook as $LTR_PROFILE. Per-cell limit: $LTR_CELL_TIMEOUT_S
 * (default 900 s). The last line is "notebooks: N passed, M failed"; exit status 1 if any failed.
 *
 * This relies on tslab internals (dist/converter, dist/executor, dist/jupyter), hence the exact
 * pin tslab@1.0.22 in package.json.
 */
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

const TSLAB_PINNED = "1.0.22";
const USAGE = "usage: node scripts/replay-notebooks.cjs [--out DIR] [--profile results|teach|full|smoke] [NOTEBOOK_OR_DIR ...]";

function cellTimeoutS() {
  const raw = process.env.LTR_CELL_TIMEOUT_S;
  if (raw === undefined || raw === "") return 900;
  const v = Number(raw);
  if (!(v > 0)) {
    console.error(`replay-notebooks: LTR_CELL_TIMEOUT_S='${raw}' is not a positive number of seconds`);
    process.exit(2);
  }
  return v;
}

function sourceOf(cell) {
  return Array.isArray(cell.source) ? cell.source.join("") : String(cell.source ?? "");
}

/** Split text into nbformat's list-of-lines form (each line keeps its "\n"). */
function lines(text) {
  const out = text.split(/(?<=\n)/);
  return out.length && out[out.length - 1] === "" ? out.slice(0, -1) : out;
}

// ------------------------------------------------------------------------------------------------
// Child: execute one notebook's code cells in this process and report each cell to the parent.

async function child(nbPath) {
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));

  const req = createRequire(path.join(process.cwd(), "noop.js"));
  let tslabDir;
  try {
    tslabDir = path.dirname(req.resolve("tslab/package.json"));
  } catch {
    realErr(`replay-notebooks: tslab is not installed where ${process.cwd()} can resolve it; run \`npm ci\` (tslab@${TSLAB_PINNED} is a devDependency)\n`);
    process.exit(3);
  }
  const version = JSON.parse(fs.readFileSync(path.join(tslabDir, "package.json"), "utf8")).version;
  if (version !== TSLAB_PINNED) realErr(`replay-notebooks: warning: tslab ${version} found, this script was written against ${TSLAB_PINNED} internals\n`);
  const { createConverter } = req(path.join(tslabDir, "dist", "converter"));
  const { createExecutor } = req(path.join(tslabDir, "dist", "executor"));
  const jupyter = req(path.join(tslabDir, "dist", "jupyter"));

  // Lazily created converters, as tslab's own kernel does (the browser one is rarely needed).
  let nodeConv = null;
  let browserConv = null;
  const convs = {
    get node() {
      return (nodeConv ??= createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      return (browserConv ??= createConverter({ isJS: false, isBrowser: true }));
    },
    close() {
      nodeConv?.close();
      browserConv?.close();
    },
  };
  convs.node; // warm up before the first cell is timed
  const executor = createExecutor(process.cwd(), convs, { log: (...a) => console.log(...a), error: (...a) => console.error(...a) });

  /** Outputs of the cell being executed; late async writes land in the next cell, as in Jupyter. */
  let outputs = [];
  const byDisplayId = new Map();
  const stream = (name) => (chunk, encoding, cb) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const last = outputs[outputs.length - 1];
    if (last && last.output_type === "stream" && last.name === name) last.text += text;
    else outputs.push({ output_type: "stream", name, text });
    if (typeof encoding === "function") encoding();
    else if (typeof cb === "function") cb();
    return true;
  };
  process.stdout.write = stream("stdout");
  process.stderr.write = stream("stderr");
  jupyter.lastWriteDisplayData = (msg, update) => {
    const id = msg.transient && msg.transient.display_id;
    const out = { output_type: "display_data", data: msg.data, metadata: msg.metadata || {} };
    if (update && id && byDisplayId.has(id)) {
      // An updatable display (tslab.newDisplay()): the viewer would redraw the original output.
      Object.assign(byDisplayId.get(id), { data: out.data, metadata: out.metadata });
      return;
    }
    if (id) byDisplayId.set(id, out);
    outputs.push(out);
  };
  process.on("unhandledRejection", (reason) => console.error("UnhandledPromiseRejection:", reason));
  process.on("uncaughtException", (err) => console.error("UncaughtException:", err));

  const nb = JSON.parse(fs.readFileSync(nbPath, "utf8"));
  const timeoutS = cellTimeoutS();
  const code = nb.cells.map((c, i) => [c, i]).filter(([c]) => c.cell_type === "code");
  let failed = false;
  for (const [cell, index] of code) {
    outputs = [];
    await send({ type: "start", index });
    const t0 = Date.now();
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutS * 1000);
    });
    let ok;
    try {
      const r = await Promise.race([executor.execute(sourceOf(cell)), timeout]);
      if (r === "timeout") {
        console.error(`Cell timed out after ${timeoutS} s (raise LTR_CELL_TIMEOUT_S or use --profile smoke)`);
        ok = false;
      } else ok = r;
    } catch (e) {
      console.error(e);
      ok = false;
    } finally {
      clearTimeout(timer);
    }
    await send({ type: "done", index, ok, seconds: (Date.now() - t0) / 1000, outputs });
    if (!ok) {
      failed = true;
      break;
    }
  }
  process.stdout.write = realOut;
  process.stderr.write = realErr;
  try {
    executor.close();
  } catch {
    // closing the language service is best effort
  }
  // Exit explicitly: a notebook may leave a browser, timer or server running.
  process.exit(failed ? 1 : 0);
}

// ------------------------------------------------------------------------------------------------
// Parent: find notebooks, run each in a child, assemble and write the executed notebooks.

function parseArgs(argv) {
  const a = { out: "build/notebooks", profile: "smoke", paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) {
        console.error(`replay-notebooks: ${k} needs a value\n${USAGE}`);
        process.exit(2);
      }
      return argv[++i];
    };
    if (k === "--out") a.out = val();
    else if (k === "--profile") a.profile = val();
    else if (k === "-h" || k === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (k.startsWith("--")) {
      console.error(`replay-notebooks: unknown option '${k}'\n${USAGE}`);
      process.exit(2);
    } else a.paths.push(k);
  }
  if (!["results", "teach", "full", "smoke"].includes(a.profile)) {
    console.error(`replay-notebooks: --profile must be 'results', 'teach', 'full' or 'smoke', got '${a.profile}'`);
    process.exit(2);
  }
  if (a.paths.length === 0) a.paths.push("notebooks");
  return a;
}

function findNotebooks(paths) {
  const found = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) {
      console.error(`replay-notebooks: '${p}' does not exist (pass .ipynb files or folders that contain them)`);
      process.exit(2);
    }
    if (fs.statSync(p).isDirectory()) {
      for (const f of fs.readdirSync(p)) if (f.endsWith(".ipynb")) found.push(path.resolve(p, f));
    } else if (p.endsWith(".ipynb")) found.push(path.resolve(p));
    else {
      console.error(`replay-notebooks: '${p}' is not a .ipynb file`);
      process.exit(2);
    }
  }
  return [...new Set(found)].sort((x, y) => path.basename(x).localeCompare(path.basename(y)) || x.localeCompare(y));
}

function runOne(nbPath, profile, timeoutS) {
  const nb = JSON.parse(fs.readFileSync(nbPath, "utf8"));
  if (nb.nbformat !== 4) throw new Error(`${nbPath}: nbformat ${nb.nbformat}, only v4 notebooks are supported`);
  for (const c of nb.cells) {
    if (c.cell_type === "code") {
      c.outputs = [];
      c.execution_count = null;
    }
  }
  let count = 0;
  let current = null;
  let failure = null;
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [__filename, "--child", nbPath], {
      cwd: path.dirname(nbPath),
      env: { ...process.env, LTR_PROFILE: profile },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    // Hard limit for cells that block the event loop (the child's own timer cannot fire then).
    let watchdog = null;
    const arm = (index) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        failure = { index, text: `Cell killed after ${timeoutS + 30} s without finishing (LTR_CELL_TIMEOUT_S=${timeoutS})` };
        const cell = nb.cells[index];
        cell.outputs.push({ output_type: "stream", name: "stderr", text: failure.text + "\n" });
        proc.kill("SIGKILL");
      }, (timeoutS + 30) * 1000);
    };
    proc.on("message", (m) => {
      if (m.type === "start") {
        current = m.index;
        arm(m.index);
      } else if (m.type === "done") {
        clearTimeout(watchdog);
        const cell = nb.cells[m.index];
        cell.execution_count = ++count;
        cell.outputs = m.outputs.map((o) => (o.output_type === "stream" ? { ...o, text: lines(o.text) } : o));
        process.stdout.write(`  cell ${m.index + 1}/${nb.cells.length} ${m.ok ? "ok  " : "FAIL"} ${m.seconds.toFixed(1)} s\n`);
        if (!m.ok) {
          const err = m.outputs.filter((o) => o.name === "stderr").map((o) => o.text).join("");
          failure = { index: m.index, text: err.trim() || "(no error text)" };
        }
        current = null;
      }
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      if (!failure && (code !== 0 || signal)) {
        failure = { index: current, text: `replay child exited with ${signal ?? `code ${code}`}${current !== null ? ` during cell ${current + 1}` : ""}` };
      }
      resolve({ nb, failure, cells: count });
    });
  });
}

async function parent(argv) {
  const args = parseArgs(argv);
  const timeoutS = cellTimeoutS();
  const notebooks = findNotebooks(args.paths);
  fs.mkdirSync(args.out, { recursive: true });
  let passed = 0;
  let failed = 0;
  for (const nbPath of notebooks) {
    const name = path.basename(nbPath);
    process.stdout.write(`${name} (profile ${args.profile})\n`);
    const t0 = Date.now();
    let result;
    try {
      result = await runOne(nbPath, args.profile, timeoutS);
    } catch (e) {
      result = { nb: null, failure: { index: null, text: String(e && e.message ? e.message : e) }, cells: 0 };
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (result.nb) {
      const outPath = path.join(args.out, name);
      const tmp = `${outPath}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(result.nb, null, 1) + "\n");
      fs.renameSync(tmp, outPath);
    }
    if (result.failure) {
      failed++;
      const where = result.failure.index !== null && result.failure.index !== undefined ? ` at cell ${result.failure.index + 1}` : "";
      process.stdout.write(`FAIL ${name}${where} (${secs} s)\n`);
      process.stdout.write(result.failure.text.split("\n").slice(0, 40).map((l) => `    ${l}`).join("\n") + "\n");
    } else {
      passed++;
      process.stdout.write(`PASS ${name} (${result.cells} code cells, ${secs} s)\n`);
    }
  }
  process.stdout.write(`notebooks: ${passed} passed, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}

if (process.argv[2] === "--child") {
  child(path.resolve(process.argv[3])).catch((e) => {
    // Straight to fd 2: process.stderr.write may still be redirected into a cell's outputs.
    fs.writeSync(2, `replay-notebooks: ${e && e.stack ? e.stack : e}\n`);
    process.exit(3);
  });
} else {
  parent(process.argv.slice(2));
}
