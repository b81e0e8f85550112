"""Search-space parsing, values, errors; sampling (grid capping, seeds); settings and docs."""

from __future__ import annotations

import doctest
import importlib
import math
import statistics

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from nbstudio.sweep.errors import SpaceError, SweepError
from nbstudio.sweep.sampling import grid_size, make_sampler
from nbstudio.sweep.settings import SweepSettings, parse_duration, parse_goal
from nbstudio.sweep.space import (
    choice,
    is_distribution_text,
    loguniform,
    parse_distribution,
    parse_space,
    quniform,
    uniform,
)


@pytest.mark.parametrize(
    ("text", "raw", "expected"),
    [
        pytest.param("choice('linear', 'rbf')", 1, "rbf", id="choice"),
        pytest.param("choice([1, 2, 3])", 2, 3, id="choice-one-list"),
        pytest.param("choice(range(1, 4))", 0, 1, id="choice-range"),
        pytest.param("choice([64, 32], [128])", 1, [128], id="choice-of-lists"),
        pytest.param("randint(5)", 4, 4, id="randint"),
        pytest.param("uniform(0, 1)", 0.25, 0.25, id="uniform"),
        pytest.param("quniform(0, 10, 2)", 3.2, 4, id="quniform-int-q"),
        pytest.param("quniform(0, 1, 0.1)", 0.33, 0.3, id="quniform-float-q"),
        pytest.param("loguniform(1e-3, 1e2)", 0.5, 0.5, id="loguniform"),
        pytest.param("qloguniform(1, 1000, 10)", 123.0, 120, id="qloguniform"),
        pytest.param("normal(3, 2)", 0.5, 3.0, id="normal-median"),
        pytest.param("lognormal(0, 1)", 0.5, 1.0, id="lognormal-median"),
        pytest.param(
            "qnormal(0, 1, 0.5)",
            0.6,
            0.5,
            id="qnormal",  # inv_cdf(0.6) = 0.253 -> round(0.507) * 0.5 = 0.5
        ),
        pytest.param(
            "qlognormal(0, 1, 1)",
            0.9,
            4,
            id="qlognormal",  # exp(inv_cdf(0.9)) = exp(1.2816) = 3.60 -> 4
        ),
        pytest.param("LogUniform(1, 10)", 2.0, 2.0, id="azure-capitalised-name"),
    ],
)
def test_values_from_raw(text, raw, expected):
    # Rule: each distribution maps Optuna's raw sample to the value Azure would give.
    assert parse_distribution(text).value(raw) == pytest.approx(expected)


def test_quantized_is_round_x_over_q_times_q():
    # Rule: quantized values are round(x / q) * q.
    dist = quniform(0.5, 10, 1.5)
    for x in (0.5, 2.2, 5.9, 9.99):
        assert dist.value(x) == pytest.approx(round(x / 1.5) * 1.5)


def test_normal_maps_probabilities_through_inverse_cdf():
    # Rule: normal(mu, sigma) samples p in (0, 1) and returns mu + sigma * Phi^-1(p).
    dist = parse_distribution("normal(10, 2)")
    assert dist.to_optuna() == FloatDistribution(1e-6, 1 - 1e-6)
    assert dist.value(0.975) == pytest.approx(statistics.NormalDist(10, 2).inv_cdf(0.975))


@pytest.mark.parametrize(
    ("text", "optuna_dist"),
    [
        pytest.param("choice('a', 'b', 'c')", CategoricalDistribution((0, 1, 2)), id="choice"),
        pytest.param("randint(3)", IntDistribution(0, 2), id="randint-upper-exclusive"),
        pytest.param("uniform(-1, 1)", FloatDistribution(-1, 1), id="uniform"),
        pytest.param(
            "loguniform(1e-3, 1e2)", FloatDistribution(1e-3, 1e2, log=True), id="loguniform"
        ),
        pytest.param(
            "loguniform(min_value=-2, max_value=3, natural_log=True)",
            FloatDistribution(math.exp(-2), math.exp(3), log=True),
            id="azure-natural-log",
        ),
    ],
)
def test_optuna_distributions(text, optuna_dist):
    # Rule: Optuna samples a distribution with the same support (natural-log form: exp bounds).
    assert parse_distribution(text).to_optuna() == optuna_dist


