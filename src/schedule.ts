/**
 * Learning-rate schedules, one for the whole project: stage 1 (train/loop.ts) and the balanced heads cRT and LWS
 * (classifiers/train-utils.ts) both step a cosine annealing schedule once per epoch, as the original code does.
 */

function check(lr0: number, epoch: number, numEpochs: number, endLr: number): void {
  if (!Number.isInteger(numEpochs) || numEpochs <= 0)
    throw new Error(`cosineLr: numEpochs must be a positive integer, got ${numEpochs}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > numEpochs)
    throw new Error(`cosineLr: epoch must be an integer in [0, ${numEpochs}], got ${epoch}`);
  if (!Number.isFinite(lr0) || !Number.isFinite(endLr))
    throw new Error(`cosineLr: lr0 and endLr must be finite, got ${lr0}, ${endLr}`);
}

/**
 * The intended schedule: lr(e) = endLr + (lr0 − endLr)·½·(1 + cos(π·e/E)) for the 0-based epoch e, so the
 * first epoch runs at lr0 and the last at a small positive rate (PyTorch CosineAnnealingLR with
 * T_max = E, eta_min = endLr, as on PyTorch 0.4/1.0).
 */
export function cosineLr(lr0: number, epoch: number, numEpochs: number, endLr = 0): number {
  check(lr0, epoch, numEpochs, endLr);
  return endLr + ((lr0 - endLr) * (1 + Math.cos((Math.PI * epoch) / numEpochs))) / 2;
}

/**
 * What the reference code actually runs on PyTorch ≥ 1.1, where `scheduler.step()` is called before the
 * epoch's first optimizer step: epoch e uses the value for e+1, the first epoch skips lr0 and the last
 * epoch runs at endLr (docs/ORIGINAL_CODE.md; docs/ARCHITECTURE.md, "Training mechanics"). Provided only for replicating that behaviour.
 */
export function cosineLrShifted(lr0: number, epoch: number, numEpochs: number, endLr = 0): number {
  check(lr0, epoch, numEpochs, endLr);
  if (epoch >= numEpochs)
    throw new Error(`cosineLrShifted: epoch must be an integer in [0, ${numEpochs - 1}], got ${epoch}`);
  return cosineLr(lr0, epoch + 1, numEpochs, endLr);
}
