/**
 * The main-area page of a sweep or an AutoML job: its trials table (the leaderboard), the
 * best-so-far chart and, for a sweep, parallel coordinates of its params against the metric.
 *
 * It polls ``GET runs/<id>/trials`` while the parent run is active and on screen, like the run
 * view, and stops once the job ended and its final state is drawn.
 */

import type { Data } from 'plotly.js-dist-min';
import * as React from 'react';

import { ITrial, ITrials, NbstudioAPI } from './api';
import { ParallelChart, usePlot } from './charts';
import { parallelDimensions } from './comparison';
import { ErrorLine, StatusBadge } from './components';
import { formatValue } from './format';
import { stepChartLayout } from './plotly';
import { keepPollingRun } from './polling';
import { PollingView } from './pollingview';
import {
  bestFirst,
  bestSoFar,
  bestTrial,
  Goal,
  scored,
  stoppedEarly
} from './trials';
import { TrialsTable } from './trialstable';

export class TrialsView extends PollingView {
  constructor(options: TrialsView.IOptions) {
    super(`nbstudio:trials:${options.runId}`);
    this.runId = options.runId;
    this._options = options;
    this.addClass('nbs-trialsview');
  }

  readonly runId: string;

  async reload(): Promise<void> {
    await this.load().catch(() => undefined);
  }

  protected async load(): Promise<void> {
    try {
      this._page = await this._options.api.trials(this.runId);
      this._error = null;
    } catch (reason) {
      this._error = reason instanceof Error ? reason.message : String(reason);
      this.update();
      throw reason;
    }
    this.finished = !keepPollingRun(this._page.status);
    const what = this._page.kind === 'automl' ? 'Leaderboard' : 'Sweep';
    this.title.label = `${what} ${this._page.run_name || this.runId.slice(0, 8)}`;
    this.update();
  }

  render(): JSX.Element {
    const page = this._page;
    if (!page) {
      return (
        <div className="nbs-view">
          <ErrorLine error={this._error} />
          {!this._error && (
            <div className="nbs-note nbs-loading">
              Loading trials of {this.runId}…
            </div>
          )}
        </div>
      );
    }
    return (
      <TrialsPage
        page={page}
        error={this._error}
        openRun={this._options.openRun}
        reload={() => void this.reload()}
      />
    );
  }

  private _options: TrialsView.IOptions;
  private _page: ITrials | null = null;
  private _error: string | null = null;
}

export namespace TrialsView {
  export interface IOptions {
    api: NbstudioAPI;
    runId: string;
    openRun: (runId: string) => void;
  }
}

function TrialsPage(props: {
  page: ITrials;
  error: string | null;
  openRun: (runId: string) => void;
  reload: () => void;
}): JSX.Element {
  const { page, openRun } = props;
  const goal = page.goal as Goal;
  const best = bestTrial(page.trials, goal);
  const stopped = page.trials.filter(stoppedEarly).length;
  const automl = page.kind === 'automl';
  const estimators = new Set(page.trials.map(t => t.estimator).filter(Boolean));
  return (
    <div
      className="nbs-view nbs-trials-page"
      data-run-id={page.run_id}
      data-kind={page.kind}
      data-status={page.status}
    >
      <div className="nbs-view-header">
        <StatusBadge status={page.status} />
        <h2 title={page.run_name}>{page.run_name || page.run_id}</h2>
        <span
          className="nbs-clickable nbs-note"
          title="Open the parent run"
          onClick={() => openRun(page.run_id)}
        >
          run view
        </span>
        <button className="jp-Button jp-mod-styled" onClick={props.reload}>
          Refresh
        </button>
      </div>
      <ErrorLine error={props.error} />
      <div className="nbs-trials-summary">
        <span>
          {automl ? 'AutoML job' : 'Sweep'} · {page.goal} {page.primary_metric}
        </span>
        <span className="nbs-trials-count">
          {page.trials.length} trials
          {automl && estimators.size > 0
            ? ` · ${estimators.size} estimators`
            : ''}
          {!automl && ` · ${stopped} stopped early`}
        </span>
        {best && (
          <span className="nbs-trials-best">
            best {page.primary_metric} {formatValue(best.value)} (trial{' '}
            <span
              className="nbs-clickable"
              onClick={() => openRun(best.run_id)}
            >
              {best.number}
              {best.estimator ? `, ${best.estimator}` : ''}
            </span>
            )
          </span>
        )}
      </div>
      {page.trials.some(scored) && (
        <div className="nbs-trials-charts">
          <BestSoFarChart
            trials={page.trials}
            goal={goal}
            metric={page.primary_metric}
          />
          {!automl && <SweepParallel trials={page.trials} />}
        </div>
      )}
      <section className="nbs-trials">
        <h3>{automl ? 'Leaderboard' : 'Trials'}</h3>
        {automl && estimators.size > 0 && (
          <div className="nbs-note">
            ★ marks the best trial of each estimator.
          </div>
        )}
        <TrialsTable
          trials={page.trials}
          goal={goal}
          primaryMetric={page.primary_metric}
          space={page.space}
          initialSort={
            automl ? bestFirst(goal) : { column: 'number', descending: false }
          }
          openRun={openRun}
        />
      </section>
    </div>
  );
}

