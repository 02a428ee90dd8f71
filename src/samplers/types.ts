/**
 * Batch samplers (docs/ARCHITECTURE.md, "Samplers"): each turns the train labels into ⌊N/B⌋ batches of row indices per
 * epoch, is deterministic for a seed, and can be checkpointed between epochs and resumed exactly.
 */

/** Arguments of every sampler factory. */
export interface SamplerArgs {
  /** Train label of every row. */
  labels: Int32Array;
  numClasses: number;
  /** Images per batch B; an epoch is ⌊N/B⌋ batches, the partial one is dropped. */
  batchSize: number;
  /** Seed of the sampler's own Rng stream. */
  seed: number;
  /** Total epochs E of the run (the progressive schedule's length unless `scheduleEpochs` is given). */
  numEpochs: number;
  /** progressive: the schedule's own length (the original ClassPrioritySampler's `epochs`), if it differs from numEpochs. */
  scheduleEpochs?: number;
  /** class_balanced: consecutive images per class visit (4). */
  numSamplesCls?: number;
  /** Permute each batch after building it (paper: true for class-balanced). */
  shuffleInBatch?: boolean;
  /** q_power: p_j ∝ n_j^q (1 instance-, 0.5 square-root, 0 class-balanced). */
  q?: number;
}

export interface BatchSampler {
  readonly name: string;
  /** ⌊N / B⌋. */
  stepsPerEpoch(): number;
  /** Batches of row indices for 0-based epoch e; advances the internal RNG state. */
  epoch(epoch: number): Int32Array[];
  /** Target class probabilities p_j for that epoch (figures and tests). */
  classProbabilities(epoch: number): Float64Array;
  /** JSON-serialisable state, taken between epochs, for exact resume. */
  state(): unknown;
  setState(s: unknown): void;
}
