/**
 * Per-class classifier weight norms for the weight-norm figure (paper Fig. 2 left). Each is the norm of the
 * effective weight vector of class j:
 *   Joint ‖w_j‖ · cRT ‖w_j‖ (re-trained weight) · τ-norm ‖w_j / ‖w_j‖^τ‖ = ‖w_j‖^(1−τ) · LWS ‖s_j·w_j‖ → s_j·‖w_j‖.
 * (LWS keeps the sign of s_j; s stays positive in practice. docs/ARCHITECTURE.md, "The five classifiers".)
 */
import { rowNorms } from "./linear.js";

/** ‖w_j‖ of a [C × d] weight (Joint, cRT). */
export function linearWeightNorms(weight: Float32Array, numClasses: number, dim: number): Float64Array {
  return rowNorms(weight, numClasses, dim);
}

/** ‖w_j‖^(1−τ) (zero rows stay 0). */
export function tauNormWeightNorms(weight: Float32Array, numClasses: number, dim: number, tau: number): Float64Array {
  const n = rowNorms(weight, numClasses, dim);
  for (let j = 0; j < numClasses; j++) n[j] = n[j] > 0 ? Math.pow(n[j], 1 - tau) : 0;
  return n;
}

/** s_j·‖w_j‖. */
export function lwsWeightNorms(
  weight: Float32Array,
  numClasses: number,
  dim: number,
  scales: ArrayLike<number>,
): Float64Array {
  const n = rowNorms(weight, numClasses, dim);
  for (let j = 0; j < numClasses; j++) n[j] *= scales[j];
  return n;
}
