/**
 * The `describe` for suites that need the native addon. Without the addon they are skipped with a notice, except
 * under LTR_REQUIRE_NATIVE=1 (CI, which installs the addon's prerequisites): there a missing addon is a failing test,
 * so the native suites can never silently disappear from a CI run.
 */
import { describe, it } from "vitest";
import { loadAddon } from "../../src/kernels/native/addon.js";

export function nativeSuite(what: string): (name: string, fn: () => void) => void {
  const loaded = loadAddon();
  if (loaded.addon) return (name, fn) => describe(name, fn);
  if (process.env.LTR_REQUIRE_NATIVE === "1") {
    describe(what, () => {
      it("needs the native addon, which LTR_REQUIRE_NATIVE=1 requires", () => {
        throw new Error(`the native addon does not load: ${loaded.reason}; build it with \`npm run build:native\``);
      });
    });
  } else {
    console.warn(`${what} skipped: ${loaded.reason} (LTR_REQUIRE_NATIVE=1 makes this a failure)`);
  }
  return (name, fn) => describe.skip(name, fn);
}
