"""Early-termination policies on small hand-computed tables (no store, no kernel)."""

from __future__ import annotations

import pytest

from nbstudio.sweep.errors import PolicyError
from nbstudio.sweep.policies import (
    BanditPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TrialHistory,
    TruncationSelectionPolicy,
    bandit_threshold,
    in_lowest,
    parse_policy,
    truncated_count,
)


def ended(*values: float) -> TrialHistory:
    return TrialHistory(tuple(values), running=False)


def running(*values: float) -> TrialHistory:
    return TrialHistory(tuple(values), running=True)


# Each row: policy, judged trial's reports, other trials, maximize, expected decision.
# The comment on each row is the hand computation.
BANDIT_TABLE = [
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [0.6, 0.7],
        [ended(0.5, 0.8, 0.9)],
        True,
        True,
        id="max-factor-stop",  # best@2 = 0.8; 0.8/1.1 = 0.727 > 0.7
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [0.6, 0.75],
        [ended(0.5, 0.8, 0.9)],
        True,
        False,
        id="max-factor-keep",  # 0.75 >= 0.727
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [3.0, 1.2],
        [ended(2.0, 1.0)],
        False,
        True,
        id="min-factor-stop",  # best@2 = 1.0; 1.0*1.1 = 1.1 < 1.2
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [3.0, 1.05],
        [ended(2.0, 1.0)],
        False,
        False,
        id="min-factor-keep",  # 1.05 <= 1.1
    ),
    pytest.param(
        BanditPolicy(slack_amount=0.2),
        [0.6, 0.59],
        [ended(0.5, 0.8)],
        True,
        True,
        id="max-amount-stop",  # 0.8 - 0.2 = 0.6 > 0.59
    ),
    pytest.param(
        BanditPolicy(slack_amount=0.2),
        [0.6, 0.61],
        [ended(0.5, 0.8)],
        True,
        False,
        id="max-amount-keep",
    ),
    pytest.param(
        BanditPolicy(slack_amount=0.5),
        [4.0, 2.6],
        [ended(3.0, 2.0)],
        False,
        True,
        id="min-amount-stop",  # 2.0 + 0.5 = 2.5 < 2.6
    ),
    pytest.param(
        BanditPolicy(slack_amount=0.5),
        [4.0, 2.4],
        [ended(3.0, 2.0)],
        False,
        False,
        id="min-amount-keep",
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [0.5, 0.5],
        [ended(0.9)],
        True,
        False,
        id="others-that-did-not-reach-k-ignored",  # only the judged trial reported twice
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [0.5],
        [ended(0.9)],
        True,
        True,
        id="first-report-compared",  # 0.9/1.1 = 0.818 > 0.5
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1, delay_evaluation=3),
        [0.6, 0.7],
        [ended(0.5, 0.8, 0.9)],
        True,
        False,
        id="delay-not-reached",  # report 2 < delay 3
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1, delay_evaluation=3),
        [0.6, 0.7, 0.7],
        [ended(0.5, 0.8, 0.9)],
        True,
        True,
        id="delay-reached",  # best@3 = 0.9; 0.818 > 0.7
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1, evaluation_interval=2),
        [0.1],
        [ended(0.9, 0.9)],
        True,
        False,
        id="interval-skips-report-1",
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1, evaluation_interval=2),
        [0.1, 0.1],
        [ended(0.9, 0.9)],
        True,
        True,
        id="interval-acts-at-report-2",
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [-1.2],
        [ended(-1.0)],
        True,
        True,
        id="negative-max-stop",  # -1 - 1*0.1/1.1 = -1.0909 > -1.2
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [-1.0],
        [ended(-1.0)],
        True,
        False,
        id="negative-best-is-kept",  # Azure's B/(1+f) = -0.909 would stop the best itself
    ),
    pytest.param(
        BanditPolicy(slack_factor=0.1),
        [-0.5],
        [ended(-1.0)],
        False,
        True,
        id="negative-min-stop",  # -1 + 1*0.1 = -0.9 < -0.5
    ),
]


@pytest.mark.parametrize(("policy", "values", "others", "maximize", "expected"), BANDIT_TABLE)
def test_bandit_table(policy, values, others, maximize, expected):
    # Rule: bandit ends a trial worse than the best at the same interval beyond the slack.
    assert policy.should_terminate(values, others, maximize) is expected


@pytest.mark.parametrize(
    ("best", "maximize", "factor", "amount", "expected"),
    [
        pytest.param(0.8, True, 0.1, None, 0.8 / 1.1, id="max-factor"),
        pytest.param(2.0, False, 0.1, None, 2.2, id="min-factor"),
        pytest.param(0.8, True, None, 0.2, 0.6, id="max-amount"),
        pytest.param(2.0, False, None, 0.5, 2.5, id="min-amount"),
    ],
)
def test_bandit_threshold_is_azure_formula_for_positive_values(
    best, maximize, factor, amount, expected
):
    # Rule: for positive metrics the threshold is exactly Azure ML's B/(1+f), B*(1+f), B-a, B+a.
    assert bandit_threshold(best, maximize, factor, amount) == pytest.approx(expected)