@pytest.mark.parametrize(
    "text",
    [
        "choice('linear', 'rbf')",
        "choice([64, 32], [128])",
        "randint(10)",
        "uniform(-1.5, 2)",
        "quniform(0, 10, 2)",
        "loguniform(0.001, 100.0)",
        "loguniform(min_value=-7, max_value=4.6, natural_log=True)",
        "qloguniform(1, 1000, 10)",
        "qloguniform(min_value=0, max_value=5, natural_log=True, q=2)",
        "normal(0, 1)",
        "lognormal(0, 1)",
        "qnormal(0, 1, 0.5)",
        "qlognormal(0, 1, 1)",
    ],
)
def test_expression_round_trips(text):
    # Rule: a space stored as text on the parent run reads back to an equal distribution.
    dist = parse_distribution(text)
    assert parse_distribution(dist.expression()) == dist


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("uniform(2, 1)", r"low \(2\) must be less than high \(1\)", id="lo>hi"),
        pytest.param("uniform(1, 1)", "must be less than", id="lo=hi"),
        pytest.param("loguniform(1e2, 1e-3)", "must be less than", id="log-lo>hi"),
        pytest.param("loguniform(0, 1)", "bounds are values and must be > 0", id="log-zero"),
        pytest.param(
            "loguniform(min_value=-3, max_value=2)",
            "natural-log form: add natural_log=True",
            id="azure-form-needs-flag",
        ),
        pytest.param("choice()", "at least one value", id="empty-choice"),
        pytest.param("choice([])", "at least one value", id="empty-list"),
        pytest.param("quniform(0, 1, 0)", "q must be > 0", id="q-zero"),
        pytest.param("qloguniform(1, 10, -1)", "q must be > 0", id="q-negative"),
        pytest.param("quniform(0, 1)", "q is missing", id="q-missing"),
        pytest.param("randint(0)", "upper must be an integer >= 1", id="randint-0"),
        pytest.param("randint(2.5)", "upper must be an integer", id="randint-float"),
        pytest.param("normal(0, 0)", "sigma must be > 0", id="sigma-zero"),
        pytest.param("uniform('a', 1)", "must be a finite number", id="not-number"),
        pytest.param("uniform(0, float('inf'))", "is not a literal", id="inf-call"),
        pytest.param("gaussian(0, 1)", "unknown distribution 'gaussian'", id="unknown"),
        pytest.param("uniform(x, 1)", "'x' .* is not a literal", id="name-argument"),
        pytest.param("choice(__import__('os'))", "is not a literal", id="no-code"),
        pytest.param("uniform(0, 1, 2)", "takes from 0 to 2 positional", id="too-many-args"),
        pytest.param("uniform(0, 1", "is not an expression", id="syntax"),
        pytest.param("choice(*[1, 2])", "not supported", id="starred"),
        pytest.param("choice(range(1.5))", "range", id="range-float"),
    ],
)
def test_bad_spaces_are_clear_errors(text, message):
    # Rule: a bad distribution is a SpaceError naming what is wrong, never a deep traceback.
    with pytest.raises(SpaceError, match=message):
        parse_distribution(text)


def test_parse_space_splits_distributions_from_fixed_values():
    # Rule: distribution texts and objects form the space; anything else is a fixed param.
    space, fixed = parse_space(
        {"C": "loguniform(1e-3, 1e2)", "kernel": choice("linear", "rbf"), "tol": 1e-4, "x": "rbf"}
    )
    assert set(space) == {"C", "kernel"}
    assert fixed == {"tol": 1e-4, "x": "rbf"}


def test_parse_space_names_the_bad_parameter():
    # Rule: the error says which parameter's distribution is wrong.
    with pytest.raises(SpaceError, match=r"^C: "):
        parse_space({"C": "loguniform(0, 1)"})
    with pytest.raises(SpaceError, match="not a valid Python identifier"):
        parse_space({"learning-rate": "uniform(0, 1)"})


def test_is_distribution_text():
    # Rule: only calls of distribution names are distributions; other strings are values.
    assert is_distribution_text("uniform(0, 1)")
    assert not is_distribution_text("rbf")
    assert not is_distribution_text("print(1)")


# -- sampling -----------------------------------------------------------------------------------


def _settings(space, sampling="grid", max_total_trials=20):
    return SweepSettings.create(
        metric="m",
        goal="maximize",
        space=space,
        sampling=sampling,
        max_total_trials=max_total_trials,
        seed=0,
    )


def test_grid_caps_max_trials_at_grid_size():
    # Rule: grid sampling runs every combination once: max_total_trials is capped at the grid size.
    space = {"a": choice(1, 2), "b": choice("x", "y", "z")}
    assert grid_size(space) == 6
    assert _settings(space, max_total_trials=20).max_total_trials == 6
    assert _settings(space, max_total_trials=4).max_total_trials == 4


def test_grid_over_continuous_distribution_is_an_error():
    # Rule: grid sampling needs choice(...) for every parameter.
    with pytest.raises(SweepError, match="grid sampling needs choice"):
        _settings({"a": choice(1, 2), "lr": uniform(0, 1)})


