#!/usr/bin/env bash
# The project's test command: native-layer check, type-check, the build (dist/), unit/integration tests (vitest), the quick bench,
# and the headless notebook replay. Ends with one line "tests: N passed, N failed" summing every part, which is
# what CI reads; the exit status is non-zero whenever that line says failed > 0, and failed is > 0 whenever any
# part failed in any way (see docs/TESTING.md for what counts as a failure).
#
#   bash scripts/test.sh                 everything
#   bash scripts/test.sh test/x.test.ts  native check, type-check, build (when dist/ is stale) and vitest on the given files only
#
# Environment: LTR_REQUIRE_NATIVE=1 (set by .ci/run) makes a native addon that does not load a failure even when
# its prerequisites are missing; LTR_FAIL_ON_SKIP=1 (also set by .ci/run) counts every skipped test as failed;
# LTR_SKIP_BENCH, LTR_SKIP_NOTEBOOKS, LTR_SKIP_TYPECHECK, LTR_SKIP_BUILD skip those parts (never in
# CI); LTR_VITEST_JSON moves vitest's JSON report (default build/vitest.json).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
passed=0; failed=0
fail() { failed=$((failed+1)); echo "FAILED: $*"; }

# The generated list of classifier methods (src/classifiers/methods/index.ts) must exist before anything compiles.
node scripts/gen-methods.mjs || fail "scripts/gen-methods.mjs could not write the list of classifier methods"

echo "== native kernel layer"
if node -e 'const i = require("./native/build/Release/ltr_native.node").info(); console.log(`native addon loads: oneDNN ${i.dnnl}, OpenBLAS ${i.openblas}`)' 2>/dev/null; then
  passed=$((passed+1))
elif [ "${LTR_REQUIRE_NATIVE:-0}" = "1" ]; then
  node scripts/build-native.mjs --probe
  fail "the native addon does not load and LTR_REQUIRE_NATIVE=1 (CI installs its prerequisites, so it must build: npm run build:native)"
elif node scripts/build-native.mjs --probe >/dev/null; then
  # Prerequisites present but no addon: the build failed (postinstall only prints a line), which must not pass.
  fail "the native addon's prerequisites are installed but native/build/Release/ltr_native.node does not load; run 'npm run build:native' to see the compile error"
else
  echo "notice: native addon not built, its test suites are skipped ($(node scripts/build-native.mjs --probe))"
fi

if [ -z "${LTR_SKIP_TYPECHECK:-}" ]; then
  echo "== type-check (tsc --noEmit)"
  if npx tsc -p tsconfig.check.json; then passed=$((passed+1)); else fail "type-check"; fi
fi

