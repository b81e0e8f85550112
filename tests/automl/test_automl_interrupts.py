"""Ctrl+C during a search is not lost when a library's ctypes callback swallows it."""

from __future__ import annotations

import _thread
import ctypes
import ctypes.util
import signal
import threading
import time

import pytest

from nbstudio.automl.interrupts import REDELIVER_SECONDS, InterruptsKept

# ctypes reports the swallowed interrupt as an unraisable exception: expected here
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

COMPARE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _search_with_a_swallowed_interrupt(seconds: float) -> None:
    """Ctrl+C lands in Python code C called back (libc's qsort, as xgboost's data iterator)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    pressed: list[bool] = []

    @COMPARE
    def compare(a: int, b: int) -> int:
        if not pressed:
            pressed.append(True)
            _thread.interrupt_main()
            sum(range(1000))  # bytecode: Python raises the interrupt here, in the callback
        return 0

    values = (ctypes.c_int * 8)(*range(8))
    libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int), compare)
    assert pressed, "qsort never called back"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # the rest of the search, outside any callback
        time.sleep(0.01)


def test_a_swallowed_interrupt_is_lost_without_the_guard(python_ctrl_c) -> None:
    # the problem itself: ctypes drops the KeyboardInterrupt and the search runs to its end
    started = time.monotonic()
    _search_with_a_swallowed_interrupt(2 * REDELIVER_SECONDS)
    assert time.monotonic() - started >= 2 * REDELIVER_SECONDS


def test_a_swallowed_interrupt_is_raised_again(python_ctrl_c) -> None:
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), InterruptsKept():
        _search_with_a_swallowed_interrupt(20)
    # rule: one Ctrl+C stops the search within about a second, not at the end of its budget
    assert time.monotonic() - started < 4 * REDELIVER_SECONDS
    # rule: Ctrl+C's handler is back, and nothing is raised again once the block has ended
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    time.sleep(3 * REDELIVER_SECONDS)


def test_an_interrupt_that_gets_out_is_raised_once(python_ctrl_c) -> None:
    def search() -> None:
        threading.Timer(0.2, _thread.interrupt_main).start()
        for _ in range(1000):  # short sleeps: a simulated Ctrl+C does not cut a sleep short
            time.sleep(0.01)

    with pytest.raises(KeyboardInterrupt), InterruptsKept():
        search()
    time.sleep(3 * REDELIVER_SECONDS)  # a second KeyboardInterrupt would fail the test here
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_block_without_interrupt_changes_nothing(python_ctrl_c) -> None:
    with InterruptsKept():
        time.sleep(2.5 * REDELIVER_SECONDS)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not [t for t in threading.enumerate() if t.name == "nbstudio-interrupts"]


def test_off_the_main_thread_the_block_runs_as_it_is(python_ctrl_c) -> None:
    seen: list[object] = []

    def worker() -> None:
        with InterruptsKept():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    # rule: a Dask worker thread cannot handle signals; the guard does not try (no ValueError)
    assert seen == [signal.default_int_handler]


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with InterruptsKept():
            # rule: a process that chose to ignore Ctrl+C keeps ignoring it during a search
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, saved)
