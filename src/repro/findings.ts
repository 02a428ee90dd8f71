/**
 * The paper's main findings, decided with statistics over the profile's seeds (docs/STATISTICS.md). Each finding
 * computes the interval of its quantity over seeds — paired by seed when both numbers come from the same stage-1 run
 * (a re-balanced classifier against Joint on one representation), Welch's two-sample interval when they come from
 * different runs (two samplers) — and says **holds** when the 95 % interval lies wholly on the claimed side,
 * **does not hold** when wholly on the other side, **inconclusive** otherwise. Never from a point estimate alone.
 *
 * Each line starts with the claim (the notebooks select lines by these openings), then every part's estimate,
 * interval and verdict, then the verdict of the whole claim.
 */

import { methodLabel, methodStage } from "../classifiers/registry.js";
import { spearman } from "./effects.js";
import type { FigureData } from "./figure_data.js";
import type { ResultSource } from "./source.js";
import {
  allOf,
  anyOf,
  formatInterval,
  type Interval,
  pairedInterval,
  tInterval,
  type Verdict,
  verdict,
  verdictBetween,
  welchInterval,
} from "./stats.js";
import type { Cell, Tables } from "./tables.js";

/** One part of a finding: a quantity, its interval and what that interval says. */
export interface FindingPart {
  label: string;
  interval: Interval;
  verdict: Verdict;
}

/** One finding: the claim, its parts and the verdict of the whole. */
export interface Finding {
  id: string;
  /** The claim, as the line's opening words. */
  claim: string;
  /** What is measured and how the interval is made, in words. */
  quantity: string;
  parts: FindingPart[];
  /** How the parts' verdicts combine: one part, "all" must hold, or "any" one. */
  combine: "one" | "all" | "any";
  verdict: Verdict;
  /** The rendered line (Markdown). */
  text: string;
}

/** Per-seed per-class norms of the Joint classifier on the IB representation, with the class counts n_j. */
export interface SeedNorms {
  seed: number;
  values: number[];
  trainCounts: number[];
}

/** What the findings read: every (sampler, classifier, seed) cell, and Joint's weight norms per seed. */
export interface FindingsInput {
  cells: readonly Cell[];
  jointNorms?: readonly SeedNorms[];
}

const LEVEL = 0.95;
// The paper's claims name their methods; the labels (what the cells carry) come from the registry's entries.
const JOINT = methodLabel("joint");
const REBALANCED = ["crt", "tau_norm", "lws", "ncm"].map(methodLabel);
const REP_BEST = ["crt", "lws"].map(methodLabel);
const TAU_NORM = methodLabel("tau_norm");
const BALANCED = ["CB", "SR", "PB"] as const;

type Metric = "many" | "medium" | "few" | "all";

function bySeed(
  cells: readonly Cell[],
  sampler: string,
  classifier: string,
  metric: Metric | "tau",
): Map<number, number> {
  const m = new Map<number, number>();
  for (const c of cells) {
    if (c.sampler !== sampler || c.classifier !== classifier) continue;
    const v = metric === "tau" ? c.tau : c[metric];
    if (v !== undefined && Number.isFinite(v)) m.set(c.seed, v);
  }
  return m;
}