if [ -z "${LTR_SKIP_BUILD:-}" ]; then
  # The package as it is used: the ltr command, the notebooks and the pack test run dist/ (tsc -p tsconfig.json).
  # With file arguments it is rebuilt only when older than src/ (scripts/self-link.mjs --check).
  if [ $# -gt 0 ] && node scripts/self-link.mjs --check 2>/dev/null; then
    echo "== build: dist/ is current"
  else
    echo "== build (npm run build: a clean dist/ from tsc -p tsconfig.json; node_modules/decoupling-lt linked)"
    if npm run -s build && node scripts/self-link.mjs --check; then passed=$((passed+1)); else fail "build (npm run build)"; fi
  fi
fi

echo "== vitest"
json="${LTR_VITEST_JSON:-build/vitest.json}"
rm -f "$json"
npx vitest run --reporter=default --reporter=json --outputFile.json="$json" "$@"
vrc=$?
if [ -f "$json" ]; then
  # Failed = failed tests + tests that never finished (a crashed worker leaves them "pending") + files that failed
  # without a failed test (collection errors, beforeAll/afterAll hooks). Unhandled errors and rejections appear in
  # no count of the report, only in vitest's exit status: that is the last line of defence below.
  read -r vp vf < <(node -e '
    const r = require(require("path").resolve(process.argv[1]));
    const tests = r.testResults.flatMap((t) => t.assertionResults);
    const unfinished = tests.filter((a) => a.status === "pending").length;
    const fileErrors = r.testResults.filter((t) => t.status === "failed" && !t.assertionResults.some((a) => a.status === "failed")).length;
    // Skipped tests (it.skip, skipIf, ctx.skip) pass silently; CI installs every prerequisite, so there
    // (LTR_FAIL_ON_SKIP=1, set by .ci/run) each one is a failure. Elsewhere they are listed.
    const skipped = r.testResults.flatMap((t) => t.assertionResults.filter((a) => a.status === "skipped" || a.status === "todo").map((a) => `${require("path").relative(process.cwd(), t.name)} > ${a.fullName}`));
    const failOnSkip = process.env.LTR_FAIL_ON_SKIP === "1";
    if (skipped.length) console.error(`vitest: ${skipped.length} test(s) skipped${failOnSkip ? " (LTR_FAIL_ON_SKIP=1: each counts as failed)" : ""}:\n${skipped.map((s) => `  - ${s}`).join("\n")}`);
    if (unfinished) console.error(`vitest: ${unfinished} test(s) never finished (crashed worker?)`);
    if (fileErrors) console.error(`vitest: ${fileErrors} file(s) failed outside any test (collection error or a failing beforeAll/afterAll)`);
    console.log(r.numPassedTests, r.numFailedTests + unfinished + fileErrors + (failOnSkip ? skipped.length : 0));
  ' "$json")
  vp=${vp:-0}; vf=${vf:-1} # an unreadable report counts as one failure
  passed=$((passed+vp)); failed=$((failed+vf))
  if [ "$vrc" -ne 0 ] && [ "$vf" -eq 0 ]; then fail "vitest exited with status $vrc although no test failed: an unhandled error or rejection, or a crashed worker (see the vitest output above)"; fi
  if [ "$vrc" -ne 0 ] && [ "$vf" -gt 0 ]; then echo "FAILED: vitest ($vf failure(s), exit status $vrc)"; fi
else
  fail "vitest wrote no report (exit status $vrc)"
fi

if [ $# -eq 0 ] && [ -z "${LTR_SKIP_BENCH:-}" ]; then
  echo "== bench (quick mode: checks that npm run bench completes; numbers are not asserted)"
  if timeout 600 node --import tsx scripts/bench/run.ts --quick --no-torch --out build/bench-quick; then passed=$((passed+1)); else fail "bench --quick"; fi
fi

if [ $# -eq 0 ] && [ -z "${LTR_SKIP_NOTEBOOKS:-}" ]; then
  echo "== notebooks (smoke profile, headless replay, per-cell expectations required)"
  node scripts/replay-notebooks.cjs --out build/notebooks --profile smoke --require-expect notebooks | tee build/notebooks.log
  nrc=${PIPESTATUS[0]}
  read -r np nf < <(node -e 'const t=require("fs").readFileSync("build/notebooks.log","utf8").match(/^notebooks: (\d+) passed, (\d+) failed$/m);console.log(t?t[1]:0, t?t[2]:0)')
  np=${np:-0}; nf=${nf:-1}
  passed=$((passed+np)); failed=$((failed+nf))
  if [ "$nrc" -ne 0 ] && [ "$nf" -eq 0 ]; then fail "the notebook replay exited with status $nrc without reporting a failed notebook"; fi
fi

# ---- notebooks in a real browser (self-contained block; docs/TESTING.md) -------------------------------------------------
# Debian's Jupyter notebook server + chromium (playwright-core), every notebook in its default results mode.
# The notebooks read the committed results bundle (results/FashionMNIST_LT/bundle/); the test fails if it is missing.
if [ $# -eq 0 ] && [ -z "${LTR_SKIP_BROWSER:-}" ]; then
  echo "== notebooks in the browser (Jupyter server + chromium, results mode)"
  node scripts/test-browser.mjs | tee build/browser.log
  brc=${PIPESTATUS[0]}
  read -r bp bf < <(node -e 'const t=require("fs").readFileSync("build/browser.log","utf8").match(/^browser: (\d+) passed, (\d+) failed$/m);console.log(t?t[1]:0, t?t[2]:1)')
  passed=$((passed+bp)); failed=$((failed+bf))
  if [ "$brc" -ne 0 ] && [ "$bf" -eq 0 ]; then fail "the browser test exited with status $brc without reporting a failed notebook"; fi
fi
# ---- end of the browser block ---------------------------------------------------------------------------------------

echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
