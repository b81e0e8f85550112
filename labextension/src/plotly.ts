/**
 * plotly.js, loaded on first use: the bundle is large, so JupyterLab starts without it and the
 * first chart fetches it as a separate chunk.
 */

import type * as PlotlyTypes from 'plotly.js-dist-min';

export type PlotlyModule = typeof PlotlyTypes;

let loading: Promise<PlotlyModule> | null = null;

export function loadPlotly(): Promise<PlotlyModule> {
  if (!loading) {
    loading = import(
      /* webpackChunkName: "plotly" */ 'plotly.js-dist-min'
    ).then(
      module =>
        ((module as { default?: PlotlyModule }).default ??
          module) as PlotlyModule
    );
  }
  return loading;
}

/** Colours of the current JupyterLab theme, for chart text, grid and background. */
export function themeColors(): { font: string; grid: string; accent: string } {
  const style = getComputedStyle(document.body);
  const read = (name: string, fallback: string): string =>
    style.getPropertyValue(name).trim() || fallback;
  return {
    font: read('--jp-ui-font-color1', '#333'),
    grid: read('--jp-border-color2', '#e0e0e0'),
    accent: read('--jp-brand-color1', '#1976d2')
  };
}

/** The layout of a titled chart against step in the theme's colours (run view and compare). */
export function stepChartLayout(
  title: string,
  extra: Partial<PlotlyTypes.Layout> = {}
): Partial<PlotlyTypes.Layout> {
  const colors = themeColors();
  return {
    title: { text: title, font: { size: 13, color: colors.font } },
    height: 220,
    margin: { l: 50, r: 12, t: 32, b: 32 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: colors.font, size: 11 },
    xaxis: { title: { text: 'step' }, gridcolor: colors.grid, zeroline: false },
    yaxis: { gridcolor: colors.grid, zeroline: false },
    ...extra
  };
}
