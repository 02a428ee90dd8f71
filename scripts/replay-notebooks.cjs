#!/usr/bin/env node
/**
 * Headless replay of the TypeScript notebooks with tslab's own compiler and executor: no Jupyter,
 * no Python, no zeromq (docs/TESTING.md, "Notebooks: the headless replay and per-cell expectations").
 *
 *   node scripts/replay-notebooks.cjs [--out DIR] [--profile smoke|full] [--require-expect] [--jobs N] [PATH ...]
 *   node scripts/replay-notebooks.cjs --check-outputs DIR [--require-expect] [PATH ...]
 *
 * The second form runs nothing: it checks the expectations of each PATH notebook against the outputs of the
 * executed copy of the same name in DIR (a previous replay's --out), for iterating on expectations quickly.
 *
 * PATH is a notebook or a folder of notebooks (default: notebooks/); notebooks run in sorted order,
 * each in its own child process whose cwd is the notebook's folder (tslab's rootDir, so imports —
 * `from "decoupling-lt"`, the compiled package — resolve exactly as in the kernel). Every code cell runs in order;
 * stdout/stderr become stream outputs and `tslab.display.*` / our multi-MIME bundles become
 * display_data outputs. The first failing cell stops the notebook. The executed notebook
 * (nbformat v4) is written to DIR/<name>.ipynb in every case, failed ones included.
 *
 * A notebook FAILS when any of these happens (nothing is swallowed):
 *  - a cell throws, fails to compile, or runs past its time limit;
 *  - an unhandled promise rejection or uncaught exception happens at any time, in a cell or between cells
 *    (a promise nobody awaits, a failing timer callback); rejections up to 0.2 s after the last cell count too;
 *  - the notebook stops before its last code cell ran (process.exit in a cell, a crash, a kill);
 *  - an output does not match what its cell declares it shows (below), or a figure is empty.
 *
 * Per-cell expectations live in the cell's metadata, `metadata.ltr.expect` (all keys optional):
 *
 *   "ltr": { "expect": {
 *     "outputs": ["image/png", "image/png", "text/markdown", "stdout"],
 *         // output kinds the cell must produce, repeats = at least that many: a MIME type of a display
 *         // output ("image/png", "text/markdown", "text/html", "text/plain", "application/vnd.plotly.v1+json")
 *         // or a stream ("stdout", "stderr") with non-blank text
 *     "text": "regex" | ["regex", ...],
 *         // each must match the cell's text: stdout + every display's text/plain, text/markdown and text/html
 *     "match": { "stdout": "regex", "text/markdown": ["regex", ...] },
 *         // regexes against one output kind only (a stream, or the joined content of one MIME type)
 *     "stderr": false
 *         // the cell writes nothing to stderr (omit it, or true, where a warning is expected)
 *   } }
 *
 * Regexes are JavaScript regular expressions (flags "mu"); write them so they hold under both profiles.
 * Independently of expectations, every image/png output must decode to a picture with content (not one flat
 * colour) and every plotly figure bundle must hold at least one trace with data points. With --require-expect
 * (what scripts/test.sh passes) every code cell must declare `metadata.ltr.expect`; `{}` declares "runs without
 * error, shows anything". docs/TESTING.md describes the mechanism for notebook authors.
 *
 * --jobs N replays N notebooks at once (default 1), each child with 1/N of the threads (LTR_NUM_THREADS); the report
 * still lists the notebooks in sorted order. Only for notebooks that train nothing (the "results" profile, which
 * reads the bundle): two notebooks of a training profile may need the same run, and a run folder is locked while
 * one process trains it, so those profiles refuse N > 1.
 *
 * The profile is passed to the notebook as $LTR_PROFILE. Per-cell limit: $LTR_CELL_TIMEOUT_S
 * (default 900 s). The last line is "notebooks: N passed, M failed"; exit status 1 if any failed.
 *
 * This relies on tslab internals (dist/converter, dist/executor, dist/jupyter), hence the exact
 * pin tslab@1.0.22 in package.json.
 */
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

const TSLAB_PINNED = "1.0.22";
const USAGE =
  "usage: node scripts/replay-notebooks.cjs [--out DIR] [--profile results|teach|full|smoke] [--require-expect] [--jobs N] [NOTEBOOK_OR_DIR ...]\n" +
  "       node scripts/replay-notebooks.cjs --check-outputs EXECUTED_DIR [--require-expect] [NOTEBOOK_OR_DIR ...]";
