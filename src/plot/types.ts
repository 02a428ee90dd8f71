/**
 * The plotly figure spec as plain JSON. Kept deliberately loose (plotly's own types are not a
 * dependency): traces and layout are records, so any plotly attribute can be set.
 */

/** One plotly trace ({ type: "bar", x, y, name, ... }). */
export type PlotlyTrace = Record<string, unknown>;

/** A plotly figure: what `Plotly.newPlot` / `Plotly.toImage` accept and what notebooks store. */
export interface PlotlyFigure {
  /** Traces, drawn in order. */
  data: PlotlyTrace[];
  /** Axes, title, shapes, annotations, size. */
  layout?: Record<string, unknown>;
  /** Plotly config (displayModeBar, ...). */
  config?: Record<string, unknown>;
}
