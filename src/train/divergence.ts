/**
 * When is training diverging? A softmax cross-entropy over C classes starts near ln C (uniform predictions) and
 * falls from there; a healthy run never goes far above it. A step's mean loss that is not finite, or that
 * exceeds {@link DIVERGENCE_FACTOR} × ln C (57.6 for 10 classes, 173 for 1,000), means the weights have blown up
 * (too high a learning rate, bad data): the run stops with {@link DivergenceError} instead of carrying on to a
 * finished run with useless weights. The last checkpoint written (the end of the previous epoch) is kept.
 */

/** Loss bound, in units of ln C (the loss of a uniform prediction). */
export const DIVERGENCE_FACTOR = 25;

/** The largest mean step loss accepted for C classes. */
export function divergenceBound(numClasses: number): number {
  return DIVERGENCE_FACTOR * Math.log(Math.max(2, numClasses));
}

/** Why a step loss means divergence, or null when it is acceptable. */
export function divergenceReason(loss: number, numClasses: number): string | null {
  if (!Number.isFinite(loss)) return `loss is ${loss}`;
  const bound = divergenceBound(numClasses);
  if (loss > bound)
    return `loss ${loss.toPrecision(4)} exceeds the bound ${bound.toFixed(1)} (= ${DIVERGENCE_FACTOR} × ln C for C = ${numClasses} classes; see src/train/divergence.ts)`;
  return null;
}

/** Thrown when training diverges; says which checkpoint is left (or that none was written yet) and what to do. */
export class DivergenceError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly loss: number,
    reason: string,
    /** The last good checkpoint and the epoch it ends, or null when none was written yet. */
    lastGood: { path: string; epoch: number } | null,
    lrs: Record<string, number>,
    runDir: string,
  ) {
    const kept = lastGood
      ? `the last good checkpoint is kept: ${lastGood.path} (end of epoch ${lastGood.epoch + 1})`
      : `no checkpoint had been written yet (it diverged in the first epoch of the run)`;
    const lr = Object.entries(lrs)
      .map(([g, v]) => `networks.${g}.optim_params.lr = ${v}`)
      .join(", ");
    super(
      `training diverged: ${reason} at epoch ${epoch + 1}, step ${step + 1}; ${kept}. ` +
        `Lower the learning rate (${lr}) and train again in a new folder (--run-dir), or delete ${runDir}; ` +
        `a resume would refuse the changed learning rate.`,
    );
    this.name = "DivergenceError";
  }
}
