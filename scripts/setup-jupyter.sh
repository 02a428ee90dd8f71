#!/usr/bin/env bash
# Register the tslab (TypeScript) kernel for this checkout and, with --start, serve the notebooks.
#
#   bash scripts/setup-jupyter.sh                 register the kernel, print how to start Jupyter
#   bash scripts/setup-jupyter.sh --start [ARGS]  register it and start Jupyter on notebooks/ (= npm run notebooks)
#                                                 ARGS go to `jupyter notebook` (e.g. --port 8899)
#
# The kernelspec goes into the git-ignored .jupyter/ prefix (it holds this checkout's absolute paths). It starts
# scripts/tslab-kernel.cjs: the project's pinned tslab, plus the execute_input message that lets nbconvert record
# execution counts. Needs Debian's Jupyter under /usr/bin/python3 (install-deps.sh installs it: jupyter-notebook,
# libjs-mathjax for offline maths, jupyter-nbconvert, jupyter-client, python3-ipykernel); the pyenv python3 on PATH
# has no jupyter_client. Headless runs need none of this: `node scripts/replay-notebooks.cjs` replays in Node.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${LTR_JUPYTER_PYTHON:-/usr/bin/python3}"
export PYDEVD_DISABLE_FILE_VALIDATION=1  # silences a debugger warning of Debian's python 3.11
START=0
if [ "${1:-}" = "--start" ]; then START=1; shift; fi

if [ ! -f "$ROOT/node_modules/tslab/package.json" ]; then
  echo "setup-jupyter: node_modules/tslab is missing; run \`npm ci\` first (tslab 1.0.22 is a devDependency)" >&2
  exit 1
fi
# The notebooks import the compiled package (`from "decoupling-lt"`): link it for tslab's type checker
# (scripts/self-link.mjs) and, before serving them, build dist/ when it is missing or older than src/.
if [ $START -eq 1 ]; then node "$ROOT/scripts/self-link.mjs" --ensure; else node "$ROOT/scripts/self-link.mjs"; fi
need="jupyter_client"; [ $START -eq 1 ] && need="notebook"
if ! "$PY" -c "import $need" 2>/dev/null; then
  echo "setup-jupyter: $PY cannot import $need. Install Debian's Jupyter with \`bash scripts/install-deps.sh\`, or:" >&2
  echo "  apt-get install -y --no-install-recommends jupyter-notebook libjs-mathjax jupyter-nbconvert jupyter-client python3-ipykernel" >&2
  echo "or point LTR_JUPYTER_PYTHON at a Python that has it." >&2
  exit 1
fi

KDIR="$ROOT/.jupyter/share/jupyter/kernels/tslab"
mkdir -p "$KDIR"
NODE="$(command -v node)"
"$NODE" -e '
const [kdir, node, root] = process.argv.slice(1);
const spec = { argv: [node, `${root}/scripts/tslab-kernel.cjs`, "--config-path", "{connection_file}"], display_name: "TypeScript", language: "typescript" };
require("fs").writeFileSync(`${kdir}/kernel.json`, JSON.stringify(spec, null, 1) + "\n");
' "$KDIR" "$NODE" "$ROOT"
rm -rf "$ROOT/.jupyter/share/jupyter/kernels/jslab"  # an older setup registered tslab's JavaScript kernel too
export JUPYTER_PATH="$ROOT/.jupyter/share/jupyter"

if [ $START -eq 0 ]; then
  echo "tslab kernel registered in $KDIR (git-ignored)."
  cat <<MSG

Interactive (what \`npm run notebooks\` does):
  bash scripts/setup-jupyter.sh --start        # then open the printed http://127.0.0.1:8888/?token=... URL

Headless through Jupyter (records execution counts, as the notebook UI does):
  JUPYTER_PATH=$JUPYTER_PATH PYDEVD_DISABLE_FILE_VALIDATION=1 \\
    /usr/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 --output-dir build/nbconvert notebooks/03_classifier_balancing.ipynb

Headless without Jupyter (what scripts/test.sh runs):
  node scripts/replay-notebooks.cjs --out build/notebooks --profile smoke notebooks

The notebooks default to the committed results (profile "results", no training); set profile in a notebook's
first code cell, or LTR_PROFILE=teach|full|smoke in the environment, to train instead.
MSG
  exit 0
fi

args=(--notebook-dir="$ROOT/notebooks" --ip=127.0.0.1)
[ "$(id -u)" -eq 0 ] && args+=(--allow-root)              # containers and CI machines run as root
[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && args+=(--no-browser)  # headless: open the printed URL yourself
echo "setup-jupyter: starting Jupyter on $ROOT/notebooks (Ctrl-C twice to stop)"
exec "$PY" -m notebook "${args[@]}" "$@"
