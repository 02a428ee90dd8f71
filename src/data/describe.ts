/** Human-readable summary of a dataset, printed by `ltr data prepare`. */
import { type ShotConvention, shotGroups } from "../metrics.js";
import type { Dataset } from "./types.js";

/** Options of {@link describeDataset}. */
export interface DescribeOpts {
  /** Shot thresholds used for the Many/Medium/Few column (default "kang"). */
  convention?: ShotConvention;
  /** Above this many classes only the first and last `maxRows / 2` rows are printed (default 120). */
  maxRows?: number;
}

/** Per-class counts table + Many/Medium/Few split + split sizes. */
export function describeDataset(ds: Dataset, opts: DescribeOpts = {}): string {
  const convention = opts.convention ?? "kang";
  const maxRows = opts.maxRows ?? 120;
  const groups = shotGroups(ds.trainCounts, convention);
  const m = ds.manifest;
  const total = ds.trainCounts.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  out.push(`${ds.name}: ${ds.numClasses} classes, input ${ds.inputShape.join("x")}`);
  out.push(
    `  profile ${m.profile}, imbalance factor ${+m.imbFactor.toFixed(3)}, n_max ${m.nMax}, subset seed ${m.subsetSeed}, indices sha256 ${m.indicesSha256.slice(0, 16)}…`,
  );
  out.push(`  train ${ds.train.size} images (sum n_j = ${total}), val ${ds.val.size}, test ${ds.test.size}`);
  const nameW = Math.min(24, Math.max(4, ...ds.classNames.map((s) => s.length)));
  const idW = Math.max(5, String(ds.numClasses - 1).length);
  const header = `${"class".padStart(idW)}  ${"name".padEnd(nameW)}  ${"n_j".padStart(7)}  group`;
  out.push("", header, "-".repeat(header.length));
  const row = (j: number) =>
    `${String(j).padStart(idW)}  ${ds.classNames[j].slice(0, nameW).padEnd(nameW)}  ${String(ds.trainCounts[j]).padStart(7)}  ${groups[j]}`;
  if (ds.numClasses <= maxRows) {
    for (let j = 0; j < ds.numClasses; j++) out.push(row(j));
  } else {
    const h = Math.floor(maxRows / 2);
    for (let j = 0; j < h; j++) out.push(row(j));
    out.push(`${"…".padStart(idW)}  (${ds.numClasses - 2 * h} classes not shown)`);
    for (let j = ds.numClasses - h; j < ds.numClasses; j++) out.push(row(j));
  }
  const rule = convention === "kang" ? "many n>100, medium 20..100, few n<20" : "many n>=100, medium 21..99, few n<=20";
  out.push("", `shot groups (${convention}: ${rule}):`);
  for (const g of ["many", "medium", "few"] as const) {
    let classes = 0;
    let images = 0;
    groups.forEach((gg, j) => {
      if (gg === g) {
        classes++;
        images += ds.trainCounts[j];
      }
    });
    out.push(`  ${g.padEnd(6)} ${String(classes).padStart(6)} classes ${String(images).padStart(9)} train images`);
  }
  return out.join("\n");
}