MEDIAN_TABLE = [
    pytest.param(
        [0.2, 0.3],
        [ended(0.8, 0.9), ended(0.7, 0.9)],
        True,
        True,
        id="max-stop",  # averages@2: 0.25, 0.85, 0.8 -> median 0.8 > best 0.3
    ),
    pytest.param(
        [0.6, 0.85],
        [ended(0.8, 0.9), ended(0.7, 0.9)],
        True,
        False,
        id="max-keep",  # averages 0.725, 0.85, 0.8 -> median 0.8 < best 0.85
    ),
    pytest.param(
        [0.9, 0.7],
        [ended(0.8, 0.9), ended(0.7, 0.9)],
        True,
        False,
        id="best-so-far-not-latest",  # median 0.8; best so far 0.9 (latest 0.7 would stop)
    ),
    pytest.param(
        [2.0, 1.5],
        [ended(1.0, 0.8), ended(1.2, 1.0)],
        False,
        True,
        id="min-stop",  # averages 1.75, 0.9, 1.1 -> median 1.1 < best 1.5
    ),
    pytest.param(
        [1.3, 1.0],
        [ended(1.0, 0.8), ended(1.2, 1.0)],
        False,
        False,
        id="min-keep",  # averages 1.15, 0.9, 1.1 -> median 1.1 > best 1.0
    ),
    pytest.param(
        [0.2, 0.3],
        [ended(0.1, 0.1, 0.9, 0.9), ended(0.1, 0.1)],
        True,
        False,
        id="averages-over-first-k-reports",  # averages@2: 0.25, 0.1, 0.1 -> median 0.1
    ),
    pytest.param([0.1, 0.1], [], True, False, id="alone-never-stopped"),
]


@pytest.mark.parametrize(("values", "others", "maximize", "expected"), MEDIAN_TABLE)
def test_median_stopping_table(values, others, maximize, expected):
    # Rule: stop when the best value so far is worse than the median of running averages at k.
    assert MedianStoppingPolicy().should_terminate(values, others, maximize) is expected


def test_median_stopping_delay():
    # Rule: no decision before delay_evaluation reports.
    others = [ended(0.8, 0.9, 0.9)]
    policy = MedianStoppingPolicy(delay_evaluation=3)
    assert policy.should_terminate([0.1, 0.1], others, True) is False
    assert policy.should_terminate([0.1, 0.1, 0.1], others, True) is True


TRUNCATION_TABLE = [
    pytest.param(
        25,
        False,
        [0.1],
        [ended(0.9), ended(0.8), ended(0.7)],
        True,
        True,
        id="max-lowest-quarter",  # n=4, cut=1, 3 better >= 3
    ),
    pytest.param(
        25,
        False,
        [0.75],
        [ended(0.9), ended(0.8), ended(0.7)],
        True,
        False,
        id="max-not-lowest",  # 2 better < 3
    ),
    pytest.param(
        25,
        True,
        [0.1],
        [ended(0.9), ended(0.8), ended(0.7)],
        True,
        False,
        id="exclude-finished-alone",  # only the judged trial is ranked: cut=0
    ),
    pytest.param(
        25,
        True,
        [0.1],
        [running(0.9), running(0.8), running(0.7)],
        True,
        True,
        id="exclude-finished-running-kept-in-ranking",
    ),
    pytest.param(
        50,
        False,
        [0.5],
        [ended(0.1), ended(0.2), running(0.9)],
        True,
        False,
        id="with-finished",  # n=4, cut=2, 1 better < 2
    ),
    pytest.param(
        50,
        True,
        [0.5],
        [ended(0.1), ended(0.2), running(0.9)],
        True,
        True,
        id="without-finished",  # n=2, cut=1, 1 better >= 1
    ),
    pytest.param(
        20,
        False,
        [5.0],
        [ended(1.0), ended(2.0), ended(3.0), ended(4.0)],
        False,
        True,
        id="min-lowest",  # n=5, cut=1, 4 better >= 4
    ),
    pytest.param(
        20,
        False,
        [3.5],
        [ended(1.0), ended(2.0), ended(3.0), ended(4.0)],
        False,
        False,
        id="min-kept",
    ),
    pytest.param(
        20,
        False,
        [1.0],
        [ended(1.0)] * 4,
        True,
        False,
        id="ties-not-cut",
    ),
    pytest.param(
        50,
        False,
        [0.1, 0.1],
        [ended(0.9)],
        True,
        False,
        id="others-that-did-not-reach-k-ignored",
    ),
]