/** How long the child waits after the last cell for late rejections and exceptions before it reports the end. */
const GRACE_MS = 200;
/** The keys `metadata.ltr.expect` may have. */
const EXPECT_KEYS = ["outputs", "text", "match", "stderr"];

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
    realErr(
      `replay-notebooks: tslab is not installed where ${process.cwd()} can resolve it; run \`npm ci\` (tslab@${TSLAB_PINNED} is a devDependency)\n`,
    );
    process.exit(3);
  }
  const version = JSON.parse(fs.readFileSync(path.join(tslabDir, "package.json"), "utf8")).version;
  if (version !== TSLAB_PINNED)
    realErr(
      `replay-notebooks: warning: tslab ${version} found, this script was written against ${TSLAB_PINNED} internals\n`,
    );
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
  const executor = createExecutor(process.cwd(), convs, {
    log: (...a) => console.log(...a),
    error: (...a) => console.error(...a),
  });

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
  // An error nobody handles fails the notebook: report it for the cell that was running (or the last one that
  // ran) and exit. Written straight to fd 2 as well, since process.stderr.write is redirected into the outputs.
  let current = null;
  let lastIndex = null;
  let finished = false;
  let dying = false;
  const fatal = (what, err) => {
    if (dying) return;
    dying = true;
    const where =
      current !== null
        ? `during cell ${current + 1}`
        : lastIndex !== null
          ? `after cell ${lastIndex + 1}`
          : "before the first cell";
    const text = `${what} ${where}: ${err && err.stack ? err.stack : String(err)}`;
    try {
      fs.writeSync(2, `replay-notebooks: ${text}\n`);
    } catch {
      // stderr closed: the IPC message below still carries the error
    }
    const exit = () => realExit(4);
    setTimeout(exit, 2000).unref();
    try {
      process.send({ type: "fatal", index: current ?? lastIndex, text }, exit);
    } catch {
      exit();
    }
  };
  const realExit = process.exit.bind(process);
  process.on("unhandledRejection", (reason) => fatal("unhandled promise rejection", reason));
  process.on("uncaughtException", (err) => fatal("uncaught exception", err));
  process.on("exit", (code) => {
    if (!finished && !dying) {
      const where =
        current !== null
          ? `during cell ${current + 1}`
          : lastIndex !== null
            ? `after cell ${lastIndex + 1}`
            : "before the first cell";
      fs.writeSync(
        2,
        `replay-notebooks: the notebook process exited (code ${code}) ${where}, before its last code cell finished\n`,
      );
    }
  });

  const nb = JSON.parse(fs.readFileSync(nbPath, "utf8"));
  const timeoutS = cellTimeoutS();
  const code = nb.cells.map((c, i) => [c, i]).filter(([c]) => c.cell_type === "code");
  let failed = false;
  for (const [cell, index] of code) {
    outputs = [];
    current = index;
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
    // Let the event loop turn once so the rejections of promises this cell left behind are reported (and charged to
    // this cell) before the next cell starts: Node only processes rejections when the microtask queue is empty.
    await new Promise((resolve) => setImmediate(resolve));
    if (dying) await new Promise(() => {}); // `fatal` reports and exits
    current = null;
    lastIndex = index;
    await send({ type: "done", index, ok, seconds: (Date.now() - t0) / 1000, outputs });
    if (!ok) {
      failed = true;
      break;
    }
  }
  // Late rejections of un-awaited promises land here (and fail the notebook through `fatal`).
  if (!failed) await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
  if (dying) await new Promise(() => {});
  process.stdout.write = realOut;
  process.stderr.write = realErr;
  try {
    executor.close();
  } catch {
    // closing the language service is best effort
  }
  if (!failed) await send({ type: "end" });
  finished = true;
  // Exit explicitly: a notebook may leave a browser, timer or server running.
  realExit(failed ? 1 : 0);
}

// ------------------------------------------------------------------------------------------------
// Parent: find notebooks, run each in a child, assemble and write the executed notebooks.