/** Every scored trial's value as a point (stopped-early ones as crosses) and the best so far. */
function BestSoFarChart(props: {
  trials: readonly ITrial[];
  goal: Goal;
  metric: string;
}): JSX.Element {
  const { trials, goal, metric } = props;
  const ref = usePlot(
    (plotly, element) => {
      const series = bestSoFar(trials, goal);
      const done = trials.filter(scored);
      const traces: Data[] = [
        {
          type: 'scatter',
          mode: 'markers',
          name: 'trial',
          x: done.map(t => t.number),
          y: done.map(t => t.value),
          text: done.map(t =>
            stoppedEarly(t)
              ? `trial ${t.number} (stopped early)`
              : `trial ${t.number}${t.estimator ? ` ${t.estimator}` : ''}`
          ),
          marker: {
            size: 7,
            symbol: done.map(t => (stoppedEarly(t) ? 'x' : 'circle')),
            color: done.map(t => (stoppedEarly(t) ? '#e57373' : '#90a4ae'))
          },
          hovertemplate: '%{text}<br>%{y}<extra></extra>'
        },
        {
          type: 'scatter',
          mode: 'lines',
          name: 'best so far',
          x: series.numbers,
          y: series.values,
          line: { shape: 'hv', width: 2 },
          hovertemplate: 'best after trial %{x}<br>%{y}<extra></extra>'
        }
      ];
      return plotly.react(
        element,
        traces,
        stepChartLayout(`best ${metric} so far`, {
          height: 300,
          showlegend: true,
          legend: { orientation: 'h', y: -0.25 },
          margin: { l: 55, r: 12, t: 32, b: 60 },
          xaxis: { title: { text: 'trial' }, zeroline: false }
        }),
        { displaylogo: false, responsive: true }
      );
    },
    [trials, goal, metric]
  );
  return (
    <div className="nbs-chart-box nbs-best-so-far">
      <div className="nbs-chart" data-chart="best-so-far" ref={ref} />
    </div>
  );
}

/** Longest axis label of the parallel-coordinates chart. */
const LABEL_CHARS = 16;

function SweepParallel(props: {
  trials: readonly ITrial[];
}): JSX.Element | null {
  const runs = React.useMemo(() => props.trials.filter(scored), [props.trials]);
  const parallel = React.useMemo(() => {
    const drawn = parallelDimensions(runs);
    // Long param names overlap their neighbours' labels: shortened (full name in the table).
    const dimensions = drawn.dimensions.map(d => ({
      ...d,
      label:
        d.label.length > LABEL_CHARS
          ? `${d.label.slice(0, LABEL_CHARS - 1)}…`
          : d.label
    }));
    return { ...drawn, dimensions };
  }, [runs]);
  if (runs.length < 2 || parallel.dimensions.length < 2) {
    return null;
  }
  return (
    <div className="nbs-trials-parallel" data-chart="parallel">
      <ParallelChart {...parallel} />
    </div>
  );
}
