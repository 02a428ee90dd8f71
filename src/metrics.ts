/**
 * Evaluation metrics of the paper (docs/ARCHITECTURE.md, "Evaluation"): micro top-1, Many / Medium / Few shot accuracies from
 * the *training* counts, macro accuracy and sklearn-style macro F1.
 */

/** kang: many n > 100, few n < 20 (classifier-balancing); oltr: many n >= 100, few n <= 20. */
export type ShotConvention = "kang" | "oltr";
export type ShotGroup = "many" | "medium" | "few";

/** Group of every class from its training count n_j. */
export function shotGroups(trainCounts: number[], convention: ShotConvention = "kang"): ShotGroup[] {
  if (convention !== "kang" && convention !== "oltr") {
    throw new Error(`shotGroups: unknown convention '${String(convention)}'; valid conventions: kang, oltr`);
  }
  return trainCounts.map((n) => {
    if (convention === "kang") return n > 100 ? "many" : n < 20 ? "few" : "medium";
    return n >= 100 ? "many" : n <= 20 ? "few" : "medium";
  });
}

export interface EvalResult {
  /** Micro accuracy over all evaluated samples. */
  top1: number;
  /**
   * Unweighted mean of per-class accuracies of the classes of the group that occur in the eval
   * labels. A group with no such class scores 0, as the reference code does (utils.shot_acc).
   */
  many: number;
  medium: number;
  few: number;
  /** Mean of per-class accuracies over the classes present in the eval labels (tau_norm.py's "All"). */
  macroAcc: number;
  /** sklearn `f1_score(average="macro")`: mean F1 over the labels occurring in labels or predictions. */
  macroF1: number;
  /** Accuracy of every class (length C); 0 for a class absent from the eval labels (see perClassCount). */
  perClass: number[];
  /** Number of eval samples of every class; 0 marks a class absent from the eval labels. */
  perClassCount: number[];
  /** Number of evaluated samples. */
  n: number;
}

/**
 * Score predictions against labels. Classes are 0 … C−1 with C = trainCounts.length; predictions
 * and labels outside that range are an error. All accuracies are fractions in [0, 1]; with n = 0
 * every score is 0.
 */
export function evaluate(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  trainCounts: number[],
  convention: ShotConvention = "kang",
): EvalResult {
  const C = trainCounts.length;
  const n = labels.length;
  if (preds.length !== n) throw new Error(`evaluate: ${preds.length} predictions for ${n} labels`);
  const count = new Array<number>(C).fill(0);
  const tp = new Array<number>(C).fill(0);
  const predicted = new Array<number>(C).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const p = preds[i];
    if (!(Number.isInteger(y) && y >= 0 && y < C))
      throw new Error(`evaluate: label ${y} at position ${i} is outside [0, ${C}) (C = trainCounts.length)`);
    if (!(Number.isInteger(p) && p >= 0 && p < C))
      throw new Error(`evaluate: prediction ${p} at position ${i} is outside [0, ${C}) (C = trainCounts.length)`);
    count[y]++;
    predicted[p]++;
    if (p === y) {
      tp[y]++;
      correct++;
    }
  }
  const perClass = count.map((c, j) => (c > 0 ? tp[j] / c : 0));
  const groups = shotGroups(trainCounts, convention);
  const sums = { many: 0, medium: 0, few: 0 };
  const nums = { many: 0, medium: 0, few: 0 };
  let macroSum = 0;
  let present = 0;
  let f1Sum = 0;
  let f1Labels = 0;
  for (let j = 0; j < C; j++) {
    if (count[j] > 0) {
      sums[groups[j]] += perClass[j];
      nums[groups[j]]++;
      macroSum += perClass[j];
      present++;
    }
    if (count[j] > 0 || predicted[j] > 0) {
      // F1 = 2TP / (2TP + FP + FN) = 2TP / (predicted + actual); 0 when TP = 0 (sklearn's zero_division)
      f1Sum += (2 * tp[j]) / (predicted[j] + count[j]);
      f1Labels++;
    }
  }
  const mean = (g: ShotGroup) => (nums[g] > 0 ? sums[g] / nums[g] : 0);
  return {
    top1: n > 0 ? correct / n : 0,
    many: mean("many"),
    medium: mean("medium"),
    few: mean("few"),
    macroAcc: present > 0 ? macroSum / present : 0,
    macroF1: f1Labels > 0 ? f1Sum / f1Labels : 0,
    perClass,
    perClassCount: count,
    n,
  };
}
