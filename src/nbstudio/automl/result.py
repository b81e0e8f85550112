"""`AutoMLResult`: what a job found, read back from MLflow (the leaderboard) or refit on demand.

The leaderboard is built from the child runs in the store, so it is the same table whether the
job ran in this kernel, on a Dask node or in another notebook (`get_automl`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbstudio.automl.errors import AutoMLError
from nbstudio.automl.settings import AutoMLSettings
from nbstudio.automl.trials import PARAM_ESTIMATOR, TAG_ESTIMATOR, TAG_TRIAL

#: Metrics of a trial run that are not the primary metric, in the leaderboard's column order.
TRIAL_METRICS = ("train_time", "wall_clock_time", "sample_size", "pred_time")


def leaderboard(parent_run_id: str, metric: str, higher_is_better: bool) -> pd.DataFrame:
    """One row per trial of the job ``parent_run_id``, best first; the best of each estimator
    marked in ``best_of_estimator`` and the job's best in ``best``."""
    from nbstudio.session import get_session

    client = get_session().client()
    parent = client.get_run(parent_run_id)
    runs = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'",
        max_results=50000,
    )
    rows = []
    for run in runs:
        params = dict(run.data.params)
        estimator = params.pop(PARAM_ESTIMATOR, run.data.tags.get(TAG_ESTIMATOR, ""))
        row: dict[str, Any] = {
            "trial": int(run.data.tags.get(TAG_TRIAL, -1)),
            "estimator": estimator,
            metric: run.data.metrics.get(metric),
        }
        for key in TRIAL_METRICS:
            row[key] = run.data.metrics.get(key)
        row["config"] = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        row["run_id"] = run.info.run_id
        rows.append(row)
    columns = ["trial", "estimator", metric, *TRIAL_METRICS, "config", "run_id"]
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        table["best_of_estimator"] = pd.Series(dtype=bool)
        table["best"] = pd.Series(dtype=bool)
        return table
    # Ties go to the earlier trial, as in FLAML.
    table = table.sort_values([metric, "trial"], ascending=[not higher_is_better, True])
    table["best_of_estimator"] = ~table.duplicated("estimator")
    table["best"] = False
    table.iloc[0, table.columns.get_loc("best")] = True
    return table.reset_index(drop=True)


class BestPerEstimator(Mapping[str, Any]):
    """The best configuration of each estimator tried, refit on the training data when asked.

    ``result.best_per_estimator["rf"]`` trains (once, then cached) a FLAML ``AutoML`` holding just
    that estimator with its best configuration: a scikit-learn estimator predicting the labels as
    given; its ``.model.estimator`` is the bare library model.
    """

    def __init__(self, result: AutoMLResult) -> None:
        self._result = result
        self._fitted: dict[str, Any] = {}

    def _configs(self) -> dict[str, dict[str, Any]]:
        configs = self._result.automl.best_config_per_estimator or {}
        return {name: dict(config) for name, config in configs.items() if config is not None}

    def __getitem__(self, name: str) -> Any:
        configs = self._configs()
        if name not in configs:
            raise KeyError(
                f"{name!r} was not tried: best_per_estimator has {', '.join(configs) or 'nothing'}"
            )
        if name not in self._fitted:
            self._fitted[name] = self._refit(name, configs[name])
        return self._fitted[name]

    def _refit(self, name: str, config: dict[str, Any]) -> Any:
        from flaml import AutoML

        if self._result.data is None:
            raise AutoMLError("The training data is not kept with this result: nothing to refit.")
        X, y = self._result.data
        config.pop("FLAML_sample_size", None)
        settings = self._result.settings
        model = AutoML()
        args = settings.flaml_args()
        args.update(
            estimator_list=[name],
            starting_points={name: config},
            max_iter=1,
            time_budget=-1,
            early_stop=False,
            log_type="better",
        )
        args.pop("train_time_limit", None)
        model.fit(X, y, **args)
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(self._configs())

    def __len__(self) -> int:
        return len(self._configs())

    def __repr__(self) -> str:
        return f"BestPerEstimator({', '.join(self)}; refit on access)"


@dataclass
class AutoMLResult:
    """A finished AutoML job: ``leaderboard``, ``best``, ``model``, ``best_per_estimator``."""

    parent_run_id: str
    settings: AutoMLSettings
    automl: Any = field(repr=False)
    model_uri: str = ""
    registered: Any = None
    evaluation: Any = field(default=None, repr=False)
    data: tuple[Any, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.best_per_estimator = BestPerEstimator(self)

    @property
    def metric(self) -> str:
        return self.settings.metric.name

    @property
    def model(self) -> Any:
        """The best model: FLAML's fitted pipeline, predicting the labels as given."""
        return self.automl

    @property
    def leaderboard(self) -> pd.DataFrame:
        """Every trial, best first (read from the child runs)."""
        return leaderboard(self.parent_run_id, self.metric, self.settings.metric.higher_is_better)

    @property
    def best(self) -> dict[str, Any]:
        """The best trial: estimator, config, score, trial number and child run id."""
        table = self.leaderboard
        config = dict(self.automl.best_config or {})
        if table.empty:
            return {"estimator": self.automl.best_estimator, "config": config}
        top = table.iloc[0]
        return {
            "estimator": self.automl.best_estimator,
            "config": config,
            self.metric: float(top[self.metric]),
            "trial": int(top["trial"]),
            "run_id": top["run_id"],
        }

    def register(self, name: str, aliases: list[str] | tuple[str, ...] = ()) -> Any:
        """Register the best model (logged to the job's parent run) under ``name``."""
        from nbstudio.automl.job import requirements_for
        from nbstudio.models.registry import register_model

        self.registered = register_model(
            self.model,
            name,
            aliases=list(aliases),
            run_id=self.parent_run_id,
            requirements=requirements_for(self.automl.best_estimator),
        )
        return self.registered

    def evaluate(self, X_test: Any, y_test: Any, **options: Any) -> Any:
        """Evaluate the best model on test data, logged to the job's parent run."""
        from nbstudio.evaluation import evaluate

        self.evaluation = evaluate(self.model, X_test, y_test, run_id=self.parent_run_id, **options)
        return self.evaluation

    def __repr__(self) -> str:
        trials = len(self.leaderboard)
        best = self.best
        score = best.get(self.metric)
        shown = f"{score:.4f}" if isinstance(score, float) else "?"
        registered = f"; {self.registered!r}" if self.registered is not None else ""
        return (
            f"AutoML {self.settings.task} job {self.parent_run_id}: {trials} trials, best "
            f"{best['estimator']} with {self.metric}={shown} (validation){registered}"
        )

    def _repr_html_(self) -> str:
        from nbstudio.automl.leaderboard_html import leaderboard_html

        return leaderboard_html(self)
