/** Public surface of the plot package: figure specs, rendering, notebook display. */

export * from "./figures.js";
export {
  closeFigures,
  type DisplayBundle,
  inTslab,
  notebookRenderer,
  type ShowFigureOpts,
  sendDisplay,
  showFigure,
  showTable,
  type TableOpts,
  tableMarkdown,
  tableText,
  tslabDisplayHook,
} from "./notebook.js";
export {
  CHROMIUM_ARGS,
  FigureRenderer,
  type FigureRendererArgs,
  findChromium,
  type RenderOpts,
  resolvePlotlyBundle,
  type SaveFigureOpts,
  saveFigure,
} from "./render.js";
export { tauSliderHtml, tauSliderWidget } from "./tau_slider.js";
export * from "./types.js";
