/**
 * The test command itself (scripts/test.sh): whatever goes wrong in a vitest run, it must end with
 * "tests: N passed, N failed" where failed > 0, and exit non-zero. Each case in test/harness/cases/ is one way a
 * run goes wrong (vitest alone exits 1 on all of them, but its JSON report counts no failed test for most).
 * The type-check and the build are skipped (LTR_SKIP_TYPECHECK, LTR_SKIP_BUILD) and the report goes to a temp file, so these inner runs do not
 * touch the outer run's build/vitest.json.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const tmp = mkdtempSync(join(tmpdir(), "ltr-harness-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Inner runs are numbered so that each writes its own vitest report: the concurrent runs of one case file (the skip
// test runs skip.case.ts twice at once) once shared a path, and one run's `rm -f` truncated the other's report.
let innerRuns = 0;

function testSh(
  caseFile: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; last: string; out: string }> {
  const env = {
    ...process.env,
    LTR_SKIP_TYPECHECK: "1",
    LTR_SKIP_BUILD: "1",
    LTR_FAIL_ON_SKIP: "",
    LTR_VITEST_JSON: join(tmp, `${caseFile}.${++innerRuns}.json`),
    ...extraEnv,
  };
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["scripts/test.sh", "--root", "test/harness/cases", caseFile],
      { env, timeout: 200_000 },
      (err, stdout, stderr) => {
        const out = `${stdout}\n${stderr}`;
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          last: stdout.trimEnd().split("\n").at(-1) ?? "",
          out,
        });
      },
    );
  });
}

function counts(last: string): { passed: number; failed: number } {
  const m = /^tests: (\d+) passed, (\d+) failed$/.exec(last);
  expect(m, `final line ${JSON.stringify(last)}`).not.toBeNull();
  return { passed: Number(m![1]), failed: Number(m![2]) };
}

describe.concurrent("scripts/test.sh cannot report green on red", { timeout: 240_000 }, () => {
  it("a clean run: exit 0 and 0 failed", async () => {
    const r = await testSh("pass.case.ts");
    expect(counts(r.last).failed, r.out).toBe(0);
    expect(r.code).toBe(0);
  });

  it.each([
    ["assertion.case.ts", "a failed assertion", /FAILED: vitest \(1 failure/],
    ["before_all.case.ts", "a beforeAll that throws (its tests are only 'skipped')", /failed outside any test/],
    ["after_all.case.ts", "an afterAll that throws after passing tests", /failed outside any test/],
    ["unhandled.case.ts", "an unhandled rejection in a passing test", /exited with status 1 although no test failed/],
    ["crash.case.ts", "a worker killed mid-test", /never finished \(crashed worker\?\)/],
  ])("%s: %s -> failed > 0 and a non-zero exit", async (file, _what, why) => {
    const r = await testSh(file);
    expect(counts(r.last).failed, r.out).toBeGreaterThan(0);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(why);
  });

  it("skip.case.ts: a skipped test is listed; under LTR_FAIL_ON_SKIP=1 (CI) it is a failure and the exit is non-zero", async () => {
    const [plain, ci] = await Promise.all([testSh("skip.case.ts"), testSh("skip.case.ts", { LTR_FAIL_ON_SKIP: "1" })]);
    expect(counts(plain.last).failed, plain.out).toBe(0);
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(
      /vitest: 2 test\(s\) skipped:\n {2}- \S*skip\.case\.ts > a skipped test\n {2}- \S*skip\.case\.ts > skipped unless LTR_SLOW_TESTS is set/,
    );
    expect(counts(ci.last).failed, ci.out).toBe(2);
    expect(ci.code).not.toBe(0);
    expect(ci.out).toMatch(/2 test\(s\) skipped \(LTR_FAIL_ON_SKIP=1: each counts as failed\)/);
  });
});
