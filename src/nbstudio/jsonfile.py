"""Small JSON records that several processes share (cluster and endpoint specs and statuses).

A kernel, the Jupyter server and a terminal may read a record while another process rewrites it,
so every write replaces the file atomically: readers see the old or the new file, never half.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


class DamagedRecord(ValueError):
    """A record exists but cannot be read as JSON."""


def write_json(path: Path, data: dict[str, Any], private: bool = False) -> None:
    """Replace ``path`` atomically; ``private`` makes it readable by its owner only (keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if private:
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None if there is none.

    Raises:
        DamagedRecord: the file exists but is not readable JSON.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DamagedRecord(f"{path} is damaged ({exc})") from None
