/**
 * How a long-tailed train split is carved out of a balanced one, exactly as LDAM-DRW (and BBN,
 * BagofTricks "cao", MiSLAS, RIDE) do it: per-class counts from an exponential or step profile,
 * then the first n_c images of each class after a numpy-seeded shuffle. The validation split is
 * taken from the same shuffled lists, right after the chosen train images, so it never overlaps.
 */
import { sha256Hex } from "../hash.js";
import { NumpyRandomState } from "./numpy_random.js";

export type ImbalanceProfile = "exp" | "step";

/** Arguments of {@link longTailCounts}. */
export interface LongTailCountsArgs {
  /** Head-class count (n_0). */
  nMax: number;
  /** Number of classes C (>= 2). */
  numClasses: number;
  /** Imbalance factor n_max / n_min (>= 1); the code uses f = 1 / imbFactor. */
  imbFactor: number;
  /** "exp": n_i = int(n_max · f^(i/(C−1))); "step": first ⌊C/2⌋ classes n_max, the rest int(n_max · f). */
  profile: ImbalanceProfile;
}

/**
 * Per-class train counts. Keeps the computation as `Math.pow(f, i/(C-1))` with f = 1/IF (the same
 * double as Python's literal 0.01), because `exp(-ln(IF)·t)` rounds differently and changes counts.
 * Step profile with odd C: the LDAM code drops the last class; here the extra class gets the tail
 * count instead (identical for even C).
 */
export function longTailCounts(args: LongTailCountsArgs): number[] {
  const { nMax, numClasses: C, imbFactor, profile } = args;
  if (!Number.isInteger(C) || C < 2) throw new Error(`longTailCounts: numClasses must be an integer >= 2, got ${C}`);
  if (!(imbFactor >= 1) || !Number.isFinite(imbFactor)) {
    throw new Error(`longTailCounts: imbFactor must be a finite number >= 1 (n_max/n_min, e.g. 100), got ${imbFactor}`);
  }
  if (!(nMax >= 1)) throw new Error(`longTailCounts: nMax must be >= 1, got ${nMax}`);
  const f = 1 / imbFactor;
  const counts: number[] = [];
  if (profile === "exp") {
    for (let i = 0; i < C; i++) counts.push(Math.trunc(nMax * Math.pow(f, i / (C - 1))));
  } else if (profile === "step") {
    const half = Math.floor(C / 2);
    for (let i = 0; i < C; i++) counts.push(i < half ? Math.trunc(nMax) : Math.trunc(nMax * f));
  } else {
    throw new Error(`longTailCounts: unknown profile '${String(profile)}'; valid profiles: exp, step`);
  }
  const empty = counts.findIndex((n) => n < 1);
  if (empty >= 0) {
    throw new Error(
      `longTailCounts: class ${empty} would get 0 train images (nMax ${nMax}, imbFactor ${imbFactor}, profile ${profile}); ` +
        `lower imbFactor or raise nMax`,
    );
  }
  return counts;
}

/** Arguments of {@link selectLongTail}. */
export interface SelectLongTailArgs {
  /** Label of every image of the balanced source train set, in the framework's file order. */
  labels: ArrayLike<number>;
  numClasses: number;
  /** n_c to keep per class (from {@link longTailCounts}). */
  counts: number[];
  /** numpy legacy seed, set once before class 0 (LDAM's `rand_number`, default 0). */
  seed: number;
  /** Images per class for the balanced val split (positions n_c … n_c+valPerClass−1). */
  valPerClass: number;
  /** Used in error messages ("Fashion-MNIST train-labels-idx1-ubyte.gz"). */
  source?: string;
}

export interface LongTailSelection {
  /** Per-class chosen source indices of the train split, in shuffled order. */
  train: number[][];
  /** Per-class source indices of the val split. */
  val: number[][];
}

/**
 * LDAM selection: seed once; for c = 0 … C−1 shuffle class c's ascending index list with the one
 * stream and keep the first n_c; val takes the next valPerClass positions of the same list.
 */
export function selectLongTail(args: SelectLongTailArgs): LongTailSelection {
  const { labels, numClasses: C, counts, seed, valPerClass } = args;
  const where = args.source ? ` in ${args.source}` : "";
  if (counts.length !== C) throw new Error(`selectLongTail: ${counts.length} counts for ${C} classes`);
  if (!Number.isInteger(valPerClass) || valPerClass < 0) {
    throw new Error(`selectLongTail: valPerClass must be an integer >= 0, got ${valPerClass}`);
  }
  const perClass: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < C) || !Number.isInteger(y))
      throw new Error(`selectLongTail: label ${y} of image ${i}${where} is outside [0, ${C})`);
    perClass[y].push(i); // ascending, like np.where(targets == c)[0]
  }
  const rs = new NumpyRandomState(seed);
  const train: number[][] = [];
  const val: number[][] = [];
  for (let c = 0; c < C; c++) {
    const idx = perClass[c];
    const need = counts[c] + valPerClass;
    if (idx.length < need) {
      throw new Error(
        `selectLongTail: class ${c} has ${idx.length} images${where} but ${counts[c]} train + ${valPerClass} val are needed; ` +
          `lower nMax or valPerClass`,
      );
    }
    rs.shuffle(idx);
    train.push(idx.slice(0, counts[c]));
    val.push(idx.slice(counts[c], need));
  }
  return { train, val };
}

/** sha256 (hex) of the canonical JSON of per-class index lists: `JSON.stringify(number[][])`. */
export function indicesSha256(perClass: number[][]): string {
  return sha256Hex(JSON.stringify(perClass));
}

/** Flatten per-class index lists into rows (class 0's first) with their labels. */
export function flattenPerClass(perClass: number[][]): { indices: Int32Array; labels: Int32Array } {
  let n = 0;
  for (const l of perClass) n += l.length;
  const indices = new Int32Array(n);
  const labels = new Int32Array(n);
  let k = 0;
  perClass.forEach((l, c) => {
    for (const i of l) {
      indices[k] = i;
      labels[k++] = c;
    }
  });
  return { indices, labels };
}