def _sample(sampling, space, seed, n=8):
    sampler = make_sampler(sampling, space, seed)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    dists = {k: d.to_optuna() for k, d in space.items()}
    points = []
    for _ in range(n):
        trial = study.ask(dists)
        values = {k: d.value(trial.params[k]) for k, d in space.items()}
        points.append(values)
        study.tell(trial, -abs(values.get("x", 0) - 0.3))
    return points


def test_grid_visits_every_combination_once():
    # Rule: grid sampling yields each combination exactly once.
    space = {"a": choice(1, 2), "b": choice("x", "y", "z")}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    points = _sample("grid", space, seed=0, n=6)
    assert sorted((p["a"], p["b"]) for p in points) == sorted(
        (a, b) for a in (1, 2) for b in ("x", "y", "z")
    )


@pytest.mark.parametrize("sampling", ["random", "sobol", "bayesian", "grid"])
def test_seeds_make_sampling_reproducible(sampling):
    # Rule: the same seed gives the same points; another seed gives others.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampling == "grid":
        space = {"x": choice(*[i / 10 for i in range(10)]), "k": choice("a", "b")}
    else:
        space = {"x": uniform(0, 1), "lr": loguniform(1e-4, 1), "k": choice("a", "b")}
    n = 12 if sampling == "bayesian" else 8  # past TPE's 10 random startup trials
    assert _sample(sampling, space, 7, n) == _sample(sampling, space, 7, n)
    assert _sample(sampling, space, 7, n) != _sample(sampling, space, 8, n)


def test_unknown_sampling_is_an_error():
    # Rule: only grid, random, sobol, bayesian are sampling algorithms.
    with pytest.raises(SweepError, match="unknown sampling 'hyperband'"):
        _settings({"x": uniform(0, 1)}, sampling="hyperband")


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("maximize:accuracy", ("maximize", "accuracy"), id="maximize"),
        pytest.param("min:val_loss", ("minimize", "val_loss"), id="min-alias"),
    ],
)
def test_parse_goal(text, expected):
    # Rule: --sweep GOAL:METRIC names the direction and the primary metric.
    assert parse_goal(text) == expected


@pytest.mark.parametrize("text", ["accuracy", "up:accuracy", "maximize:"])
def test_bad_goal(text):
    # Rule: a goal that is not maximize/minimize:METRIC is a clear error.
    with pytest.raises(SweepError, match="expected maximize:METRIC"):
        parse_goal(text)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param(600, 600.0, id="int"),
        pytest.param("90s", 90.0, id="s"),
        pytest.param("10m", 600.0, id="m"),
        pytest.param("1.5h", 5400.0, id="h"),
        pytest.param("30", 30.0, id="bare"),
    ],
)
def test_parse_duration(value, seconds):
    # Rule: timeouts are seconds, or a number with s/m/h/d.
    assert parse_duration(value, "--timeout") == seconds


@pytest.mark.parametrize("value", ["soon", "-5", 0])
def test_bad_duration(value):
    # Rule: a bad timeout is a clear error.
    with pytest.raises(SweepError, match="--timeout"):
        parse_duration(value, "--timeout")


def test_settings_round_trip_through_tags():
    # Rule: everything that defines the sweep is stored on the parent run and reads back equal.
    settings = SweepSettings.create(
        metric="accuracy",
        goal="maximize",
        space={"C": loguniform(1e-3, 1e2), "k": choice("linear", "rbf")},
        fixed={"tol": 1e-4, "name": "x"},
        sampling="bayesian",
        policy="bandit(slack_factor=0.1, delay_evaluation=5)",
        max_total_trials=30,
        timeout="10m",
        trial_timeout=60,
        seed=42,
    )
    assert SweepSettings.from_tags(settings.to_tags()) == settings


def test_settings_without_seed_draw_and_keep_one():
    # Rule: a sweep always records a seed, so it can be replayed.
    settings = _settings({"x": uniform(0, 1)}, sampling="random")
    again = SweepSettings.create(metric="m", goal="maximize", space={"x": uniform(0, 1)})
    assert isinstance(again.seed, int)
    assert SweepSettings.from_tags(again.to_tags()).seed == again.seed
    assert settings.seed == 0


@pytest.mark.parametrize(
    "module",
    [
        "nbstudio.sweep.space",
        "nbstudio.sweep.policies",
        "nbstudio.sweep.policies._bandit",
        "nbstudio.sweep.policies._median",
        "nbstudio.sweep.policies._truncation",
    ],
)
def test_docstring_examples(module):
    # Rule: the runnable examples in the docstrings are true.
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0
    assert result.attempted > 0
