import { afterAll, expect, it } from "vitest";

// The test itself passes; only the hook fails.
afterAll(() => {
  throw new Error("harness case: afterAll throws");
});
it("passes", () => expect(1).toBe(1));
