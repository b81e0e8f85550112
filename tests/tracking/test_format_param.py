"""Params are shown one way everywhere: fractional numbers to 4 significant digits."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from nbstudio.tracking.result import format_param, format_params


def test_words_integers_and_booleans_are_shown_as_they_are() -> None:
    assert format_param("rbf") == "rbf"
    assert format_param(12) == "12"
    assert format_param("12") == "12"
    assert format_param(True) == "True"
    assert format_param("nan") == "nan"
    assert format_param("1.2.3") == "1.2.3"


def test_a_logged_and_a_sampled_value_read_the_same() -> None:
    assert format_param(38.69040199125885) == "38.69"
    assert format_param("38.69040199125885") == "38.69"
    assert format_param("0.001") == "0.001"
    assert format_param(1.234567e-05) == "1.235e-05"
    assert format_params({"k": 2, "C": 38.69040199125885}, "sorted") == "C=38.69, k=2"


@given(st.floats(min_value=-1e300, max_value=1e300))
def test_any_float_keeps_4_significant_digits(value: float) -> None:
    shown = format_param(value)
    assert shown == format_param(repr(value))
    assert math.isclose(float(shown), value, rel_tol=1e-3, abs_tol=1e-300)


@given(st.text(max_size=30))
def test_any_text_is_shown_without_error(text: str) -> None:
    assert isinstance(format_param(text), str)
