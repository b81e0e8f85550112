import { groupTags } from '../runtags';

describe('groupTags', () => {
  it('sets bookkeeping tags apart as system, keeps the user’s', () => {
    const groups = groupTags({
      team: 'churn',
      'mlflow.note.content': 'first try',
      'nbstudio.pid': '4242',
      'nbstudio.pid_started': '1700000000.5',
      'nbstudio.host': 'box',
      'mlflow.source.name': 'train.ipynb'
    });
    // rule: a user's tags and the description stay; nbstudio's and MLflow's bookkeeping go to system
    expect(groups.user).toEqual({
      team: 'churn',
      'mlflow.note.content': 'first try'
    });
    expect(Object.keys(groups.system).sort()).toEqual([
      'mlflow.source.name',
      'nbstudio.host',
      'nbstudio.pid',
      'nbstudio.pid_started'
    ]);
    // rule: a run that is not a sweep has no sweep table
    expect(groups.sweep).toBeNull();
  });

  it('shows a sweep parent’s settings as readable rows and its best run', () => {
    const groups = groupTags({
      'nbstudio.sweep': 'true',
      'nbstudio.sweep.goal': 'maximize',
      'nbstudio.primary_metric': 'accuracy',
      'nbstudio.sweep.space': '{"C": "loguniform(0.01, 10)"}',
      'nbstudio.sweep.fixed_params': '{}',
      'nbstudio.sweep.max_total_trials': '4',
      'nbstudio.sweep.timeout': '',
      'nbstudio.sweep.best_run_id': 'abc',
      'nbstudio.pid': '1'
    });
    // rule: set settings in a fixed order with labels, JSON spaces as "name = distribution"
    expect(groups.sweep).toEqual([
      ['goal', 'maximize'],
      ['primary metric', 'accuracy'],
      ['search space', 'C = loguniform(0.01, 10)'],
      ['fixed params', '—'],
      ['max trials', '4']
    ]);
    expect(groups.bestRunId).toBe('abc');
    // rule: no raw nbstudio.sweep.* tag is left in the user's or system's tags
    expect(Object.keys(groups.user)).toEqual([]);
    expect(Object.keys(groups.system)).toEqual(['nbstudio.pid']);
  });
});
