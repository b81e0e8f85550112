"""The base of every record class: a dataclass read from JSON that tolerates unknown fields.

Records outlive the code that wrote them (a workspace opened by a newer or older nbstudio), so a
field a class does not know is dropped on read instead of failing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Self


def now_ms() -> int:
    return int(time.time() * 1000)


def known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The items of ``data`` that are fields of dataclass ``cls``."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


class Record:
    """Mixin for record dataclasses: ``from_dict`` (unknown keys dropped) and ``to_dict``."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**known_fields(cls, data))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class ProcessStatus(Record):
    """The fields every status of a supervised process has; a kind's status adds its own.

    ``state`` is what the process last wrote, ``pid`` and ``pid_started`` identify it (see
    `nbstudio.resources.state.derive`), ``reason`` says why it failed and ``updated`` (ms since
    the epoch) when the status was last written.
    """

    state: str
    pid: int | None = None
    pid_started: float | None = None
    reason: str | None = None
    updated: int = field(default_factory=now_ms)
