/**
 * Pure logic of a run's tags in the run view: the user's tags, a sweep's settings as a table of
 * readable rows (not raw ``nbstudio.sweep.*`` tags), and nbstudio's and MLflow's bookkeeping
 * (``nbstudio.pid``, ``nbstudio.host``, ``mlflow.source.*``, ...) set apart as "system".
 */

/** The tag that makes a run a sweep's parent, and the one naming its best trial. */
export const SWEEP_TAG = 'nbstudio.sweep';
export const BEST_RUN_TAG = 'nbstudio.sweep.best_run_id';

/** A sweep setting's tag, its label, in the order shown. */
const SWEEP_SETTINGS: [string, string][] = [
  ['nbstudio.sweep.goal', 'goal'],
  ['nbstudio.primary_metric', 'primary metric'],
  ['nbstudio.sweep.space', 'search space'],
  ['nbstudio.sweep.fixed_params', 'fixed params'],
  ['nbstudio.sweep.sampling', 'sampling'],
  ['nbstudio.sweep.policy', 'early termination'],
  ['nbstudio.sweep.max_total_trials', 'max trials'],
  ['nbstudio.sweep.max_concurrent_trials', 'max concurrent trials'],
  ['nbstudio.sweep.timeout', 'timeout'],
  ['nbstudio.sweep.trial_timeout', 'trial timeout'],
  ['nbstudio.sweep.seed', 'seed'],
  ['nbstudio.sweep.end_reason', 'ended because']
];

/** Tags a user set or reads as theirs, though MLflow-prefixed (the run's description). */
const USER_MLFLOW_TAGS = new Set(['mlflow.note.content']);

export interface ITagGroups {
  user: Record<string, string>;
  system: Record<string, string>;
  /** The sweep's settings as [label, value] rows; null for a run that is not a sweep parent. */
  sweep: [string, string][] | null;
  bestRunId: string | null;
}

/** A JSON object tag (``{"lr": "loguniform(...)"}``) as ``lr = loguniform(...)`` lines. */
function readable(value: string): string {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const entries = Object.entries(parsed as Record<string, unknown>);
      return entries.length
        ? entries.map(([k, v]) => `${k} = ${String(v)}`).join('\n')
        : '—';
    }
  } catch {
    // not JSON: shown as it is
  }
  return value;
}

function isSystem(key: string): boolean {
  return (
    (key.startsWith('nbstudio.') || key.startsWith('mlflow.')) &&
    !USER_MLFLOW_TAGS.has(key)
  );
}

/** Split a run's tags into the user's, a sweep's settings and the system's. */
export function groupTags(tags: Record<string, string>): ITagGroups {
  const isSweep = SWEEP_TAG in tags;
  const sweepKeys = new Set(
    isSweep ? [SWEEP_TAG, BEST_RUN_TAG, ...SWEEP_SETTINGS.map(s => s[0])] : []
  );
  const user: Record<string, string> = {};
  const system: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (sweepKeys.has(key)) {
      continue;
    }
    (isSystem(key) ? system : user)[key] = value;
  }
  const sweep = isSweep
    ? SWEEP_SETTINGS.filter(([key]) => (tags[key] ?? '') !== '').map(
        ([key, label]): [string, string] => [label, readable(tags[key])]
      )
    : null;
  return {
    user,
    system,
    sweep,
    bestRunId: isSweep ? (tags[BEST_RUN_TAG] ?? null) : null
  };
}
