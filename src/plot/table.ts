/**
 * The table formatters (Markdown and fixed-width text) over flat records: the notebooks show tables with them
 * (notebook.ts `showTable`) and the command line prints its result tables with them. No imports, so the CLI can use
 * them without loading the renderer.
 */

/** Options of {@link showTable} and the table formatters. */
export interface TableOpts {
  /** Columns in order (default: keys of the rows in first-appearance order). */
  columns?: string[];
  /** Decimal places of non-integer numbers (default 2). */
  digits?: number;
  /** Optional bold line above the table. */
  title?: string;
  /** Columns whose numbers always print with this many decimals, integers too (a column of 0.0 stays "0.0"). */
  fixed?: Record<string, number>;
}

function columnsOf(rows: Record<string, unknown>[], opts: TableOpts): string[] {
  if (opts.columns) return opts.columns;
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/**
 * Cell texts, column by column: a numeric column with any fraction prints every number with
 * `digits` decimals so the column lines up ("10.00" next to "53.63", not "10"); a `fixed` column always
 * prints its own number of decimals.
 */
function cellTexts(rows: Record<string, unknown>[], cols: string[], digits: number, opts: TableOpts): string[][] {
  const fractional = cols.map((c) => rows.some((r) => typeof r[c] === "number" && !Number.isInteger(r[c])));
  const fixed = cols.map((c) => (opts.fixed && Object.hasOwn(opts.fixed, c) ? opts.fixed[c] : undefined));
  return rows.map((r) =>
    cols.map((c, i) => {
      const v = r[c];
      if (v === null || v === undefined) return "";
      if (typeof v === "number") {
        const f = fixed[i];
        return f !== undefined ? v.toFixed(f) : fractional[i] ? v.toFixed(digits) : String(v);
      }
      return String(v);
    }),
  );
}

/** A GitHub-flavoured markdown table (numbers right-aligned). */
export function tableMarkdown(rows: Record<string, unknown>[], opts: TableOpts = {}): string {
  const cols = columnsOf(rows, opts);
  const digits = opts.digits ?? 2;
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number" || r[c] == null));
  const lines = [
    `| ${cols.map(esc).join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : ":---")).join("|")}|`,
    ...cellTexts(rows, cols, digits, opts).map((b) => `| ${b.map(esc).join(" | ")} |`),
  ];
  return (opts.title ? `**${esc(opts.title)}**\n\n` : "") + lines.join("\n");
}

/** A fixed-width text table (numbers right-aligned), for text/plain and consoles. */
export function tableText(rows: Record<string, unknown>[], opts: TableOpts = {}): string {
  const cols = columnsOf(rows, opts);
  const digits = opts.digits ?? 2;
  const body = cellTexts(rows, cols, digits, opts);
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => b[i].length)));
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number" || r[c] == null));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const lines = [fmt(cols), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(fmt)];
  return (opts.title ? `${opts.title}\n` : "") + lines.join("\n");
}
