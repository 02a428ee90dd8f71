import { expect, it } from "vitest";

async function failLater(): Promise<void> {
  throw new Error("harness case: a rejection nobody awaits");
}

// The test passes; the rejection it leaves behind is reported by vitest outside any test.
it("passes but leaves an unhandled rejection", async () => {
  void failLater();
  await new Promise((r) => setTimeout(r, 50));
  expect(1).toBe(1);
});
