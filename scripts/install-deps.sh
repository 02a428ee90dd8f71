#!/usr/bin/env bash
# System packages the project uses, from Debian's repositories (run as root, or with sudo):
#   dataset-fashion-mnist  the embedded default dataset (/usr/share/datasets/fashion-mnist)
#   chromium               headless figure rendering (plotly -> SVG/PNG through playwright-core)
#   libdnnl-dev, libopenblas-dev, g++   the optional native kernel layer (skipped if absent)
#   jupyter-notebook       the notebook server (Notebook 6.4) that `npm run notebooks` starts, with the tslab kernel
#   libjs-mathjax          MathJax 2.7, which that server serves itself, so the notebooks' maths renders offline
#   python3-numpy          the tests load our .npy exports with NumPy itself (skipped with a notice if absent)
#   jupyter-nbconvert, jupyter-client, python3-nbclient, python3-ipykernel
#                          running notebooks headlessly through Jupyter (the browser test drives the server)
#   clang-format           the C++ style check of `npm run lint` (.clang-format, scripts/clang-format.sh)
#   python3-torch          only for `npm run bench`'s PyTorch comparison (optional)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  dataset-fashion-mnist chromium libdnnl-dev libopenblas-dev g++ make python3 clang-format \
  jupyter-notebook libjs-mathjax jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel python3-numpy \
  ${LTR_WITH_TORCH:+python3-torch python3-numpy}
