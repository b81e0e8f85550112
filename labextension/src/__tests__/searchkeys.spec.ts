import type { IRunSummary } from '../api';
import { filterKeys, quoteKey, sortOptions } from '../searchkeys';

function run(
  params: Record<string, string>,
  metrics: Record<string, number>
): IRunSummary {
  return {
    run_id: 'r',
    run_name: 'r',
    experiment_id: '1',
    status: 'FINISHED',
    start_time: 1,
    end_time: 2,
    duration: 1,
    params,
    metrics,
    parent_run_id: null,
    primary_metric: null
  };
}

describe('filterKeys', () => {
  it('offers the metrics and params the runs have, then attributes and tags', () => {
    const keys = filterKeys([
      run({ kernel: 'rbf' }, { acc: 0.9 }),
      run({ 'max depth': '3' }, { 'val/loss': 0.2 })
    ]);
    // rule: existing keys in MLflow syntax, odd names backquoted
    expect(keys.slice(0, 4)).toEqual([
      'metrics.acc',
      'metrics.`val/loss`',
      'params.kernel',
      'params.`max depth`'
    ]);
    expect(keys).toContain('attributes.status');
    expect(keys).toContain('tags.`mlflow.source.name`');
  });

  it('quotes only what needs it', () => {
    // rule: plain identifiers stay bare
    expect(quoteKey('metrics', 'f1_score')).toBe('metrics.f1_score');
    expect(quoteKey('params', 'lr-decay')).toBe('params.`lr-decay`');
  });
});

describe('sortOptions', () => {
  it('sorts by any column both ways, newest first by default', () => {
    const options = sortOptions([run({ C: '1' }, { acc: 0.9 })]);
    // rule: the default is the API's order; every metric and param both ways
    expect(options[0]).toEqual({ label: 'newest first', orderBy: '' });
    expect(options.map(o => o.orderBy)).toEqual(
      expect.arrayContaining([
        'metrics.acc DESC',
        'metrics.acc ASC',
        'params.C DESC',
        'attributes.run_name ASC'
      ])
    );
  });
});
