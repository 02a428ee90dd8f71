import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DisplayBundle, showFigure, showTable } from "../../src/plot/notebook.js";
import { FigureRenderer, findChromium, saveFigure } from "../../src/plot/render.js";
import type { PlotlyFigure } from "../../src/plot/types.js";

const fig: PlotlyFigure = {
  data: [{ type: "bar", name: "counts", x: [0, 1, 2], y: [500, 50, 5] }],
  layout: { title: { text: "Render probe" }, yaxis: { type: "log" } },
};

/** A figure whose plot area is known in pixels (explicit margins) and mostly covered by bars of one colour. */
const BAR = { r: 0x1f, g: 0x77, b: 0xb4 };
const area = { width: 320, height: 200, margin: { l: 50, r: 20, t: 40, b: 40, pad: 0 } };
const barsFig = (y: number[]): PlotlyFigure => ({
  data: y.length ? [{ type: "bar", x: y.map((_, i) => i), y, marker: { color: "#1f77b4" } }] : [],
  layout: {
    ...area,
    showlegend: false,
    xaxis: { range: [-0.5, y.length ? y.length - 0.5 : 2.5] },
    yaxis: { range: [0, 3] },
  },
});

/** Decode a PNG and measure its plot area: the fraction of pixels of the bar colour, and of any non-white colour. */
async function plotArea(png: Buffer): Promise<{ bar: number; ink: number; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { l, r, t, b } = area.margin;
  let bar = 0;
  let ink = 0;
  let n = 0;
  // a 2-pixel inset keeps the axis lines out
  for (let y = t + 2; y < info.height - b - 2; y++) {
    for (let x = l + 2; x < info.width - r - 2; x++) {
      const o = (y * info.width + x) * info.channels;
      const [pr, pg, pb] = [data[o], data[o + 1], data[o + 2]];
      n++;
      if (Math.abs(pr - BAR.r) < 30 && Math.abs(pg - BAR.g) < 30 && Math.abs(pb - BAR.b) < 30) bar++;
      if (pr < 235 || pg < 235 || pb < 235) ink++;
    }
  }
  return { bar: bar / n, ink: ink / n, width: info.width, height: info.height };
}

/** Pretend to be inside tslab: put a fake `tslab/dist/jupyter` into the CommonJS cache. */
function withFakeTslab<T>(fn: (sent: DisplayBundle[]) => Promise<T>): Promise<T> {
  const req = createRequire(join(process.cwd(), "noop.js"));
  const key = req.resolve("tslab/dist/jupyter");
  const sent: DisplayBundle[] = [];
  const had = req.cache[key];
  req.cache[key] = {
    exports: { lastWriteDisplayData: (m: DisplayBundle) => sent.push(m) },
  } as unknown as NodeJS.Module;
  return fn(sent).finally(() => {
    if (had) req.cache[key] = had;
    else delete req.cache[key];
  });
}

it("explains how to install chromium when it is missing", async () => {
  const r = new FigureRenderer({ executablePath: "/nonexistent/chromium" });
  await expect(r.renderPng(fig)).rejects.toThrow(/'\/nonexistent\/chromium'.*apt-get install chromium/);
  await r.close();
});

it("showTable sends markdown + text inside tslab and prints outside", async () => {
  const rows = [
    { method: "Joint", All: 44.5 },
    { method: "cRT", All: 49 },
  ];
  await withFakeTslab(async (sent) => {
    showTable(rows, { title: "t" });
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0].data)).toEqual(["text/markdown", "text/plain"]);
    expect(sent[0].data["text/markdown"]).toBe(
      "**t**\n\n| method | All |\n|:---|---:|\n| Joint | 44.50 |\n| cRT | 49.00 |",
    );
    expect(sent[0].data["text/plain"]).toBe("t\nmethod    All\n------  -----\nJoint   44.50\ncRT     49.00");
  });
});

const chromium = findChromium();
if (!chromium)
  console.warn("test/plot/render.test.ts: chromium not found, skipping the rendering tests (apt-get install chromium)");

