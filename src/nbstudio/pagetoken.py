"""Page tokens of every paged answer: opaque to clients, versioned, validated on the way back.

A token is URL-safe base64 of a small JSON object ``{"v": 1, ...}``. Clients pass back the
``next_page_token`` they got, unchanged; anything else (bad base64, not JSON, another version,
unknown keys, a position that is not a bounded whole number) is a `QueryError` whose message is
exactly ``invalid page_token`` plus a hint, so the REST API answers it with a 400.

Any paged listing uses `encode` / `decode` (``offset`` for a position in a result; ``cursor``
to carry a backend's own token, e.g. a tracking server's, without exposing its format).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from nbstudio.errors import QueryError

VERSION = 1
MAX_TOKEN_CHARS = 2048
MAX_OFFSET = 10**9

_HINT = "invalid page_token: pass the next_page_token of the previous answer unchanged."


def encode(*, offset: int | None = None, cursor: str | None = None) -> str:
    """A token for the page at ``offset`` (or after a backend's ``cursor``)."""
    body: dict[str, Any] = {"v": VERSION}
    if offset is not None:
        body["offset"] = offset
    if cursor is not None:
        body["cursor"] = cursor
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str | None) -> dict[str, Any]:
    """``{"offset": int, "cursor": str | None}`` of a token; no token is the first page."""
    if token is None or token == "":
        return {"offset": 0, "cursor": None}
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise QueryError(_HINT)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise QueryError(_HINT) from None
    if (
        not isinstance(body, dict)
        or body.get("v") != VERSION
        or set(body) - {"v", "offset", "cursor"}
    ):
        raise QueryError(_HINT)
    offset = body.get("offset", 0)
    cursor = body.get("cursor")
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise QueryError(_HINT)
    if cursor is not None and (not isinstance(cursor, str) or len(cursor) > MAX_TOKEN_CHARS):
        raise QueryError(_HINT)
    return {"offset": offset, "cursor": cursor}
