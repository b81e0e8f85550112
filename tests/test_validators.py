"""The shared validators of issue 12, on hostile input: page tokens, literals, filter quoting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.fuzz import fuzz_settings
from nbstudio import pagetoken
from nbstudio.errors import QueryError
from nbstudio.literals import LiteralError, read_literal
from nbstudio.tracking.filters import equals, quoted


def test_page_tokens_round_trip() -> None:
    token = pagetoken.encode(offset=150)
    # rule: our tokens are ASCII, opaque, and read back to the same position
    assert token.isascii()
    assert "offset" not in token
    assert pagetoken.decode(token) == {"offset": 150, "cursor": None}
    cursor = pagetoken.encode(cursor="mlflow's own token")
    assert pagetoken.decode(cursor)["cursor"] == "mlflow's own token"
    assert pagetoken.decode(None) == {"offset": 0, "cursor": None}


@pytest.mark.parametrize(
    "body",
    [b'{"offset": [1]}', b'{"offset": 1e400}', b'{"v": 1, "offset": -1}', b'{"v": 2}', b"[]"],
)
def test_foreign_tokens_are_invalid(body: bytes) -> None:
    import base64

    # rule: anything but our own versioned token is "invalid page_token"
    with pytest.raises(QueryError, match=r"^invalid page_token"):
        pagetoken.decode(base64.urlsafe_b64encode(body).decode())


@fuzz_settings(300)
@given(st.text(max_size=60))
def test_any_text_is_a_position_or_invalid(text: str) -> None:
    try:
        well_formed = 0 <= pagetoken.decode(text)["offset"] <= pagetoken.MAX_OFFSET
    except QueryError as exc:
        well_formed = str(exc).startswith("invalid page_token")
    # rule: a token is a bounded position, or a QueryError saying invalid page_token
    assert well_formed


@fuzz_settings(300)
@given(st.one_of(st.text(max_size=40), st.from_regex(r"[\[\]{}()\-+~0-9:, 'a]{0,60}")))
def test_read_literal_fails_only_with_literal_error(text: str) -> None:
    try:
        read_literal(text)
        message = ""
    except LiteralError as exc:
        message = str(exc)
    # rule: one line, whatever the text
    assert "\n" not in message


def test_filter_values_are_quoted_for_mlflow() -> None:
    # rule: a value holding ' is written in double quotes, one holding " in single quotes
    assert quoted("m'") == '"m\'"'
    assert equals("name", 'm"') == "name = 'm\"'"
    with pytest.raises(QueryError):
        quoted("a'b\"c")