describe.skipIf(!chromium)("FigureRenderer (headless chromium)", () => {
  const renderer = new FigureRenderer();
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ltr-plot-test-"));
  });
  afterAll(async () => {
    await renderer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("names the plotly bundle when it does not load in the page", async () => {
    const r = new FigureRenderer({ plotlyPath: join(dir, "missing plotly & co.min.js") });
    await expect(r.renderPng(fig)).rejects.toThrow(/the plotly bundle .*missing plotly & co\.min\.js did not load/);
    await r.close();
  });

  it("renders PNG bytes of the requested size", async () => {
    const png = await renderer.renderPng(fig, { width: 320, height: 200, scale: 1 });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: width and height, big-endian, at bytes 16..23.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([320, 200]);
  });

  it("a rendered figure has content: the bars fill their share of the plot area, an empty figure's plot area stays blank", async () => {
    // bars of height 3, 2, 1 on a 0..3 axis, 80 % of each slot wide: (3 + 2 + 1) / 9 · 0.8 ≈ 53 % of the plot area
    const full = await plotArea(await renderer.renderPng(barsFig([3, 2, 1]), { scale: 1 }));
    expect([full.width, full.height]).toEqual([320, 200]);
    expect(full.bar).toBeGreaterThan(0.4);
    expect(full.bar).toBeLessThan(0.65);
    const half = await plotArea(await renderer.renderPng(barsFig([1.5, 1, 0.5]), { scale: 1 }));
    expect(half.bar).toBeGreaterThan(0.15);
    expect(half.bar).toBeLessThan(full.bar * 0.65);
    // the control: same layout, no data — only grid lines, no bars
    const empty = await plotArea(await renderer.renderPng(barsFig([]), { scale: 1 }));
    expect(empty.bar).toBe(0);
    expect(empty.ink).toBeLessThan(0.05);
  });

  it("renders SVG text with the title and axis labels", async () => {
    const svg = await renderer.renderSvg(fig, { width: 320, height: 200 });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("Render probe");
    expect(svg).toContain('width="320"');
  });

  it("saveFigure writes .svg and .png atomically (no temp files left)", async () => {
    const out = await saveFigure(fig, join(dir, "sub", "probe"), { renderer, width: 300, height: 200, scale: 1 });
    expect(out).toEqual({ svg: join(dir, "sub", "probe.svg"), png: join(dir, "sub", "probe.png") });
    expect(readFileSync(out.svg, "utf8")).toContain("Render probe");
    expect(readFileSync(out.png).readUInt32BE(16)).toBe(300);
    expect(readdirSync(join(dir, "sub")).sort()).toEqual(["probe.png", "probe.svg"]);
    const bars = await saveFigure(barsFig([3, 2, 1]), join(dir, "sub2", "bars"), { renderer, scale: 1 });
    expect((await plotArea(readFileSync(bars.png))).bar).toBeGreaterThan(0.4);
  });

  it("showFigure sends one bundle with PNG, plotly JSON and text", async () => {
    await withFakeTslab(async (sent) => {
      await showFigure(fig, { renderer, width: 300, height: 200, scale: 1 });
      expect(sent).toHaveLength(1);
      expect(Object.keys(sent[0].data).sort()).toEqual(["application/vnd.plotly.v1+json", "image/png", "text/plain"]);
      expect(Buffer.from(sent[0].data["image/png"] as string, "base64").readUInt32BE(16)).toBe(300);
      await showFigure(barsFig([3, 2, 1]), { renderer, scale: 1 });
      expect((await plotArea(Buffer.from(sent[1].data["image/png"] as string, "base64"))).bar).toBeGreaterThan(0.4);
      expect(sent[0].data["application/vnd.plotly.v1+json"]).toEqual({
        data: fig.data,
        layout: fig.layout,
        config: {},
      });
      expect(sent[0].data["text/plain"]).toBe("<Figure 'Render probe': 1 trace>");
    });
  });
});