const values = (m: Map<number, number>) => [...m.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
const bold = (v: Verdict) => `**${v}**`;

function render(
  claim: string,
  quantity: string,
  parts: FindingPart[],
  combine: Finding["combine"],
  v: Verdict,
  digits = 1,
  signed = true,
): string {
  const body = parts
    .map((p) => `${p.label ? `${p.label} ` : ""}${formatInterval(p.interval, digits, signed)} (${p.verdict})`)
    .join("; ");
  const rule = combine === "all" ? ` (all ${parts.length} must hold)` : combine === "any" ? " (any one suffices)" : "";
  return `${claim} — ${quantity}: ${body}: ${bold(v)}${rule}.`;
}

function make(
  id: string,
  claim: string,
  quantity: string,
  parts: FindingPart[],
  combine: Finding["combine"],
  digits = 1,
  signed = true,
): Finding {
  const v =
    combine === "one"
      ? parts[0].verdict
      : combine === "all"
        ? allOf(parts.map((p) => p.verdict))
        : anyOf(parts.map((p) => p.verdict));
  return {
    id,
    claim,
    quantity,
    parts,
    combine,
    verdict: v,
    text: render(claim, quantity, parts, combine, v, digits, signed),
  };
}

/** Every finding the data allows (a finding whose runs are missing is left out). */
export function evaluateFindings(input: FindingsInput): Finding[] {
  const { cells } = input;
  const out: Finding[] = [];
  const has = (s: string, c: string) => cells.some((x) => x.sampler === s && x.classifier === c);
  const paired = (metric: Metric, side: "above" | "below") =>
    REBALANCED.filter((c) => has("IB", c)).map((c) => {
      const iv = pairedInterval(bySeed(cells, "IB", c, metric), bySeed(cells, "IB", JOINT, metric), LEVEL);
      return { label: c, interval: iv, verdict: verdict(iv, side) };
    });
  if (has("IB", JOINT) && REBALANCED.some((c) => has("IB", c))) {
    const q = (m: string) =>
      `${m}, re-balanced − Joint on the same IB representation, paired by seed, 95 % t interval, points`;
    out.push(
      make(
        "few-lift",
        "Re-balancing the classifier lifts Few-shot accuracy over Joint",
        q("Few"),
        paired("few", "above"),
        "all",
      ),
    );
    out.push(make("all-beat", "A re-balanced classifier beats Joint on All", q("All"), paired("all", "above"), "any"));
    out.push(
      make("many-trade", "Re-balancing trades Many-shot accuracy for Few", q("Many"), paired("many", "below"), "all"),
    );
  }
  // Across representations the runs differ (another sampler trained another stage-1 run): Welch's interval.
  for (const c of REP_BEST) {
    const others = BALANCED.filter((s) => has(s, c));
    if (!has("IB", c) || !others.length) continue;
    const ib = values(bySeed(cells, "IB", c, "all"));
    const parts = others.map((s) => {
      const iv = welchInterval(ib, values(bySeed(cells, s, c, "all")), LEVEL);
      return { label: `vs ${s}`, interval: iv, verdict: verdict(iv, "above") };
    });
    out.push(
      make(
        `rep-best-${c}`,
        `For ${c}, the instance-balanced representation is the best one`,
        `All, IB − other representation (${c} on each), Welch 95 % t interval over seeds, points`,
        parts,
        "all",
      ),
    );
  }
  const samplers = BALANCED.filter((s) => has(s, JOINT));
  if (has("IB", JOINT) && samplers.length) {
    const diff = (metric: Metric) =>
      samplers.map((s) => {
        const iv = welchInterval(
          values(bySeed(cells, s, JOINT, metric)),
          values(bySeed(cells, "IB", JOINT, metric)),
          LEVEL,
        );
        return { label: s, interval: iv, verdict: verdict(iv, "above") };
      });
    out.push(
      make(
        "sampler-all",
        "With the Joint classifier, a balanced sampler (CB/SR/PB) beats instance-balanced on All",
        "All, sampler − IB (Joint classifier), Welch 95 % t interval over seeds, points",
        diff("all"),
        "any",
      ),
    );
    out.push(
      make(
        "sampler-few",
        "With the Joint classifier, every balanced sampler (CB/SR/PB) lifts Few over instance-balanced",
        "Few, sampler − IB (Joint classifier), Welch 95 % t interval over seeds, points",
        diff("few"),
        "all",
      ),
    );
  }
  const taus = values(bySeed(cells, "IB", TAU_NORM, "tau"));
  if (taus.length) {
    const iv = tInterval(taus, LEVEL);
    out.push(
      make(
        "tau-range",
        "τ chosen on val lies strictly between 0 and 1, like the paper's ≈0.7",
        "τ of the IB representation, mean over seeds, 95 % t interval",
        [{ label: "τ", interval: iv, verdict: verdictBetween(iv, 0, 1) }],
        "one",
        2,
        false,
      ),
    );
  }
  const norms = input.jointNorms ?? [];
  if (norms.length) {
    const gaps = norms.map((s) => {
      const order = s.trainCounts
        .map((n, i) => [n, i])
        .sort((a, b) => b[0] - a[0])
        .map((x) => x[1]);
      return s.values[order[0]] - s.values[order[order.length - 1]];
    });
    const rho = norms.map((s) => spearman(s.trainCounts, s.values));
    const iv = tInterval(gaps, LEVEL);
    const f = make(
      "norm-decay",
      "Joint's weight norms decay from head to tail classes",
      "‖w_head‖ − ‖w_tail‖ of Joint on IB, per seed, 95 % t interval",
      [{ label: "", interval: iv, verdict: verdict(iv, "above") }],
      "one",
      2,
    );
    f.text = f.text.replace(/\.$/, `; rank correlation of ‖w_j‖ with n_j ${rho.map((r) => r.toFixed(2)).join(", ")}.`);
    out.push(f);
  }
  return out;
}

/** Joint's per-class weight norms on the IB representation for every seed of the source that has them. */
export function jointNorms(source: ResultSource): SeedNorms[] {
  const out: SeedNorms[] = [];
  for (const seed of source.profile.seeds) {
    const r = source.stage2("feat_uniform", methodStage("joint"), seed)?.results as
      | { weight_norms?: number[]; train_counts?: number[] }
      | undefined;
    if (r?.weight_norms && r.train_counts) out.push({ seed, values: r.weight_norms, trainCounts: r.train_counts });
  }
  return out;
}

/**
 * The findings as Markdown lines (without the list bullet). `norms`: Joint's weight norms per seed
 * ({@link jointNorms}); without them, the first seed's norms in `data` stand in (one seed: no interval).
 */
export function findings(t: Tables, data: FigureData | null, norms?: readonly SeedNorms[]): string[] {
  const fallback = data?.weightNorms.find((s) => s.name === JOINT);
  const jn = norms ?? (fallback ? [{ seed: NaN, values: fallback.values, trainCounts: data!.trainCounts }] : []);
  const out = evaluateFindings({ cells: t.cells, jointNorms: jn }).map((f) => f.text);
  if (!out.length) out.push("No finished runs yet.");
  return out;
}
