"""What every fuzz test shares: how many examples to try, the counts it prints, the store checks.

``FUZZ_EXAMPLES`` (an environment variable) sets how many examples each fuzz test tries; without
it the counts are small enough for ``make test`` (the fuzz suite then takes well under two
minutes on 2 cores). The counts (tried / 2xx / 4xx / failures, by suite) are printed at the end of
the pytest run by ``pytest_terminal_summary`` in tests/conftest.py.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

from hypothesis import HealthCheck, settings

COUNTS: dict[str, Counter] = defaultdict(Counter)
# SQLite's own side files come and go with every connection: not state a read creates.
_TRANSIENT = ("-journal", "-wal", "-shm")


def examples(default: int, share: float = 1.0) -> int:
    """How many examples a fuzz test tries: ``default``, or its ``share`` of ``FUZZ_EXAMPLES``.

    ``FUZZ_EXAMPLES`` is the number of examples of each fuzz suite (magics, rest, endpoint,
    schemathesis); a test that is one of several in its suite takes its share of it.
    """
    raw = os.environ.get("FUZZ_EXAMPLES", "")
    if raw.isdigit() and int(raw) > 0:
        return max(default, round(int(raw) * share))
    return default


def fuzz_settings(default: int, share: float = 1.0) -> settings:
    """Hypothesis settings of a fuzz test: bounded examples, no deadline (a shared 2-core
    machine), fixtures shared across examples on purpose (one server, one shell)."""
    return settings(
        max_examples=examples(default, share),
        deadline=None,
        derandomize=not os.environ.get("FUZZ_EXAMPLES"),
        suppress_health_check=list(HealthCheck),
        database=None,
    )


def count(suite: str, outcome: str | int) -> None:
    """Record one example: an HTTP status or ``"ok"`` / ``"error"`` (a one-line user error)."""
    COUNTS[suite]["tried"] += 1
    if isinstance(outcome, int):
        COUNTS[suite][f"{outcome // 100}xx"] += 1
    else:
        COUNTS[suite][outcome] += 1


def failure(suite: str) -> None:
    COUNTS[suite]["failures"] += 1


def summary_lines() -> list[str]:
    lines = []
    for suite, counts in sorted(COUNTS.items()):
        parts = [f"tried {counts['tried']}"]
        for key in ("2xx", "4xx", "5xx", "ok", "error"):
            if counts[key]:
                parts.append(f"{key} {counts[key]}")
        parts.append(f"failures {counts['failures']}")
        lines.append(f"fuzz {suite}: " + " / ".join(parts))
    return lines


def files_under(root: Path) -> set[str]:
    """Every file and folder below ``root`` (SQLite's transient side files left out)."""
    found = set()
    for path in root.rglob("*"):
        if not path.name.endswith(_TRANSIENT):
            found.add(str(path.relative_to(root)))
    return found


def store_state(db: Path) -> tuple[int, str, int, int]:
    """(runs, ``PRAGMA integrity_check``, RUNNING runs, experiments) of a workspace's MLflow
    SQLite store."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        runs = conn.execute("select count(*) from runs").fetchone()[0]
        integrity = conn.execute("pragma integrity_check").fetchone()[0]
        running = conn.execute("select count(*) from runs where status = 'RUNNING'").fetchone()[0]
        experiments = conn.execute("select count(*) from experiments").fetchone()[0]
    return runs, integrity, running, experiments