function parseArgs(argv) {
  const a = { out: "build/notebooks", profile: "smoke", requireExpect: false, checkOutputs: null, jobs: 1, paths: [] };
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
    else if (k === "--require-expect") a.requireExpect = true;
    else if (k === "--check-outputs") a.checkOutputs = val();
    else if (k === "--jobs") {
      const v = val();
      a.jobs = Number(v);
      if (!Number.isInteger(a.jobs) || a.jobs < 1) {
        console.error(`replay-notebooks: --jobs must be a whole number >= 1, got '${v}'`);
        process.exit(2);
      }
    } else if (k === "-h" || k === "--help") {
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
  if (a.jobs > 1 && a.profile !== "results") {
    console.error(
      `replay-notebooks: --jobs ${a.jobs} needs --profile results (notebooks of the '${a.profile}' profile may train the same run, whose folder is locked while one trains it)`,
    );
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

/** Replays one notebook in a child process; progress lines go to `log`, the child's environment gets `env` too. */
function runOne(nbPath, profile, timeoutS, log = (t) => process.stdout.write(t), env = {}) {
  const nb = JSON.parse(fs.readFileSync(nbPath, "utf8"));
  if (nb.nbformat !== 4) throw new Error(`${nbPath}: nbformat ${nb.nbformat}, only v4 notebooks are supported`);
  for (const c of nb.cells) {
    if (c.cell_type === "code") {
      c.outputs = [];
      c.execution_count = null;
    }
  }
  const codeCells = nb.cells.filter((c) => c.cell_type === "code").length;
  let count = 0;
  let current = null;
  let lastDone = null;
  let ended = false;
  let failure = null;
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [__filename, "--child", nbPath], {
      cwd: path.dirname(nbPath),
      env: { ...process.env, ...env, LTR_PROFILE: profile },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    // Hard limit for cells that block the event loop (the child's own timer cannot fire then).
    let watchdog = null;
    const arm = (index) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(
        () => {
          failure = {
            index,
            text: `Cell killed after ${timeoutS + 30} s without finishing (LTR_CELL_TIMEOUT_S=${timeoutS})`,
          };
          const cell = nb.cells[index];
          cell.outputs.push({ output_type: "stream", name: "stderr", text: `${failure.text}\n` });
          proc.kill("SIGKILL");
        },
        (timeoutS + 30) * 1000,
      );
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
        log(`  cell ${m.index + 1}/${nb.cells.length} ${m.ok ? "ok  " : "FAIL"} ${m.seconds.toFixed(1)} s\n`);
        if (!m.ok) {
          const err = m.outputs
            .filter((o) => o.name === "stderr")
            .map((o) => o.text)
            .join("");
          failure = { index: m.index, text: err.trim() || "(no error text)" };
        }
        current = null;
        lastDone = m.index;
      } else if (m.type === "fatal") {
        // An unhandled rejection / uncaught exception: the first such report wins over the exit that follows.
        if (!failure) failure = { index: m.index, text: m.text };
        if (m.index !== null && m.index !== undefined)
          nb.cells[m.index].outputs.push({ output_type: "stream", name: "stderr", text: lines(`${m.text}\n`) });
      } else if (m.type === "end") {
        ended = true;
      }
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      if (!failure && (code !== 0 || signal || !ended || count < codeCells)) {
        const where =
          current !== null
            ? `during cell ${current + 1}`
            : lastDone !== null
              ? `after cell ${lastDone + 1}`
              : "before the first cell";
        failure = {
          index: current ?? lastDone,
          text:
            `the notebook stopped before its last code cell: the replay child exited with ${signal ?? `code ${code}`} ${where} ` +
            `(${count} of ${codeCells} code cells ran); a notebook must not call process.exit or crash`,
        };
      }
      resolve({ nb, failure, cells: count });
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Expectations: what each executed cell must have shown (see the header comment).

function textOf(value) {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join("");
  return value === undefined || value === null ? "" : JSON.stringify(value);
}

/** Output kind -> list of texts: "stdout"/"stderr" streams and one entry per display output per MIME type. */
function outputsByKind(cell) {
  const kinds = new Map();
  const add = (k, t) => {
    if (!kinds.has(k)) kinds.set(k, []);
    kinds.get(k).push(t);
  };
  for (const o of cell.outputs) {
    if (o.output_type === "stream") {
      const t = textOf(o.text);
      if (t.trim() !== "") add(o.name, t);
    } else if (o.data) {
      for (const [mime, v] of Object.entries(o.data)) add(mime, textOf(v));
    }
  }
  return kinds;
}

function regexList(v, where, problems) {
  const list = Array.isArray(v) ? v : [v];
  const out = [];
  for (const src of list) {
    if (typeof src !== "string") {
      problems.push(`${where}: expected a regex string, got ${JSON.stringify(src)}`);
      continue;
    }
    try {
      out.push(new RegExp(src, "mu"));
    } catch (e) {
      problems.push(`${where}: invalid regex ${JSON.stringify(src)}: ${e.message}`);
    }
  }
  return out;
}

/** Problems of a figure bundle's plotly JSON: at least one trace with data points. */
function plotlyProblems(fig) {
  const data = fig && Array.isArray(fig.data) ? fig.data : null;
  if (!data || data.length === 0) return ["a plotly figure has no traces"];
  const hasPoints = (t) =>
    ["x", "y", "z", "values", "r"].some(
      (k) =>
        Array.isArray(t[k]) &&
        t[k].some((v) => (typeof v === "number" && Number.isFinite(v)) || (Array.isArray(v) && v.length > 0)),
    );
  return data.some(hasPoints) ? [] : ["a plotly figure has traces but no data points"];
}

let sharpModule;
/** Problems of a base64 PNG: must decode, and not be a single flat colour (≥ 0.5% of pixels off the background). */
async function pngProblems(b64) {
  sharpModule ??= require("sharp");
  let raw;
  try {
    raw = await sharpModule(Buffer.from(b64, "base64")).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    return [`an image/png output does not decode: ${e.message}`];
  }
  const { data, info } = raw;
  const n = info.width * info.height;
  const ch = info.channels;
  let differ = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++) {
      if (Math.abs(data[i * ch + c] - data[c]) > 16) {
        differ++;
        break;
      }
    }
  }
  return differ >= 0.005 * n
    ? []
    : [
        `an image/png output (${info.width}x${info.height}) is blank: ${differ} of ${n} pixels differ from the background`,
      ];
}

/** Problems of a `metadata.ltr.expect` value itself (no outputs needed): its type, keys, kinds and regexes. */
function expectSchemaProblems(exp) {
  if (exp === null || typeof exp !== "object" || Array.isArray(exp))
    return [`metadata.ltr.expect must be an object, got ${JSON.stringify(exp)}`];
  const problems = [];
  for (const k of Object.keys(exp))
    if (!EXPECT_KEYS.includes(k))
      problems.push(`metadata.ltr.expect: unknown key '${k}' (valid: ${EXPECT_KEYS.join(", ")})`);
  if (
    exp.outputs !== undefined &&
    !(Array.isArray(exp.outputs) && exp.outputs.every((k) => typeof k === "string" && k !== ""))
  )
    problems.push(
      `expect.outputs must be a list of output kinds (MIME types, "stdout", "stderr"), got ${JSON.stringify(exp.outputs)}`,
    );
  if (exp.text !== undefined) regexList(exp.text, "expect.text", problems);
  if (exp.match !== undefined) {
    if (exp.match === null || typeof exp.match !== "object" || Array.isArray(exp.match))
      problems.push(`expect.match must be an object {kind: regex}, got ${JSON.stringify(exp.match)}`);
    else for (const [k, v] of Object.entries(exp.match)) regexList(v, `expect.match["${k}"]`, problems);
  }
  if (exp.stderr !== undefined && typeof exp.stderr !== "boolean")
    problems.push(`expect.stderr must be true or false, got ${JSON.stringify(exp.stderr)}`);
  return problems;
}

/** Everything wrong with one executed cell: its declared expectations and the content of its figures. */
async function cellProblems(cell, requireExpect) {
  const problems = [];
  for (const o of cell.outputs) {
    if (!o.data) continue;
    if (typeof o.data["image/png"] === "string") problems.push(...(await pngProblems(o.data["image/png"])));
    if (o.data["application/vnd.plotly.v1+json"] !== undefined)
      problems.push(...plotlyProblems(o.data["application/vnd.plotly.v1+json"]));
  }
  const exp = cell.metadata && cell.metadata.ltr ? cell.metadata.ltr.expect : undefined;
  if (exp === undefined) {
    if (requireExpect)
      problems.push(
        "no metadata.ltr.expect (--require-expect: every code cell declares what it shows; {} for nothing in particular)",
      );
    return problems;
  }
  const schema = expectSchemaProblems(exp);
  if (schema.length) return [...problems, ...schema];
  const kinds = outputsByKind(cell);
  const seen = [...kinds.entries()].map(([k, v]) => `${k}×${v.length}`).join(", ") || "no output";
  if (exp.outputs !== undefined) {
    const want = new Map();
    for (const k of exp.outputs) want.set(k, (want.get(k) ?? 0) + 1);
    for (const [k, n] of want) {
      const got = (kinds.get(k) ?? []).length;
      if (got < n)
        problems.push(`expected ${n} ${k} output${n > 1 ? "s" : ""}, got ${got} (the cell produced: ${seen})`);
    }
  }
  if (exp.text !== undefined) {
    const all = ["stdout", "text/plain", "text/markdown", "text/html"].flatMap((k) => kinds.get(k) ?? []).join("\n");
    for (const re of regexList(exp.text, "expect.text", problems))
      if (!re.test(all))
        problems.push(
          `expect.text: /${re.source}/ matches none of the cell's text (${JSON.stringify(all.slice(0, 160))}…)`,
        );
  }
  if (exp.match !== undefined) {
    for (const [k, v] of Object.entries(exp.match)) {
      const text = (kinds.get(k) ?? []).join("\n");
      for (const re of regexList(v, `expect.match["${k}"]`, problems)) {
        if (!re.test(text))
          problems.push(
            `expect.match["${k}"]: /${re.source}/ does not match (${text ? `${JSON.stringify(text.slice(0, 160))}…` : `the cell has no ${k} output`})`,
          );
      }
    }
  }
  if (exp.stderr === false && kinds.has("stderr"))
    problems.push(
      `expect.stderr is false but the cell wrote to stderr: ${JSON.stringify(kinds.get("stderr").join("").slice(0, 200))}`,
    );
  return problems;
}

/** Check every executed cell; returns the first problem cell's index and all problems, or null. */
async function notebookProblems(nb, requireExpect) {
  let first = null;
  const lines = [];
  for (let i = 0; i < nb.cells.length; i++) {
    const cell = nb.cells[i];
    if (cell.cell_type !== "code" || cell.execution_count === null) continue;
    const problems = await cellProblems(cell, requireExpect);
    if (problems.length === 0) continue;
    first ??= i;
    for (const p of problems) lines.push(`cell ${i + 1}: ${p}`);
  }
  return first === null
    ? null
    : { index: first, text: `outputs do not match what the cells declare:\n${lines.join("\n")}` };
}

/** --check-outputs: the expectations of each notebook against a previously executed copy's outputs. */
async function checkOnly(args, notebooks) {
  let passed = 0;
  let failed = 0;
  for (const nbPath of notebooks) {
    const name = path.basename(nbPath);
    const executed = path.join(args.checkOutputs, name);
    let bad;
    if (!fs.existsSync(executed))
      bad = { index: null, text: `no executed copy ${executed} (replay it first with --out ${args.checkOutputs})` };
    else {
      const nb = JSON.parse(fs.readFileSync(nbPath, "utf8"));
      const ran = JSON.parse(fs.readFileSync(executed, "utf8"));
      if (ran.cells.length !== nb.cells.length)
        bad = { index: null, text: `${executed} has ${ran.cells.length} cells, ${nbPath} has ${nb.cells.length}` };
      else {
        nb.cells.forEach((c, i) => {
          if (c.cell_type === "code")
            Object.assign(c, {
              outputs: ran.cells[i].outputs ?? [],
              execution_count: ran.cells[i].execution_count ?? null,
            });
        });
        bad = await notebookProblems(nb, args.requireExpect);
      }
    }
    if (bad) {
      failed++;
      process.stdout.write(
        `FAIL ${name}${bad.index !== null ? ` at cell ${bad.index + 1}` : ""}\n${bad.text
          .split("\n")
          .map((l) => `    ${l}`)
          .join("\n")}\n`,
      );
    } else {
      passed++;
      process.stdout.write(`PASS ${name} (outputs of ${executed})\n`);
    }
  }
  process.stdout.write(`notebooks: ${passed} passed, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}

async function parent(argv) {
  const args = parseArgs(argv);
  const timeoutS = cellTimeoutS();
  const notebooks = findNotebooks(args.paths);
  if (args.checkOutputs !== null) return checkOnly(args, notebooks);
  // Notebooks import the compiled package (`from "decoupling-lt"`): link it for tslab's type checker and build dist/
  // when it is missing or older than src/ (scripts/self-link.mjs).
  if (notebooks.some((p) => fs.readFileSync(p, "utf8").includes('\\"decoupling-lt\\"'))) {
    const r = spawnSync(process.execPath, [path.join(__dirname, "self-link.mjs"), "--ensure"], { stdio: "inherit" });
    if (r.status !== 0) {
      process.stdout.write(
        `FAIL the package is not ready for the notebooks (see above)\nnotebooks: 0 passed, ${notebooks.length} failed\n`,
      );
      process.exit(1);
    }
  }
  fs.mkdirSync(args.out, { recursive: true });
  // Each notebook's report is buffered and printed whole, in sorted order, as soon as the ones before it are done.
  const reports = notebooks.map(() => null);
  let printed = 0;
  const flush = () => {
    while (printed < reports.length && reports[printed] !== null) process.stdout.write(reports[printed++].text);
  };
  const env = args.jobs > 1 ? { LTR_NUM_THREADS: String(Math.max(1, Math.floor(childThreads() / args.jobs))) } : {};
  const replay = async (i) => {
    const nbPath = notebooks[i];
    const name = path.basename(nbPath);
    let text = "";
    // One notebook at a time streams its progress live; in parallel each report waits for its turn.
    const log = args.jobs > 1 ? (t) => (text += t) : (t) => process.stdout.write(t);
    log(`${name} (profile ${args.profile})\n`);
    const t0 = Date.now();
    let result;
    try {
      result = await runOne(nbPath, args.profile, timeoutS, log, env);
      const bad = await notebookProblems(result.nb, args.requireExpect);
      if (bad && result.failure)
        result.failure = { index: result.failure.index, text: `${result.failure.text}\nand ${bad.text}` };
      else if (bad) result.failure = bad;
    } catch (e) {
      result = {
        nb: result ? result.nb : null,
        failure: { index: null, text: String(e && e.stack ? e.stack : e) },
        cells: 0,
      };
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (result.nb) {
      const outPath = path.join(args.out, name);
      const tmp = `${outPath}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(result.nb, null, 1)}\n`);
      fs.renameSync(tmp, outPath);
    }
    if (result.failure) {
      const where =
        result.failure.index !== null && result.failure.index !== undefined
          ? ` at cell ${result.failure.index + 1}`
          : "";
      log(`FAIL ${name}${where} (${secs} s)\n`);
      log(
        `${result.failure.text
          .split("\n")
          .slice(0, 40)
          .map((l) => `    ${l}`)
          .join("\n")}\n`,
      );
    } else log(`PASS ${name} (${result.cells} code cells, ${secs} s)\n`);
    reports[i] = { ok: !result.failure, text: args.jobs > 1 ? text : "" };
    flush();
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(args.jobs, notebooks.length) }, async () => {
      while (next < notebooks.length) await replay(next++);
    }),
  );
  const passed = reports.filter((r) => r.ok).length;
  const failed = reports.length - passed;
  process.stdout.write(`notebooks: ${passed} passed, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}

/**
 * The threads the children share: $LTR_NUM_THREADS when set, else the native layer's default of 2; a bad value is
 * refused as the native layer refuses it (src/kernels/native/addon.ts, requestedThreads), never replaced.
 */
function childThreads() {
  const raw = process.env.LTR_NUM_THREADS;
  if (raw === undefined || raw === "") return 2;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) {
    console.error(
      `replay-notebooks: LTR_NUM_THREADS must be a positive integer, got '${raw}'; unset it to use 2 threads`,
    );
    process.exit(2);
  }
  return v;
}

// Required as a module (test/notebooks/outputs.test.ts checks the committed notebooks' expectations statically).
module.exports = { EXPECT_KEYS, expectSchemaProblems };

if (require.main !== module) {
  // imported: run nothing
} else if (process.argv[2] === "--child") {
  child(path.resolve(process.argv[3])).catch((e) => {
    // Straight to fd 2: process.stderr.write may still be redirected into a cell's outputs.
    fs.writeSync(2, `replay-notebooks: ${e && e.stack ? e.stack : e}\n`);
    process.exit(3);
  });
} else {
  parent(process.argv.slice(2));
}
