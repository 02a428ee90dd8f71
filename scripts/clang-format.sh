#!/usr/bin/env bash
# The C++ of the native layer (native/src/*.cc, *.h) in one style, .clang-format's (Debian's clang-format):
#
#   bash scripts/clang-format.sh          rewrite the files in place (part of `npm run format`)
#   bash scripts/clang-format.sh --check  change nothing; list every file that differs and exit 1 (`npm run lint`)
#
# CLANG_FORMAT names another binary (default: clang-format on PATH; scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
CF="${CLANG_FORMAT:-clang-format}"
if ! command -v "$CF" >/dev/null 2>&1; then
  echo "clang-format: '$CF' not found; apt-get install clang-format (scripts/install-deps.sh), or set CLANG_FORMAT" >&2
  exit 1
fi
files=(native/src/*.cc native/src/*.h)
if [ "${1:-}" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    if ! "$CF" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
  done
  if [ ${#bad[@]} -gt 0 ]; then
    echo "clang-format: ${#bad[@]} of ${#files[@]} native sources are not formatted: ${bad[*]} (npm run format fixes them)" >&2
    exit 1
  fi
  echo "clang-format: ${#files[@]} native sources formatted"
elif [ $# -eq 0 ]; then
  "$CF" --style=file -i "${files[@]}"
else
  echo "usage: bash scripts/clang-format.sh [--check]" >&2
  exit 2
fi
