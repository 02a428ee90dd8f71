/**
 * Rich display for tslab notebooks.
 *
 * tslab's public `display.*` sends one MIME type per output. A figure should be ONE output carrying
 * a PNG (renders everywhere: GitHub, nbconvert HTML, Notebook 6), the plotly JSON (interactive in
 * VS Code / nteract / JupyterLab) and a text/plain fallback, so we call tslab's internal display
 * hook (`tslab/dist/jupyter`'s `lastWriteDisplayData`) with a multi-MIME bundle.
 * tslab is pinned to 1.0.22 because of this.
 *
 * Outside tslab (tsx scripts, vitest) the helpers print a text fallback instead, so library code
 * and notebooks can call them unconditionally.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { FigureRenderer, findChromium, type RenderOpts } from "./render.js";
import { type TableOpts, tableMarkdown, tableText } from "./table.js";
import type { PlotlyFigure } from "./types.js";

export { type TableOpts, tableMarkdown, tableText } from "./table.js";

/** A display_data message as tslab's hook expects it (binary data already base64). */
export interface DisplayBundle {
  /** MIME type -> content (string, or a JSON object for `application/*+json`). */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

type DisplayHook = (msg: DisplayBundle & { transient?: Record<string, unknown> }, update: boolean) => void;

/**
 * tslab's current display hook, or null when not running inside tslab (kernel or replay). The
 * module is looked up in the CommonJS cache rather than required: requiring it outside tslab would
 * load tslab's bundled TypeScript compiler for nothing.
 */
export function tslabDisplayHook(): DisplayHook | null {
  const hookOf = (mod: unknown): DisplayHook | null => {
    const h = (mod as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    return typeof h === "function" ? (h as DisplayHook) : null;
  };
  try {
    const req = createRequire(join(process.cwd(), "noop.js"));
    try {
      const hit = req.cache[req.resolve("tslab/dist/jupyter")];
      if (hit) return hookOf(hit.exports);
    } catch {
      // tslab not resolvable from here: fall through to the cache scan.
    }
    // A tslab loaded from another node_modules (global install delegating elsewhere).
    for (const [key, mod] of Object.entries(req.cache)) {
      if (/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) return hookOf(mod?.exports);
    }
  } catch {
    // No CommonJS cache (unusual embedders): treat as "not in tslab".
  }
  return null;
}

/** True inside a tslab kernel or the headless replay. */
export function inTslab(): boolean {
  return tslabDisplayHook() !== null;
}

/** Send one display_data bundle; returns false (and sends nothing) outside tslab. */
export function sendDisplay(bundle: DisplayBundle): boolean {
  const hook = tslabDisplayHook();
  if (!hook) return false;
  hook({ data: bundle.data, metadata: bundle.metadata, transient: {} }, false);
  return true;
}

let sharedRenderer: FigureRenderer | null = null;

/** The renderer notebooks share (one chromium per kernel); closed by {@link closeFigures}. */
export function notebookRenderer(): FigureRenderer {
  if (!sharedRenderer) sharedRenderer = new FigureRenderer();
  return sharedRenderer;
}

/** Close the shared notebook renderer (call in a notebook's last cell; a later figure starts a new one). */
export async function closeFigures(): Promise<void> {
  const r = sharedRenderer;
  sharedRenderer = null;
  if (r) await r.close();
}

/** Options of {@link showFigure}. */
export interface ShowFigureOpts extends RenderOpts {
  /** Renderer for the PNG (default: the shared notebook renderer). */
  renderer?: FigureRenderer;
  /** text/plain fallback (default: the title and trace count). */
  text?: string;
}

function figureText(fig: PlotlyFigure): string {
  const t = (fig.layout?.title as { text?: string } | string | undefined) ?? "";
  const title = typeof t === "string" ? t : (t.text ?? "");
  return `<Figure${title ? ` '${title}'` : ""}: ${fig.data.length} trace${fig.data.length === 1 ? "" : "s"}>`;
}

/**
 * Display a plotly figure as one output with `image/png`, `application/vnd.plotly.v1+json` and
 * `text/plain`. Without chromium the PNG is left out (with a note on stderr) rather than failing
 * the cell. Outside tslab it prints the text fallback and renders nothing.
 */
export async function showFigure(fig: PlotlyFigure, opts: ShowFigureOpts = {}): Promise<void> {
  const text = opts.text ?? figureText(fig);
  if (!inTslab()) {
    console.log(text);
    return;
  }
  const data: Record<string, unknown> = {};
  if (opts.renderer || findChromium()) {
    // Scale 1.5 by default: sharp on high-DPI screens at about half the bytes of scale 2 in the .ipynb.
    const png = await (opts.renderer ?? notebookRenderer()).renderPng(fig, { ...opts, scale: opts.scale ?? 1.5 });
    data["image/png"] = png.toString("base64");
  } else {
    process.stderr.write(
      "showFigure: chromium not found, showing the figure without a PNG (install it with `apt-get install chromium`)\n",
    );
  }
  // The JSON MIME type stores the figure as an object; a copy keeps later edits to `fig` out of the output.
  data["application/vnd.plotly.v1+json"] = JSON.parse(
    JSON.stringify({ data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? {} }),
  );
  data["text/plain"] = text;
  sendDisplay({ data, metadata: {} });
}

/** Display rows as one output with `text/markdown` and `text/plain`; prints the text table outside tslab. */
export function showTable(rows: Record<string, unknown>[], opts: TableOpts = {}): void {
  const text = tableText(rows, opts);
  if (!sendDisplay({ data: { "text/markdown": tableMarkdown(rows, opts), "text/plain": text }, metadata: {} }))
    console.log(text);
}
