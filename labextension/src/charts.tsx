/**
 * React components drawing plotly charts: a metric's history and a parallel-coordinates view.
 */

import type { Data } from 'plotly.js-dist-min';
import * as React from 'react';

import { IMetricHistory } from './api';
import { IDimension } from './comparison';
import { downsampleMinMax } from './downsample';
import {
  loadPlotly,
  PlotlyModule,
  stepChartLayout,
  themeColors
} from './plotly';

/** Draw into a div with plotly once it is loaded, and purge the plot when unmounted. */
export function usePlot(
  draw: (plotly: PlotlyModule, element: HTMLDivElement) => Promise<unknown>,
  deps: React.DependencyList
): React.RefObject<HTMLDivElement> {
  const ref = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    let cancelled = false;
    void loadPlotly().then(plotly => {
      if (!cancelled && ref.current) {
        return draw(plotly, ref.current);
      }
    });
    return () => {
      cancelled = true;
    };
  }, deps);
  React.useEffect(
    () => () => {
      const element = ref.current;
      if (element) {
        void loadPlotly().then(plotly => plotly.purge(element));
      }
    },
    []
  );
  return ref;
}

/** A metric's history against its step. */
export function MetricChart(props: { history: IMetricHistory }): JSX.Element {
  const { history } = props;
  const ref = usePlot(
    (plotly, element) => {
      const width = element.clientWidth || 400;
      const points = downsampleMinMax(history.points, width * 2);
      const colors = themeColors();
      return plotly.react(
        element,
        [
          {
            type: 'scatter',
            mode: points.length > 60 ? 'lines' : 'lines+markers',
            x: points.map(p => p.step),
            y: points.map(p => p.value),
            line: { color: colors.accent, width: 1.5 },
            hovertemplate: 'step %{x}<br>%{y}<extra></extra>'
          }
        ],
        stepChartLayout(history.key),
        { displaylogo: false, responsive: true }
      );
    },
    [history]
  );
  return (
    <div className="nbs-chart-box">
      <div className="nbs-chart" data-metric={history.key} ref={ref} />
      {history.downsampled && (
        <div className="nbs-note">
          {history.total_points.toLocaleString()} points, drawn as min/max per
          bucket
        </div>
      )}
    </div>
  );
}

/** A parallel-coordinates chart: one line per run, one axis per param or metric. */
export function ParallelChart(props: {
  dimensions: IDimension[];
  colors: number[];
  colorKey: string | null;
}): JSX.Element {
  const { dimensions, colors, colorKey } = props;
  const ref = usePlot(
    (plotly, element) => {
      const theme = themeColors();
      const line = colorKey
        ? {
            color: colors,
            colorscale: 'Viridis',
            showscale: true,
            colorbar: { title: { text: colorKey } }
          }
        : { color: theme.accent };
      return plotly.react(
        element,
        [{ type: 'parcoords', dimensions, line } as unknown as Data],
        {
          height: 380,
          margin: { l: 60, r: 60, t: 50, b: 30 },
          paper_bgcolor: 'rgba(0,0,0,0)',
          font: { color: theme.font, size: 11 }
        },
        { displaylogo: false, responsive: true }
      );
    },
    [dimensions, colors, colorKey]
  );
  return <div className="nbs-parcoords" ref={ref} />;
}
