"""Sweep benchmarks: overhead, early termination, sampling, each against its baseline, in one run.

1. Overhead: a sweep of 100 trivial trials (``nbstudio.sweep``) vs a hand-written loop of Optuna
   ask/tell plus one MLflow child run per trial, on the same store. Target: <= 1.5x.
2. Early termination: 40 trials of synthetic learning curves and 40 trials of SGDClassifier
   (``partial_fit`` on digits), with ``median_stopping`` and ``bandit(0.1)`` vs no policy, the same
   40 configurations each time (random sampling, same seed). Targets: reported steps saved >= 30 %,
   best metric within 1 % of the no-policy best.
3. Sampling: trials until within 1 % of the optimum of a known 3-parameter function, bayesian vs
   random, median over 10 seeds; measured on nbstudio's sampler layer (``make_sampler`` and the
   space's value mapping) without MLflow runs, since only the choice of points matters here.
   Target: bayesian needs at most half the trials of random.

Run: ``MLFLOW_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/sweep.py`` (about 2-3 minutes).
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
warnings.filterwarnings("ignore")
logging.getLogger("mlflow").setLevel(logging.WARNING)

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402

import nbstudio  # noqa: E402
from nbstudio.session import get_session, reset_session  # noqa: E402
from nbstudio.sweep.sampling import make_sampler  # noqa: E402
from nbstudio.sweep.space import parse_space  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def open_workspace() -> None:
    root = Path(tempfile.mkdtemp(prefix="nbstudio-bench-"))
    (root / "nbstudio.toml").write_text("")
    os.chdir(root)
    reset_session()
    get_session().workspace  # noqa: B018


# -- 1. overhead ---------------------------------------------------------------------------------


def trivial(x: float) -> None:
    mlflow.log_metric("m", x)


def nbstudio_loop(n: int) -> float:
    started = time.perf_counter()
    nbstudio.sweep(trivial, {"x": "uniform(0, 1)"}, goal="maximize:m", max_total_trials=n, seed=1)
    return time.perf_counter() - started


def hand_loop(n: int) -> float:
    started = time.perf_counter()
    experiment_id = get_session().experiment_id()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1), direction="maximize")
    dists = {"x": optuna.distributions.FloatDistribution(0, 1)}
    with mlflow.start_run(experiment_id=experiment_id, run_name="hand-written"):
        for _ in range(n):
            trial = study.ask(dists)
            with mlflow.start_run(experiment_id=experiment_id, nested=True):
                mlflow.log_params(trial.params)
                trivial(**trial.params)
            study.tell(trial, trial.params["x"])
    return time.perf_counter() - started


OVERHEAD_ROUNDS = 7


def overhead() -> dict[str, float]:
    """Alternating rounds on one store, so that a busy moment of the machine or a growing store
    weighs on both loops alike; the ratio is of the medians."""
    open_workspace()
    hand_loop(5), nbstudio_loop(5)  # warm up both paths (imports, caches)
    hands, ours = [], []
    for _ in range(OVERHEAD_ROUNDS):
        hands.append(hand_loop(100))
        ours.append(nbstudio_loop(100))
    hand, mine = statistics.median(hands), statistics.median(ours)
    return {"hand": hand, "nbstudio": mine, "ratio": mine / hand}


# -- 2. early termination ------------------------------------------------------------------------

CURVE_STEPS = 30


def synthetic_curve(lr: float, width: int, noise_seed: float) -> None:
    """A learning curve: its plateau depends on lr (best near 1e-2) and width, its speed on
    width alone, plus a small wobble."""
    plateau = 0.55 + 0.4 * math.exp(-((math.log10(lr) + 2) ** 2) / 1.5)
    plateau -= 0.02 * abs(width - 64) / 64
    rate = 0.1 + 0.1 * width / 128
    for step in range(CURVE_STEPS):
        wobble = 0.005 * math.sin(step + 10 * noise_seed)
        mlflow.log_metric("accuracy", plateau * (1 - math.exp(-rate * (step + 1))) + wobble)


_DIGITS: tuple | None = None
SGD_EPOCHS = 20


def sgd_digits(alpha: float, eta0: float, learning_rate: str) -> None:
    """SGDClassifier on digits, one report of validation accuracy per epoch."""
    global _DIGITS
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if _DIGITS is None:
        x, y = load_digits(return_X_y=True)
        x = StandardScaler().fit_transform(x)
        _DIGITS = train_test_split(x, y, test_size=0.3, random_state=0)
    x_train, x_val, y_train, y_val = _DIGITS
    model = SGDClassifier(alpha=alpha, eta0=eta0, learning_rate=learning_rate, random_state=0)
    classes = np.unique(y_train)
    for _ in range(SGD_EPOCHS):
        model.partial_fit(x_train, y_train, classes=classes)
        mlflow.log_metric("accuracy", model.score(x_val, y_val))


WORKLOADS = {
    "synthetic curves": (
        synthetic_curve,
        {
            "lr": "loguniform(1e-4, 1)",
            "width": "choice(16, 32, 64, 128)",
            "noise_seed": "uniform(0, 1)",
        },
    ),
    "SGDClassifier digits": (
        sgd_digits,
        {
            "alpha": "loguniform(1e-6, 1)",
            "eta0": "loguniform(1e-5, 10)",
            "learning_rate": "choice('constant', 'invscaling', 'adaptive')",
        },
    ),
}
POLICIES = ["none", "median_stopping()", "bandit(0.1)"]


def early_termination() -> list[dict]:
    rows = []
    for workload, (body, space) in WORKLOADS.items():
        baseline = None
        for policy in POLICIES:
            open_workspace()
            started = time.perf_counter()
            sweep = nbstudio.sweep(
                body,
                space,
                goal="maximize:accuracy",
                sampling="random",
                policy=policy,
                max_total_trials=40,
                seed=7,
            )
            seconds = time.perf_counter() - started
            client = get_session().client()
            steps = sum(
                len(client.get_metric_history(run_id, "accuracy"))
                for run_id in sweep.trials["run_id"]
            )
            row = {
                "workload": workload,
                "policy": policy,
                "steps": steps,
                "killed": int((sweep.trials["state"] == "killed").sum()),
                "best": sweep.best.value,
                "seconds": seconds,
            }
            if baseline is None:
                baseline = row
            row["saved"] = 1 - steps / baseline["steps"]
            row["best_gap"] = (baseline["best"] - row["best"]) / baseline["best"]
            rows.append(row)
    return rows


# -- 3. sampling ---------------------------------------------------------------------------------

SAMPLING_SPACE, _ = parse_space(
    {"x": "uniform(0, 1)", "y": "uniform(0, 1)", "lr": "loguniform(1e-4, 1)"}
)
OPTIMUM = 1.0
MAX_TRIALS = 2000


def test_function(x: float, y: float, lr: float) -> float:
    """Maximum 1.0 at x=0.3, y=0.7, lr=1e-2 (a sphere in the normalised search space)."""
    return 1.0 - ((x - 0.3) ** 2 + (y - 0.7) ** 2 + ((math.log10(lr) + 2) / 4) ** 2)


def trials_to_optimum(sampling: str, seed: int) -> int:
    sampler = make_sampler(sampling, SAMPLING_SPACE, seed)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    dists = {k: d.to_optuna() for k, d in SAMPLING_SPACE.items()}
    for n in range(1, MAX_TRIALS + 1):
        trial = study.ask(dists)
        values = {k: d.value(trial.params[k]) for k, d in SAMPLING_SPACE.items()}
        value = test_function(**values)
        study.tell(trial, value)
        if value >= OPTIMUM * 0.99:
            return n
    return MAX_TRIALS


def sampling() -> dict[str, float]:
    results = {}
    for name in ("bayesian", "random"):
        counts = [trials_to_optimum(name, seed) for seed in range(10)]
        results[name] = statistics.median(counts)
        results[f"{name}_all"] = counts
    results["ratio"] = results["bayesian"] / results["random"]
    return results


def main() -> None:
    began = time.perf_counter()
    print("== 1. Overhead: 100 trivial trials on the same SQLite store ==")
    o = overhead()
    print(f"hand-written Optuna ask/tell + MLflow child runs: {o['hand']:.2f} s")
    print(f"nbstudio.sweep:                                    {o['nbstudio']:.2f} s")
    print(f"ratio nbstudio / hand-written: {o['ratio']:.2f}x  (target <= 1.5x)")

    print("\n== 2. Early termination: 40 trials, random sampling, same configurations ==")
    print(
        f"{'workload':22} {'policy':18} {'steps':>6} {'saved':>7} {'killed':>6} "
        f"{'best':>8} {'vs none':>8} {'time':>7}"
    )
    for r in early_termination():
        print(
            f"{r['workload']:22} {r['policy']:18} {r['steps']:6d} {r['saved']:7.1%} "
            f"{r['killed']:6d} {r['best']:8.4f} {-r['best_gap']:+8.2%} {r['seconds']:6.1f}s"
        )
    print("targets: saved >= 30 %, best within 1 % of no policy (vs none >= -1.00 %)")

    print("\n== 3. Sampling: trials to within 1 % of the optimum, median of 10 seeds ==")
    s = sampling()
    print(f"bayesian (TPE): median {s['bayesian']:.0f} trials  {s['bayesian_all']}")
    print(f"random:         median {s['random']:.0f} trials  {s['random_all']}")
    print(f"ratio bayesian / random: {s['ratio']:.2f}  (target <= 0.5)")
    print(f"\ntotal time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
