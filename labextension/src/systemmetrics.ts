/**
 * MLflow's system metrics (``mlflow.enable_system_metrics_logging()``, ``%%mlrun
 * --system-metrics``) are logged as ``system/...`` keys; the run view charts them as a group of
 * their own, apart from the model's metrics.
 */

export function isSystemMetric(key: string): boolean {
  return key.startsWith('system/');
}

/** Metric keys split into the model's and the system's (each in the order given). */
export function splitSystemKeys(keys: readonly string[]): {
  model: string[];
  system: string[];
} {
  return {
    model: keys.filter(k => !isSystemMetric(k)),
    system: keys.filter(isSystemMetric)
  };
}
