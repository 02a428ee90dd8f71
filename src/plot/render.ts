/**
 * Plotly figure spec -> PNG / SVG, through a headless Debian chromium driven by playwright-core and
 * `Plotly.toImage` (the only route we found that is pixel-correct for every trace type; jsdom
 * has no text metrics and clips legends).
 *
 * One browser and one page are reused for a batch of figures: launching and loading the 4.8 MB
 * plotly bundle costs about 3 s, each further figure about 50 ms.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { writeFileAtomic } from "../run/atomic.js";
import type { PlotlyFigure } from "./types.js";

/** Size of a rendered image. */
export interface RenderOpts {
  /** Width in CSS pixels (default: layout.width, else 800). */
  width?: number;
  /** Height in CSS pixels (default: layout.height, else 500). */
  height?: number;
  /** Device-pixel multiplier of the PNG (default 2, crisp on high-DPI screens); ignored by SVG. */
  scale?: number;
}

/** Arguments of {@link FigureRenderer}. */
export interface FigureRendererArgs {
  /** Chromium binary; default $LTR_CHROMIUM, then /usr/bin/chromium, /usr/bin/chromium-browser. */
  executablePath?: string;
  /** plotly.js bundle to load into the page; default: `plotly.js-dist-min` resolved from the project. */
  plotlyPath?: string;
  /** Limit for launching the browser and for each render, in ms (default 60 000). */
  timeoutMs?: number;
}

/** Chromium flags: no sandbox (root in containers), no GPU, no network chatter. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/**
 * Path of a chromium binary, or null when none is installed. `explicit` (or $LTR_CHROMIUM) wins
 * when given, even if missing, so a typo is reported rather than silently replaced.
 */
export function findChromium(explicit?: string): string | null {
  const wanted = explicit ?? process.env.LTR_CHROMIUM;
  if (wanted) return existsSync(wanted) ? wanted : null;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

function chromiumMissing(explicit?: string): Error {
  const wanted = explicit ?? process.env.LTR_CHROMIUM;
  const where = wanted
    ? `'${wanted}' (from ${explicit ? "executablePath" : "$LTR_CHROMIUM"}) does not exist`
    : `none of ${CHROMIUM_CANDIDATES.join(", ")} exists`;
  return new Error(
    `FigureRenderer: chromium not found: ${where}. Install it with \`apt-get install chromium\` (Debian/Ubuntu) ` +
      `or point $LTR_CHROMIUM at a Chromium/Chrome binary.`,
  );
}

/**
 * Path of the plotly.js bundle. Resolved from the current directory first (the tslab kernel's cwd
 * is the notebook folder, whose parent holds node_modules), then by walking up from this file's
 * folder, so both notebooks and `npx tsx` scripts run from anywhere inside the project find it.
 */
export function resolvePlotlyBundle(): string {
  const tried: string[] = [];
  try {
    return createRequire(join(process.cwd(), "noop.js")).resolve("plotly.js-dist-min");
  } catch {
    tried.push(`require.resolve from ${process.cwd()}`);
  }
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", "plotly.js-dist-min", "plotly.min.js");
    if (existsSync(candidate)) return candidate;
    tried.push(candidate);
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `resolvePlotlyBundle: plotly.js-dist-min not found (tried ${tried.join("; ")}); run \`npm ci\` in the project root`,
  );
}

/** Renders plotly figures with one lazily started headless chromium; call {@link close} when done. */
export class FigureRenderer {
  private readonly args: FigureRendererArgs;
  private starting: Promise<{ context: BrowserContext; page: Page }> | null = null;
  private userDataDir: string | null = null;

  constructor(args: FigureRendererArgs = {}) {
    this.args = args;
  }

  /** PNG bytes of `fig`. */
  async renderPng(fig: PlotlyFigure, opts: RenderOpts = {}): Promise<Buffer> {
    const url = await this.toImage(fig, "png", opts);
    const comma = url.indexOf(",");
    if (!url.startsWith("data:image/png;base64,"))
      throw new Error(`FigureRenderer.renderPng: unexpected data URL '${url.slice(0, 40)}…'`);
    return Buffer.from(url.slice(comma + 1), "base64");
  }

  /**
   * SVG text of `fig` (a standalone `<svg …>` document with title, legend and axes). The same figure gives the same
   * bytes: plotly names its clip paths and defs after a random per-plot id, which is replaced by one derived from
   * the figure itself, so a regenerated SVG of unchanged data does not show up as a change.
   */
  async renderSvg(fig: PlotlyFigure, opts: RenderOpts = {}): Promise<string> {
    const url = await this.toImage(fig, "svg", opts);
    const prefix = "data:image/svg+xml,";
    if (!url.startsWith(prefix))
      throw new Error(`FigureRenderer.renderSvg: unexpected data URL '${url.slice(0, 40)}…'`);
    return stableSvgIds(decodeURIComponent(url.slice(prefix.length)), fig);
  }

