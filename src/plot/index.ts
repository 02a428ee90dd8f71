/** Public surface of the plot package: figure specs, rendering, notebook display. */
export * from "./types.js";
export * from "./figures.js";
export { tauSliderHtml, tauSliderWidget } from "./tau_slider.js";
export { FigureRenderer, saveFigure, findChromium, resolvePlotlyBundle, CHROMIUM_ARGS, type RenderOpts, type FigureRendererArgs, type SaveFigureOpts } from "./render.js";
export { showFigure, showTable, closeFigures, notebookRenderer, inTslab, sendDisplay, tslabDisplayHook, tableMarkdown, tableText, type DisplayBundle, type ShowFigureOpts, type TableOpts } from "./notebook.js";
