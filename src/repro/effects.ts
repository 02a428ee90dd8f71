/**
 * The paper's qualitative effects as checks on a reproduction's tables, each with the numbers behind it. The teach
 * profile must show all of them (scripts/test-teach.ts); the full one is reported in its README (findings.ts).
 *
 *   1. IB's Few accuracy is far below CB's, SR's and PB's (Joint classifier; "far": at least `fewGap` points);
 *   2. cRT, LWS and NCM lift Few over Joint on the IB representation;
 *   3. Joint's weight norms decay toward the tail (head class norm > tail class norm, and a negative rank
 *      correlation between n_j and ‖w_j‖ over the classes);
 *   4. the τ sweep trades Many for Few: from τ = 0 to the largest τ, test Many falls and test Few rises.
 */
import { methodLabel } from "../classifiers/registry.js";
import type { FigureData } from "./figure_data.js";
import type { Tables } from "./tables.js";

/** One checked effect. */
export interface Effect {
  name: string;
  holds: boolean;
  /** The numbers, in words. */
  detail: string;
}

/** Options of {@link paperEffects}. */
export interface EffectOpts {
  /** Points by which every balanced sampler's Few must exceed IB's (default 20). */
  fewGap?: number;
}

const f1 = (x: number) => x.toFixed(1);

/** Spearman rank correlation of two equal-length lists (ties get their mean rank). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const idx = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
      for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/** Check the four effects; a missing table or figure makes its effect fail with "missing" in the detail. */
export function paperEffects(t: Tables, data: FigureData | null, o: EffectOpts = {}): Effect[] {
  const gap = o.fewGap ?? 20;
  const out: Effect[] = [];
  const joint = (s: string) => t.sampler.rows.find((r) => r.sampler === s);
  const ib = joint("IB");
  const balanced = ["CB", "SR", "PB"].map(joint);
  out.push(
    ib && balanced.every((r) => r)
      ? {
          name: "IB's Few accuracy is far below CB/SR/PB's (Joint)",
          holds: balanced.every((r) => r!.few >= ib.few + gap),
          detail: `Few: IB ${f1(ib.few)}; ${balanced.map((r) => `${r!.sampler} ${f1(r!.few)}`).join(", ")} (needs ≥ ${gap} points more than IB)`,
        }
      : {
          name: "IB's Few accuracy is far below CB/SR/PB's (Joint)",
          holds: false,
          detail: "missing: the sampler table needs IB, CB, SR and PB",
        },
  );
  const cls = (c: string) => t.classifier.rows.find((r) => r.classifier === c);
  const j = cls(methodLabel("joint"));
  const lifted = ["crt", "lws", "ncm"].map((m) => cls(methodLabel(m)));
  out.push(
    j && lifted.every((r) => r)
      ? {
          name: "cRT, LWS and NCM lift Few over Joint (IB representation)",
          holds: lifted.every((r) => r!.few > j.few),
          detail: `Few: Joint ${f1(j.few)}; ${lifted.map((r) => `${r!.classifier} ${f1(r!.few)}`).join(", ")}`,
        }
      : {
          name: "cRT, LWS and NCM lift Few over Joint (IB representation)",
          holds: false,
          detail: "missing: the classifier table needs Joint, cRT, LWS and NCM",
        },
  );
  const norms = data?.weightNorms.find((s) => s.name === methodLabel("joint"));
  if (data && norms) {
    const order = data.trainCounts
      .map((n, i) => [n, i])
      .sort((a, b) => b[0] - a[0])
      .map((x) => x[1]);
    const head = norms.values[order[0]];
    const tail = norms.values[order[order.length - 1]];
    const rho = spearman(data.trainCounts, norms.values);
    out.push({
      name: "Joint's weight norms decay toward the tail",
      holds: head > tail && rho > 0,
      detail: `‖w‖ head ${head.toFixed(2)}, tail ${tail.toFixed(2)}; rank correlation with n_j ${rho.toFixed(2)}`,
    });
  } else
    out.push({
      name: "Joint's weight norms decay toward the tail",
      holds: false,
      detail: "missing: no Joint weight norms",
    });
  const sweep = data?.tauSweep?.test;
  if (sweep?.length) {
    const [a, b] = [sweep[0], sweep[sweep.length - 1]];
    out.push({
      name: "the τ sweep trades Many for Few",
      holds: b.many < a.many && b.few > a.few,
      detail: `test, τ ${a.tau} → ${b.tau}: Many ${f1(a.many)} → ${f1(b.many)}, Few ${f1(a.few)} → ${f1(b.few)}`,
    });
  } else out.push({ name: "the τ sweep trades Many for Few", holds: false, detail: "missing: no τ sweep" });
  return out;
}
