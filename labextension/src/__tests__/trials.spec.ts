import { ITrial } from '../api';
import { splitSystemKeys } from '../systemmetrics';
import {
  bestFirst,
  bestPerEstimator,
  bestSoFar,
  bestTrial,
  sortTrials,
  stateLabel,
  stoppedEarly,
  trialColumns
} from '../trials';

function trial(
  number: number,
  value: number | null,
  extra: Partial<ITrial> = {}
): ITrial {
  return {
    number,
    run_id: `r${number}`,
    run_name: `trial-${number}`,
    status: 'FINISHED',
    state: 'finished',
    terminated_by: null,
    estimator: null,
    params: {},
    metrics: value === null ? {} : { acc: value },
    value,
    primary_metric: value === null ? null : { key: 'acc', value },
    start_time: 0,
    end_time: 1000,
    ...extra
  };
}

describe('sortTrials', () => {
  const trials = [
    trial(0, 0.5, { params: { lr: '0.01', kernel: 'rbf' } }),
    trial(1, 0.9, { params: { lr: '0.1', kernel: 'linear' } }),
    trial(2, null, { params: { lr: '0.001' }, state: 'running' }),
    trial(3, 0.7, { params: { lr: '1e-4', kernel: 'poly' } })
  ];
  it('sorts by value either way, missing values last', () => {
    // rule: best first for maximize; a trial with no value is last in both directions
    expect(
      sortTrials(trials, bestFirst('maximize')).map(t => t.number)
    ).toEqual([1, 3, 0, 2]);
    expect(
      sortTrials(trials, bestFirst('minimize')).map(t => t.number)
    ).toEqual([0, 3, 1, 2]);
  });
  it('sorts numeric params as numbers and text params as text', () => {
    const byLr = sortTrials(trials, { column: 'param:lr', descending: false });
    // rule: 1e-4 < 0.001 < 0.01 < 0.1 (not string order)
    expect(byLr.map(t => t.number)).toEqual([3, 2, 0, 1]);
    const byKernel = sortTrials(trials, {
      column: 'param:kernel',
      descending: false
    });
    expect(byKernel.map(t => t.number)).toEqual([1, 3, 0, 2]);
  });
  it('breaks ties by trial number', () => {
    const tied = [trial(5, 0.5), trial(2, 0.5), trial(9, 0.5)];
    expect(sortTrials(tied, bestFirst('maximize')).map(t => t.number)).toEqual([
      2, 5, 9
    ]);
  });
});

describe('best trials', () => {
  const automl = [
    trial(0, 0.8, { estimator: 'lgbm' }),
    trial(1, 0.85, { estimator: 'rf' }),
    trial(2, 0.9, { estimator: 'lgbm' }),
    trial(3, 0.85, { estimator: 'rf' }),
    trial(4, 0.95, { estimator: 'xgboost', state: 'failed' })
  ];
  it('marks the best trial of each estimator, ties to the earlier trial', () => {
    // rule: one per estimator; a failed trial never counts
    expect([...bestPerEstimator(automl, 'maximize')].sort()).toEqual([
      'r1',
      'r2'
    ]);
    expect([...bestPerEstimator(automl, 'minimize')].sort()).toEqual([
      'r0',
      'r1'
    ]);
  });
  it('prefers a finished trial to one stopped early, as the sweep summary does', () => {
    const sweep = [
      trial(0, 0.6),
      trial(1, 0.99, { state: 'killed', terminated_by: 'bandit' })
    ];
    expect(bestTrial(sweep, 'maximize')?.number).toBe(0);
    expect(bestTrial([], 'maximize')).toBeNull();
  });
  it('gives the best-so-far series in trial order', () => {
    const trials = [
      trial(2, 0.5),
      trial(0, 0.3),
      trial(1, 0.7),
      trial(3, null)
    ];
    // rule: non-decreasing for maximize, one point per scored trial
    expect(bestSoFar(trials, 'maximize')).toEqual({
      numbers: [0, 1, 2],
      values: [0.3, 0.7, 0.7]
    });
    expect(bestSoFar(trials, 'minimize').values).toEqual([0.3, 0.3, 0.3]);
  });
});

describe('early-terminated trials', () => {
  it('tells a policy stop from a timeout and from an interrupt', () => {
    const bandit = trial(0, 0.1, { state: 'killed', terminated_by: 'bandit' });
    const median = trial(1, 0.1, {
      state: 'killed',
      terminated_by: 'median_stopping'
    });
    const timeout = trial(2, 0.1, {
      state: 'killed',
      terminated_by: 'trial_timeout'
    });
    expect([bandit, median, timeout].map(stoppedEarly)).toEqual([
      true,
      true,
      false
    ]);
    expect(stateLabel(median)).toBe('stopped early (median stopping)');
    expect(stateLabel(timeout)).toBe('stopped (trial timeout)');
    expect(stateLabel(trial(3, 1))).toBe('finished');
  });
});

describe('trialColumns', () => {
  it('lists params then other metrics; one config column for many params', () => {
    const few = [
      trial(0, 1, { params: { b: '1', a: '2' }, metrics: { acc: 1, loss: 2 } })
    ];
    expect(trialColumns(few, ['c'], 'acc')).toEqual([
      'number',
      'state',
      'value',
      'param:a',
      'param:b',
      'param:c',
      'metric:loss'
    ]);
    const params = Object.fromEntries(
      [...Array(9).keys()].map(i => [`p${i}`, '1'])
    );
    const many = [trial(0, 1, { params, estimator: 'rf' })];
    // rule: AutoML's many per-estimator params fold into one column; estimator shown
    expect(trialColumns(many, [], 'acc')).toEqual([
      'number',
      'state',
      'estimator',
      'value',
      'config'
    ]);
  });
});

describe('splitSystemKeys', () => {
  it('sets MLflow system metrics apart from the model metrics', () => {
    expect(
      splitSystemKeys([
        'loss',
        'system/cpu_utilization_percentage',
        'acc',
        'system/gpu_0_memory_usage_megabytes'
      ])
    ).toEqual({
      model: ['loss', 'acc'],
      system: [
        'system/cpu_utilization_percentage',
        'system/gpu_0_memory_usage_megabytes'
      ]
    });
  });
});