  /** Close the browser and delete its temporary profile. Safe to call twice; the renderer can be reused after. */
  async close(): Promise<void> {
    const starting = this.starting;
    this.starting = null;
    if (starting) {
      try {
        const { context } = await starting;
        await context.close();
      } catch {
        // A failed launch has nothing to close; its error was already reported to the caller.
      }
    }
    if (this.userDataDir) {
      rmSync(this.userDataDir, { recursive: true, force: true });
      this.userDataDir = null;
    }
  }

  private start(): Promise<{ context: BrowserContext; page: Page }> {
    if (!this.starting) {
      this.starting = this.launch();
      // Let a later call retry after a failed launch instead of replaying the same rejection forever.
      this.starting.catch(() => {
        this.starting = null;
      });
    }
    return this.starting;
  }

  private async launch(): Promise<{ context: BrowserContext; page: Page }> {
    const executablePath = findChromium(this.args.executablePath);
    if (!executablePath) throw chromiumMissing(this.args.executablePath);
    const plotlyPath = this.args.plotlyPath ?? resolvePlotlyBundle();
    const timeout = this.args.timeoutMs ?? 60_000;
    // A fresh profile per renderer: two renderers (parallel tests, notebook + CLI) never share a lock.
    const profileDir = mkdtempSync(join(tmpdir(), "ltr-chromium-"));
    this.userDataDir = profileDir;
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(timeout);
      // The bundle loads from its file through a <script src> of a file:// page: about 1 s faster than injecting its
      // 4.8 MB as text (page.addScriptTag({ path })), measured 2.2-2.4 s against 3.2-3.4 s (docs/PERFORMANCE.md,
      // "Figures and notebooks").
      const html = join(profileDir, "render.html");
      const src = pathToFileURL(plotlyPath).href.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
      writeFileSync(
        html,
        `<!doctype html><html><head><meta charset="utf-8"><script src="${src}"></script></head><body></body></html>`,
      );
      await page.goto(pathToFileURL(html).href);
      if (!(await page.evaluate(() => typeof (globalThis as { Plotly?: unknown }).Plotly === "object")))
        throw new Error(`FigureRenderer: the plotly bundle ${plotlyPath} did not load in chromium; run \`npm ci\``);
      return { context, page };
    } catch (e) {
      await context.close();
      throw e;
    }
  }

  private async toImage(fig: PlotlyFigure, format: "png" | "svg", opts: RenderOpts): Promise<string> {
    if (!fig || !Array.isArray(fig.data))
      throw new Error("FigureRenderer: a figure needs a `data` array of traces ({ data: [...], layout: {...} })");
    const { page } = await this.start();
    const layout = (fig.layout ?? {}) as { width?: number; height?: number };
    const imageOpts = {
      format,
      width: opts.width ?? layout.width ?? 800,
      height: opts.height ?? layout.height ?? 500,
      scale: format === "png" ? (opts.scale ?? 2) : 1,
    };
    // The callback runs in the page. `globalThis` instead of `window` keeps this file free of DOM
    // types, which tslab's compiler does not load.
    return page.evaluate(
      ([f, o]) =>
        (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly.toImage(
          f,
          o,
        ),
      // Fixed trace ids (plotly draws a random one into the SVG's class names otherwise).
      [
        {
          data: fig.data.map((t, i) => ({ uid: `trace-${i}`, ...t })),
          layout: fig.layout ?? {},
          config: fig.config ?? {},
        },
        imageOpts,
      ] as const,
    );
  }
}

/**
 * Replace plotly's random plot id (the `09c94c` of `defs-09c94c`, `clip09c94cxy`, ...) by the first hex digits of a
 * hash of the figure spec. The id only ever follows a letter or "-" (colours such as `#09c94c` follow "#").
 */
export function stableSvgIds(svg: string, fig: PlotlyFigure): string {
  const uid = /id="defs-([0-9a-f]{4,})"/.exec(svg)?.[1];
  if (!uid) return svg;
  const stable = createHash("sha256")
    .update(JSON.stringify({ data: fig.data, layout: fig.layout ?? {} }))
    .digest("hex")
    .slice(0, uid.length);
  return svg.replace(new RegExp(`(?<=[A-Za-z_-])${uid}`, "g"), stable);
}

/** Options of {@link saveFigure}. */
export interface SaveFigureOpts extends RenderOpts {
  /** Renderer to reuse; when absent a temporary one is started and closed. */
  renderer?: FigureRenderer;
}

/**
 * Write `basePath.svg` and `basePath.png` (parent folders created), each atomically (temp file +
 * rename), so an interrupted run never leaves a truncated figure behind. Returns both paths.
 */
export async function saveFigure(
  fig: PlotlyFigure,
  basePath: string,
  opts: SaveFigureOpts = {},
): Promise<{ svg: string; png: string }> {
  const renderer = opts.renderer ?? new FigureRenderer();
  try {
    const svg = await renderer.renderSvg(fig, opts);
    const png = await renderer.renderPng(fig, opts);
    const out = { svg: `${basePath}.svg`, png: `${basePath}.png` };
    writeFileAtomic(out.svg, svg);
    writeFileAtomic(out.png, png);
    return out;
  } finally {
    if (!opts.renderer) await renderer.close();
  }
}
