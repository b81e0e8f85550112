/**
 * Overlaid metric curves in compare, as MLflow's and W&B's compare views show: one chart per
 * metric, one curve per run against step, each history downsampled by the server.
 */

import type { Data } from 'plotly.js-dist-min';
import * as React from 'react';

import { IMetricHistory, IRunSummary, NbstudioAPI } from './api';
import { curvePlan } from './curves';
import { downsampleMinMax } from './downsample';
import { loadPlotly, stepChartLayout } from './plotly';

/** Points asked of the server per curve. */
const CURVE_POINTS = 500;

interface ICurve {
  name: string;
  history: IMetricHistory;
}

export function CompareCurves(props: {
  api: NbstudioAPI;
  runs: readonly IRunSummary[];
}): JSX.Element | null {
  const { api, runs } = props;
  const plan = React.useMemo(() => curvePlan(runs), [runs]);
  const [curves, setCurves] = React.useState<Map<string, ICurve[]> | null>(
    null
  );
  React.useEffect(() => {
    let live = true;
    const jobs = plan.keys.flatMap(key =>
      plan.runs
        .filter(run => key in run.metrics)
        .map(run =>
          api
            .metricHistory(run.run_id, key, CURVE_POINTS)
            .then(history => ({
              key,
              curve: { name: run.run_name || run.run_id.slice(0, 8), history }
            }))
            .catch(() => null)
        )
    );
    void Promise.all(jobs).then(found => {
      if (!live) {
        return;
      }
      const byKey = new Map<string, ICurve[]>(plan.keys.map(k => [k, []]));
      for (const item of found) {
        if (item) {
          byKey.get(item.key)?.push(item.curve);
        }
      }
      setCurves(byKey);
    });
    return () => {
      live = false;
    };
  }, [plan]);
  if (!plan.keys.length) {
    return null;
  }
  return (
    <section className="nbs-compare-curves">
      <h3>Metrics by step</h3>
      {(plan.omittedRuns > 0 || plan.omittedKeys > 0) && (
        <div className="nbs-note">
          Curves of the first {plan.runs.length} runs and {plan.keys.length}{' '}
          metrics ({plan.omittedRuns} more runs, {plan.omittedKeys} more metrics
          not drawn).
        </div>
      )}
      {curves === null ? (
        <div className="nbs-note nbs-loading">Loading metric histories…</div>
      ) : (
        <div className="nbs-charts">
          {plan.keys.map(key => (
            <OverlaidChart
              key={key}
              metric={key}
              curves={curves.get(key) ?? []}
            />
          ))}
        </div>
      )}
    </section>
  );
}

function OverlaidChart(props: {
  metric: string;
  curves: ICurve[];
}): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    let cancelled = false;
    void loadPlotly().then(plotly => {
      const element = ref.current;
      if (cancelled || !element) {
        return;
      }
      const width = element.clientWidth || 400;
      const traces = props.curves.map(curve => {
        const points = downsampleMinMax(curve.history.points, width * 2);
        return {
          type: 'scatter',
          mode: points.length > 60 ? 'lines' : 'lines+markers',
          name: curve.name,
          x: points.map(p => p.step),
          y: points.map(p => p.value),
          hovertemplate: `${curve.name}<br>step %{x}<br>%{y}<extra></extra>`
        } as Data;
      });
      return plotly.react(
        element,
        traces,
        stepChartLayout(props.metric, {
          height: 300,
          margin: { l: 50, r: 12, t: 32, b: 80 },
          showlegend: true,
          legend: { orientation: 'h', x: 0, y: -0.3, yanchor: 'top' }
        }),
        { displaylogo: false, responsive: true }
      );
    });
    return () => {
      cancelled = true;
    };
  }, [props.curves]);
  React.useEffect(
    () => () => {
      const element = ref.current;
      if (element) {
        void loadPlotly().then(plotly => plotly.purge(element));
      }
    },
    []
  );
  return (
    <div className="nbs-chart-box">
      <div
        className="nbs-chart nbs-overlaid"
        data-metric={props.metric}
        data-curves={props.curves.length}
        ref={ref}
      />
    </div>
  );
}
