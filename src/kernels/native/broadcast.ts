/**
 * Classifying a binary op's broadcast into the [R, C] forms the addon's `binary` handles: each operand is the full
 * [R, C] array, a row vector [C] repeated over rows, a column vector [R] repeated over columns, or a scalar.
 * Covers what a training step produces: same shape, per-channel NHWC statistics ([C] against [N,H,W,C]),
 * per-example values ([B,1] against [B,K]) and scalars.
 */

/** Broadcast mode codes shared with native/src/elementwise.cc. */
export const enum Mode {
  Full = 0,
  Row = 1,
  Col = 2,
  Scalar = 3,
}

/** An output viewed as [r, c] plus how each operand maps onto it. */
export interface BroadcastPlan {
  /** Rows: product of the output's leading dimensions. */
  r: number;
  /** Columns: product of the output's trailing dimensions. */
  c: number;
  /** Mode of each operand, in input order. */
  modes: Mode[];
}

function modeAt(padded: readonly number[], out: readonly number[], k: number): Mode | null {
  let lead = true; // operand equals out on dims < k
  let leadOne = true; // operand is 1 on dims < k
  let trail = true;
  let trailOne = true;
  for (let d = 0; d < out.length; d++) {
    const eq = padded[d] === out[d];
    const one = padded[d] === 1;
    if (d < k) {
      lead &&= eq;
      leadOne &&= one;
    } else {
      trail &&= eq;
      trailOne &&= one;
    }
  }
  if (lead && trail) return Mode.Full;
  if (leadOne && trailOne) return Mode.Scalar;
  if (leadOne && trail) return Mode.Row;
  if (lead && trailOne) return Mode.Col;
  return null;
}

/** Find a split of `outShape` at which every operand shape maps onto one mode, or null if there is none. */
export function planBroadcast(
  outShape: readonly number[],
  shapes: readonly (readonly number[])[],
): BroadcastPlan | null {
  const rank = outShape.length;
  const padded = shapes.map((s) => {
    if (s.length > rank) return null;
    return [...new Array<number>(rank - s.length).fill(1), ...s];
  });
  if (padded.some((p) => p === null)) return null;
  // Prefer the split with the longest inner run (k from high to low gives row vectors the channel axis).
  for (let k = rank; k >= 0; k--) {
    const modes: Mode[] = [];
    let ok = true;
    for (const p of padded) {
      const m = modeAt(p!, outShape, k);
      if (m === null) {
        ok = false;
        break;
      }
      modes.push(m);
    }
    if (!ok) continue;
    let r = 1;
    let c = 1;
    for (let d = 0; d < rank; d++) {
      if (d < k) r *= outShape[d];
      else c *= outShape[d];
    }
    return { r, c, modes };
  }
  return null;
}
