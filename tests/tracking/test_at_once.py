"""at_once: independent reads sent together (a tracking server's round trips overlap)."""

from __future__ import annotations

import threading

import pytest

from nbstudio.tracking.at_once import at_once


def test_calls_run_together_and_answer_in_order() -> None:
    both = threading.Barrier(2, timeout=5)

    def waits_for_the_other(value: int) -> int:
        both.wait()  # rule: would time out if the calls ran one after another
        return value

    assert at_once([lambda: waits_for_the_other(1), lambda: waits_for_the_other(2)]) == [1, 2]


def test_an_error_of_any_call_reaches_the_caller_after_all_ended() -> None:
    ended = []

    def slow() -> str:
        threading.Event().wait(0.2)
        ended.append("slow")
        return "slow"

    def fails() -> str:
        raise ValueError("no such experiment")

    with pytest.raises(ValueError, match="no such experiment"):
        at_once([slow, fails])
    assert ended == ["slow"]


def test_one_call_or_none_runs_in_the_callers_thread() -> None:
    assert at_once([threading.get_ident]) == [threading.get_ident()]
    assert at_once([]) == []
