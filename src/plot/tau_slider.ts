/**
 * A self-contained interactive page for a τ sweep: a slider over the τ grid, a small hand-drawn
 * SVG chart (Many / Medium / Few / All vs τ; val solid, test dashed) with a cursor at the slider's
 * τ, and a table of the accuracies at that τ.
 *
 * Why not plotly: the page must open offline and stay small enough to commit next to the results
 * (a few KB), while inlining plotly.js would add 4.8 MB per file and a CDN link would break offline.
 */
import { sha256Hex } from "../hash.js";
import { SHOT_COLUMNS, seriesColour, sweepSeries, type TauSweepFigureArgs } from "./figures.js";

/** JSON that is safe inside a <script> element (no "</script>" or "<!--" can close or comment it). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/** The data the slider's script draws from (checked: the val and test sweeps share one τ grid). */
function sliderPayload(sweep: TauSweepFigureArgs) {
  if (!sweep.val && !sweep.test) throw new Error("tauSliderHtml: pass a val and/or test sweep");
  const unit = sweep.unit ?? "fraction";
  const allMetric = sweep.allMetric ?? "top1";
  const splits: { split: string; dash: string; tau: number[]; series: Record<string, number[]> }[] = [];
  if (sweep.val)
    splits.push({ split: "val", dash: "", ...sweepSeries(sweep.val, allMetric, unit, "tauSliderHtml (val)") });
  if (sweep.test)
    splits.push({ split: "test", dash: "6 4", ...sweepSeries(sweep.test, allMetric, unit, "tauSliderHtml (test)") });
  const taus = splits[0].tau;
  for (const s of splits) {
    if (s.tau.length !== taus.length || s.tau.some((t, i) => Math.abs(t - taus[i]) > 1e-9)) {
      throw new Error(
        `tauSliderHtml: the ${s.split} sweep's τ grid differs from the ${splits[0].split} sweep's; sweep both on the same grid`,
      );
    }
  }
  let start = 0;
  if (sweep.chosenTau !== undefined) {
    let best = Infinity;
    taus.forEach((t, i) => {
      if (Math.abs(t - sweep.chosenTau!) < best) {
        best = Math.abs(t - sweep.chosenTau!);
        start = i;
      }
    });
  }
  const payload = {
    taus,
    splits,
    metrics: SHOT_COLUMNS,
    colours: SHOT_COLUMNS.map((m, i) => seriesColour(m, i)),
    chosen: sweep.chosenTau ?? null,
    start,
  };
  return payload;
}

