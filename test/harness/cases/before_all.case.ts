import { beforeAll, expect, it } from "vitest";

// vitest marks the tests of a file whose beforeAll throws as skipped, not failed.
beforeAll(() => {
  throw new Error("harness case: beforeAll throws");
});
it("never runs", () => expect(1).toBe(1));
