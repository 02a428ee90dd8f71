#!/usr/bin/env bash
# Register the tslab (TypeScript) and jslab kernels for this checkout, into the git-ignored
# .jupyter/ prefix (the generated kernel.json holds this checkout's absolute path, so it is never
# committed), then print how to start Jupyter on the notebooks.
#
# Needs Debian's Jupyter (jupyter-client, jupyter-nbconvert, python3-ipykernel; interactive use also
# jupyter-notebook) under /usr/bin/python3: the pyenv python3 on PATH has no jupyter_client.
# Headless runs need none of this: `node scripts/replay-notebooks.cjs` replays notebooks in Node.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${LTR_JUPYTER_PYTHON:-/usr/bin/python3}"
export PYDEVD_DISABLE_FILE_VALIDATION=1  # silences a debugger warning of Debian's python 3.11

if [ ! -x "$PWD/node_modules/.bin/tslab" ]; then
  echo "setup-jupyter: node_modules/.bin/tslab is missing; run \`npm ci\` first (tslab 1.0.22 is a devDependency)" >&2
  exit 1
fi
if ! "$PY" -c "import jupyter_client" 2>/dev/null; then
  echo "setup-jupyter: $PY has no jupyter_client. Install Debian's Jupyter:" >&2
  echo "  apt-get install -y --no-install-recommends jupyter-client jupyter-nbconvert python3-ipykernel jupyter-notebook" >&2
  echo "or point LTR_JUPYTER_PYTHON at a Python that has it." >&2
  exit 1
fi

npx tslab install --python="$PY" --binary="$PWD/node_modules/.bin/tslab" --prefix="$PWD/.jupyter"
export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
if command -v /usr/bin/jupyter >/dev/null 2>&1; then /usr/bin/jupyter kernelspec list; fi

cat <<MSG

tslab kernels registered under $PWD/.jupyter (git-ignored).

Interactive:
  JUPYTER_PATH=$PWD/.jupyter/share/jupyter jupyter notebook notebooks/
  (as root in a container add: --no-browser --ip=127.0.0.1 --allow-root)

Headless through Jupyter (cross-check of the Node replay):
  JUPYTER_PATH=$PWD/.jupyter/share/jupyter PYDEVD_DISABLE_FILE_VALIDATION=1 LTR_PROFILE=smoke \\
    /usr/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 --output-dir build/nbconvert notebooks/01_long_tailed_data.ipynb

Headless without Jupyter (what scripts/test.sh runs):
  node scripts/replay-notebooks.cjs --out build/notebooks --profile smoke notebooks
MSG