/** The HTML page (one string; write it to `*.html`). Accepts the same sweep arguments as `tauSweepFigure`. */
export function tauSliderHtml(sweep: TauSweepFigureArgs): string {
  const title = escapeHtml(sweep.title ?? "τ-normalised classifier: accuracy vs τ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
  body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 12px; }
${sliderCss("")}
</style>
</head>
<body>
<h1>${title}</h1>
${sliderBody("", sliderPayload(sweep))}
</body>
</html>
`;
}

/**
 * The same slider as an HTML fragment for a notebook output: its element ids carry a prefix derived from the data
 * and its styles are scoped to it, so it does not restyle the notebook page around it.
 */
export function tauSliderWidget(sweep: TauSweepFigureArgs): string {
  const payload = sliderPayload(sweep);
  const p = `ltr-tau-${sha256Hex(JSON.stringify(payload)).slice(0, 8)}-`;
  const title = sweep.title
    ? `<div style="font-weight: bold; margin-bottom: 6px;">${escapeHtml(sweep.title)}</div>`
    : "";
  return `<div id="${p}root" class="ltr-tau-slider" style="font-family: 'DejaVu Sans', Arial, sans-serif; color: #222;">
<style>
${sliderCss(`#${p}root `)}
</style>
${title}${sliderBody(p, payload)}
</div>
`;
}

function sliderCss(scope: string): string {
  return `  ${scope}.row { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
  ${scope}label { font-size: 15px; }
  ${scope}input[type=range] { width: 420px; vertical-align: middle; }
  ${scope}table { border-collapse: collapse; font-size: 14px; margin-top: 8px; }
  ${scope}th, ${scope}td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
  ${scope}th:first-child, ${scope}td:first-child { text-align: left; }
  ${scope}.note { color: #666; font-size: 12px; margin-top: 8px; max-width: 340px; }`;
}

/** Slider, chart, table and the script that draws them; every element id starts with `p`. */
function sliderBody(p: string, payload: ReturnType<typeof sliderPayload>): string {
  const P = JSON.stringify(p);
  return `<div><label>τ = <b id="${p}tauval"></b> <input id="${p}tau" type="range" min="0" max="${payload.taus.length - 1}" step="1" value="${payload.start}"></label></div>
<div class="row">
  <svg id="${p}chart" width="560" height="340" viewBox="0 0 560 340" role="img" aria-label="accuracy vs tau"></svg>
  <div><table id="${p}tbl"></table><div class="note" id="${p}note"></div></div>
</div>
<script id="${p}sweep-data" type="application/json">${scriptJson(payload)}</script>
<script>
(function () {
  "use strict";
  var P = ${P};
  function byId(id) { return document.getElementById(P + id); }
  var D = JSON.parse(byId("sweep-data").textContent);
  var svg = byId("chart"), NS = "http://www.w3.org/2000/svg";
  var W = 560, H = 340, L = 50, R = 16, T = 14, B = 40;
  var lo = Infinity, hi = -Infinity;
  D.splits.forEach(function (s) { D.metrics.forEach(function (m) { s.series[m].forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); }); }); });
  lo = Math.max(0, Math.floor(lo / 10) * 10); hi = Math.min(100, Math.ceil(hi / 10) * 10); if (hi <= lo) hi = lo + 10;
  var t0 = D.taus[0], t1 = D.taus[D.taus.length - 1]; if (t1 === t0) t1 = t0 + 1;
  function X(t) { return L + (t - t0) / (t1 - t0) * (W - L - R); }
  function Y(v) { return H - B - (v - lo) / (hi - lo) * (H - T - B); }
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e); return e;
  }
  for (var g = lo; g <= hi + 1e-9; g += 10) {
    el("line", { x1: L, x2: W - R, y1: Y(g), y2: Y(g), stroke: "#e5e5e5" });
    el("text", { x: L - 6, y: Y(g) + 4, "text-anchor": "end", "font-size": 11 }, String(g));
  }
  D.taus.forEach(function (t, i) {
    if (D.taus.length <= 11 || i % 2 === 0) el("text", { x: X(t), y: H - B + 16, "text-anchor": "middle", "font-size": 11 }, String(+t.toFixed(2)));
  });
  el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#444" });
  el("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#444" });
  el("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 13 }, "τ");
  el("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 13, transform: "rotate(-90 14 " + (T + H - B) / 2 + ")" }, "accuracy (%)");
  D.splits.forEach(function (s) {
    D.metrics.forEach(function (m, mi) {
      var d = s.series[m].map(function (v, i) { return (i ? "L" : "M") + X(D.taus[i]).toFixed(1) + " " + Y(v).toFixed(1); }).join(" ");
      el("path", { d: d, fill: "none", stroke: D.colours[mi], "stroke-width": 2, "stroke-dasharray": s.dash });
    });
  });
  if (D.chosen !== null) el("line", { x1: X(D.chosen), x2: X(D.chosen), y1: T, y2: H - B, stroke: "#999", "stroke-dasharray": "2 3" });
  var cursor = el("line", { x1: 0, x2: 0, y1: T, y2: H - B, stroke: "#d00", "stroke-width": 1.5 });
  var slider = byId("tau"), tbl = byId("tbl");
  byId("note").textContent = (D.splits.length > 1 ? "solid: val, dashed: test. " : "") +
    (D.chosen !== null ? "Dotted grey line: τ chosen on val (" + (+D.chosen.toFixed(2)) + "). " : "") + "Red line: slider position.";
  function update() {
    var i = +slider.value, t = D.taus[i];
    byId("tauval").textContent = t.toFixed(2);
    cursor.setAttribute("x1", X(t)); cursor.setAttribute("x2", X(t));
    var h = "<tr><th>split</th>" + D.metrics.map(function (m, mi) { return "<th style=\\"color:" + D.colours[mi] + "\\">" + m + "</th>"; }).join("") + "</tr>";
    D.splits.forEach(function (s) {
      h += "<tr><td>" + s.split + "</td>" + D.metrics.map(function (m) { return "<td>" + s.series[m][i].toFixed(1) + "</td>"; }).join("") + "</tr>";
    });
    tbl.innerHTML = h;
  }
  slider.addEventListener("input", update);
  update();
})();
</script>`;
}
