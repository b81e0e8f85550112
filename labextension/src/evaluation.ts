/**
 * Which artifacts of a run are evaluation figures, in which order, and how to draw them in the
 * current theme. Pure logic (unit-tested); the React part is in evaluationplots.tsx.
 */

import { IArtifactEntry } from './api';

export const EVALUATION_DIR = 'evaluation/';
export const FIGURE_SUFFIX = '.plotly.json';

/** Figures shown first, in this order; any other evaluation figure follows by name. */
export const FIGURE_ORDER = [
  'confusion_matrix',
  'roc_curve',
  'precision_recall_curve',
  'calibration',
  'predicted_vs_actual',
  'residuals',
  'permutation_importance',
  'shap_importance'
];

/** The figure's name: `evaluation/roc_curve.plotly.json` -> `roc_curve`. */
export function figureName(path: string): string {
  return path.slice(EVALUATION_DIR.length, -FIGURE_SUFFIX.length);
}

/** The run's evaluation figures (files directly in evaluation/), in display order. */
export function evaluationFigurePaths(artifacts: IArtifactEntry[]): string[] {
  const rank = (path: string): number => {
    const index = FIGURE_ORDER.indexOf(figureName(path));
    return index < 0 ? FIGURE_ORDER.length : index;
  };
  return artifacts
    .filter(
      a =>
        !a.is_dir &&
        a.path.startsWith(EVALUATION_DIR) &&
        a.path.endsWith(FIGURE_SUFFIX) &&
        !a.path.slice(EVALUATION_DIR.length).includes('/') &&
        a.path.length > EVALUATION_DIR.length + FIGURE_SUFFIX.length
    )
    .map(a => a.path)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export interface IPlotlyFigure {
  data: unknown[];
  layout: Record<string, unknown>;
}

/** A figure from its JSON text, or null if it is not a plotly figure. */
export function parseFigure(text: string | undefined): IPlotlyFigure | null {
  if (!text) {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as Partial<IPlotlyFigure>;
    if (!parsed || !Array.isArray(parsed.data)) {
      return null;
    }
    return { data: parsed.data, layout: { ...(parsed.layout ?? {}) } };
  } catch {
    return null;
  }
}

/** The figure's layout fitted to a panel card in the theme's colours (its template dropped). */
export function themedLayout(
  layout: Record<string, unknown>,
  colors: { font: string; grid: string }
): Record<string, unknown> {
  const own = typeof layout.height === 'number' ? layout.height : 0;
  const themed: Record<string, unknown> = {
    ...layout,
    height: Math.max(300, own),
    autosize: true,
    margin: { l: 56, r: 12, t: 36, b: 44 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: colors.font, size: 11 },
    legend: { font: { size: 10 } }
  };
  delete themed.template;
  delete themed.width;
  const title = layout.title as { text?: string } | string | undefined;
  const text = typeof title === 'string' ? title : title?.text;
  themed.title = { text: text ?? '', font: { size: 13, color: colors.font } };
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key)) {
      themed[key] = {
        ...(layout[key] as Record<string, unknown>),
        gridcolor: colors.grid,
        automargin: true
      };
    }
  }
  return themed;
}
