/**
 * The run view's "Evaluation" section: the plotly figures `nbstudio.evaluate` saved as
 * `evaluation/*.plotly.json` artifacts (confusion matrix, ROC, PR, calibration, residuals,
 * permutation importance), drawn with plotly.js as they were made.
 */

import * as React from 'react';

import { IArtifactEntry, NbstudioAPI } from './api';
import { usePlot } from './charts';
import {
  evaluationFigurePaths,
  figureName,
  IPlotlyFigure,
  parseFigure,
  themedLayout
} from './evaluation';
import { themeColors } from './plotly';

function EvaluationFigure(props: {
  path: string;
  figure: IPlotlyFigure;
}): JSX.Element {
  const { figure } = props;
  const ref = usePlot(
    (plotly, element) =>
      plotly.react(
        element,
        figure.data as never,
        themedLayout(figure.layout, themeColors()) as never,
        { displaylogo: false, responsive: true }
      ),
    [figure]
  );
  return (
    <div
      className="nbs-chart nbs-evaluation-figure"
      data-figure={figureName(props.path)}
      ref={ref}
    />
  );
}

/** Every evaluation figure of the run, or nothing when it has none. */
export function EvaluationPlots(props: {
  api: NbstudioAPI;
  runId: string;
  artifacts: IArtifactEntry[];
}): JSX.Element | null {
  const { api, runId, artifacts } = props;
  const paths = evaluationFigurePaths(artifacts);
  const key = paths.join('\n');
  const [figures, setFigures] = React.useState<Map<string, IPlotlyFigure>>(
    new Map()
  );
  const [failed, setFailed] = React.useState<string[]>([]);
  React.useEffect(() => {
    let cancelled = false;
    const missing = paths.filter(path => !figures.has(path));
    if (missing.length === 0) {
      return;
    }
    void Promise.all(
      missing.map(path =>
        api
          .artifact(runId, path)
          .then(preview => [path, parseFigure(preview.text)] as const)
          .catch(() => [path, null] as const)
      )
    ).then(loaded => {
      if (cancelled) {
        return;
      }
      const next = new Map(figures);
      const bad: string[] = [];
      for (const [path, figure] of loaded) {
        if (figure) {
          next.set(path, figure);
        } else {
          bad.push(path);
        }
      }
      setFigures(next);
      setFailed(bad);
    });
    return () => {
      cancelled = true;
    };
  }, [runId, key]);
  if (paths.length === 0) {
    return null;
  }
  return (
    <section className="nbs-evaluation">
      <h3>Evaluation</h3>
      {failed.length > 0 && (
        <div className="nbs-note">Cannot draw {failed.join(', ')}.</div>
      )}
      <div className="nbs-evaluation-grid">
        {paths
          .filter(path => figures.has(path))
          .map(path => (
            <EvaluationFigure
              key={path}
              path={path}
              figure={figures.get(path) as IPlotlyFigure}
            />
          ))}
      </div>
    </section>
  );
}
