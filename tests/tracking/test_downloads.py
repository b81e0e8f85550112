"""Artifact reads without MLflow's progress bar (`nbstudio.tracking.downloads`): the switch is
the user's again only once no thread reads, whatever order overlapping reads end in."""

from __future__ import annotations

import os
import threading

import pytest

from nbstudio.tracking.downloads import VARIABLE, without_progress_bar


@pytest.mark.parametrize("users_value", [None, "true"])
def test_overlapping_reads_keep_the_bar_off_until_the_last_one_ends(
    monkeypatch: pytest.MonkeyPatch, users_value: str | None
) -> None:
    if users_value is None:
        monkeypatch.delenv(VARIABLE, raising=False)
    else:
        monkeypatch.setenv(VARIABLE, users_value)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, str | None] = {}

    def first() -> None:
        with without_progress_bar():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with without_progress_bar():
            second_in.set()
            first_out.wait(5)
            # rule: the first reader ending does not switch the bar back on under the second
            seen["second, after the first ended"] = os.environ.get(VARIABLE)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"second, after the first ended": "false"}
    # rule: once no read is open, the variable is exactly what the user had
    assert os.environ.get(VARIABLE) == users_value


def _failing_read() -> None:
    with without_progress_bar():
        assert os.environ[VARIABLE] == "false"
        raise FileNotFoundError("artifact gone")


def test_a_read_that_raises_still_gives_the_switch_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, "true")
    with pytest.raises(FileNotFoundError, match="artifact gone"):
        _failing_read()
    assert os.environ[VARIABLE] == "true"
