"""The wire between an endpoint process and its deployment workers: length-prefixed frames.

The endpoint already parsed the HTTP request; speaking HTTP again to the worker would parse every
request twice on a 2-core laptop. A frame is a fixed header, a small JSON ``meta`` part and the
request body passed through untouched (the worker parses the payload, next to the model and its
signature). Workers listen on 127.0.0.1 only and answer only their endpoint process.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

OP_SCORE = 1
OP_HEALTH = 2

_REQUEST = struct.Struct("!BII")  # op, meta length, body length
_RESPONSE = struct.Struct("!HII")  # HTTP status, meta length, body length
MAX_FRAME = 512 * 1024 * 1024


class ProtocolError(Exception):
    """The other side sent something that is not a frame (or a frame too large)."""


def _pack_meta(meta: dict[str, Any] | None) -> bytes:
    return json.dumps(meta or {}, separators=(",", ":")).encode()


async def _read(reader: asyncio.StreamReader, header: struct.Struct) -> tuple[int, dict, bytes]:
    head = await reader.readexactly(header.size)
    first, meta_len, body_len = header.unpack(head)
    if meta_len > MAX_FRAME or body_len > MAX_FRAME:
        raise ProtocolError(f"frame too large ({meta_len} + {body_len} bytes)")
    meta = json.loads(await reader.readexactly(meta_len)) if meta_len else {}
    body = await reader.readexactly(body_len) if body_len else b""
    return first, meta, body


def write_request(
    writer: asyncio.StreamWriter, op: int, meta: dict[str, Any] | None, body: bytes = b""
) -> None:
    packed = _pack_meta(meta)
    writer.writelines((_REQUEST.pack(op, len(packed), len(body)), packed, body))


async def read_request(reader: asyncio.StreamReader) -> tuple[int, dict, bytes]:
    return await _read(reader, _REQUEST)


def write_response(
    writer: asyncio.StreamWriter, status: int, meta: dict[str, Any] | None, body: bytes = b""
) -> None:
    packed = _pack_meta(meta)
    writer.writelines((_RESPONSE.pack(status, len(packed), len(body)), packed, body))


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict, bytes]:
    return await _read(reader, _RESPONSE)