@pytest.mark.parametrize(
    ("percentage", "exclude", "values", "others", "maximize", "expected"), TRUNCATION_TABLE
)
def test_truncation_selection_table(percentage, exclude, values, others, maximize, expected):
    # Rule: the lowest p% of trials by their value at the interval are ended.
    policy = TruncationSelectionPolicy(percentage, exclude_finished_jobs=exclude)
    assert policy.should_terminate(values, others, maximize) is expected


@pytest.mark.parametrize(
    ("population", "percentage", "expected"),
    [
        pytest.param(10, 25, 2, id="10x25"),
        pytest.param(3, 20, 0, id="3x20"),
        pytest.param(5, 20, 1, id="5x20"),
    ],
)
def test_truncated_count(population, percentage, expected):
    # Rule: the number cut is the percentage of the population, rounded down.
    assert truncated_count(population, percentage) == expected


def test_in_lowest_helper():
    # Rule: the helper ranks the current value among all values at the interval.
    assert in_lowest(0.1, [0.5, 0.6, 0.7, 0.8], 20, True) is True


@pytest.mark.parametrize(
    ("interval", "delay", "points"),
    [
        pytest.param(1, 0, [1, 2, 3, 4, 5, 6, 7, 8], id="every-report"),
        pytest.param(2, 4, [4, 6, 8], id="interval-2-delay-4"),
        pytest.param(3, 0, [3, 6], id="interval-3"),
        pytest.param(1, 5, [5, 6, 7, 8], id="delay-5"),
    ],
)
def test_evaluation_points(interval, delay, points):
    # Rule: a policy acts at report k when k % interval == 0 and k >= delay.
    policy = BanditPolicy(0.1, evaluation_interval=interval, delay_evaluation=delay)
    assert [k for k in range(1, 9) if policy.is_evaluation_point(k)] == points


def test_none_never_stops():
    # Rule: the default policy never ends a trial.
    assert NoTerminationPolicy().should_terminate([0.0] * 5, [ended(1.0)] * 5, True) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("bandit(0.1)", BanditPolicy(slack_factor=0.1), id="bandit-positional"),
        pytest.param(
            "bandit(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)",
            BanditPolicy(slack_factor=0.1, delay_evaluation=5),
            id="bandit-keywords",
        ),
        pytest.param(
            "BanditPolicy(slack_amount=0.2)", BanditPolicy(slack_amount=0.2), id="azure-name"
        ),
        pytest.param("median_stopping", MedianStoppingPolicy(), id="bare-name"),
        pytest.param(
            "MedianStoppingPolicy(evaluation_interval=2)",
            MedianStoppingPolicy(evaluation_interval=2),
            id="median-azure-name",
        ),
        pytest.param(
            "truncation_selection(20, exclude_finished_jobs=True)",
            TruncationSelectionPolicy(20, exclude_finished_jobs=True),
            id="truncation",
        ),
        pytest.param("none", NoTerminationPolicy(), id="none"),
        pytest.param("", NoTerminationPolicy(), id="empty"),
        pytest.param(None, NoTerminationPolicy(), id="None"),
    ],
)
def test_parse_policy(text, expected):
    # Rule: the text forms (ours and Azure's names) give the right policy.
    assert parse_policy(text) == expected


@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(slack_factor=0.1, delay_evaluation=5),
        BanditPolicy(slack_amount=0.5, evaluation_interval=3),
        MedianStoppingPolicy(2, 4),
        TruncationSelectionPolicy(30, 2, 1, exclude_finished_jobs=True),
        NoTerminationPolicy(),
    ],
    ids=["bandit-factor", "bandit-amount", "median", "truncation", "none"],
)
def test_policy_expression_round_trips(policy):
    # Rule: a policy stored as text on the parent run reads back equal.
    assert parse_policy(policy.expression()) == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("bandit()", "exactly one of slack_factor and slack_amount", id="no-slack"),
        pytest.param("bandit(slack_factor=0.1, slack_amount=0.2)", "exactly one", id="both-slacks"),
        pytest.param("bandit(slack_factor=-1)", "slack_factor must be a number >= 0", id="neg"),
        pytest.param("bandit(0.1, evaluation_interval=0)", "evaluation_interval", id="interval"),
        pytest.param("bandit(0.1, delay_evaluation=-1)", "delay_evaluation", id="delay"),
        pytest.param("truncation_selection(0)", "from 1 to 99, got 0", id="trunc-0"),
        pytest.param("truncation_selection(120)", "from 1 to 99, got 120", id="trunc-120"),
        pytest.param("truncation_selection()", "truncation_percentage", id="trunc-missing"),
        pytest.param("hyperband(3)", "unknown policy 'hyperband'", id="unknown"),
        pytest.param("bandit(0.1, x=2)", "unexpected keyword argument 'x'", id="bad-keyword"),
        pytest.param("bandit(__import__('os'))", "is not a literal", id="not-literal"),
        pytest.param("bandit(0.1", "is not an expression", id="syntax"),
    ],
)
def test_bad_policies_are_clear_errors(text, message):
    # Rule: a bad policy is a PolicyError quoting what is wrong.
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(text)
