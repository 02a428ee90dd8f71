import { describe, expect, it } from "vitest";
import { featureEpochLine, featureEpochPrinter } from "../../src/train/progress.js";

describe("stage-2 epoch lines", () => {
  const log = { epoch: 2, lr: 0.1, loss: 1.23456, trainTop1: 0.5, valTop1: 0.4567 };

  it("say epoch k/N, loss, val top-1, the time per epoch and the ETA", () => {
    expect(featureEpochLine("crt", log, { epochs: 10, elapsedS: 4 })).toBe(
      "crt epoch 2/10  loss 1.2346  val top-1 45.67%  2.0 s/epoch  ETA 0:16",
    );
    expect(featureEpochLine("lws", { ...log, epoch: 5 }, { epochs: 5, elapsedS: 3600 })).toBe(
      "lws epoch 5/5  loss 1.2346  val top-1 45.67%  720.0 s/epoch  ETA 0:00",
    );
    expect(featureEpochLine("crt", { ...log, epoch: 1 }, { epochs: 4, elapsedS: 1500 })).toMatch(/ETA 1:15:00$/);
  });

  it("are written one per epoch", () => {
    const lines: string[] = [];
    const print = featureEpochPrinter("crt", (l) => lines.push(l));
    print({ ...log, epoch: 1 }, { epochs: 2, elapsedS: 1 });
    print(log, { epochs: 2, elapsedS: 2 });
    expect(lines).toEqual([
      "crt epoch 1/2  loss 1.2346  val top-1 45.67%  1.0 s/epoch  ETA 0:01",
      "crt epoch 2/2  loss 1.2346  val top-1 45.67%  1.0 s/epoch  ETA 0:00",
    ]);
  });
});
