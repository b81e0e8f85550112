"""``%pipeline why RUN_A RUN_B``: which steps re-ran in B and which part of their key changed.

Each step run keeps its key's recipe (``cache_key.json``); comparing the recipes of the same step
in two pipeline runs names the change: its code, a helper, a constant, a package, an input, a
param, Python. A step that re-ran under an unchanged key says why it was not reused.
"""

from __future__ import annotations

from typing import Any

from nbstudio.pipelines import recording
from nbstudio.session import Session, get_session


def _latest_by_step(session: Session, run_id: str) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for run in recording.step_runs(session, run_id):
        name = run.data.tags.get(recording.TAG_STEP)
        if name is not None:
            latest[name] = run
    return latest


def _short(value: Any) -> str:
    if isinstance(value, dict):
        if "repr" in value:
            return value["repr"]
        if value.get("kind") == "upstream":
            return f"step {value['step']!r} (key {value['key'][:8]})"
        if "digest" in value:
            where = value.get("path") or value.get("ref") or value.get("kind")
            return f"{where} (content {str(value['digest'])[:8]})"
        return value.get("kind", "?")
    return repr(value)


def _diff_part(title: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    found = []
    for name in sorted(set(a) | set(b)):
        if name not in a:
            found.append(f"{title} {name} added")
        elif name not in b:
            found.append(f"{title} {name} removed")
        elif a[name] != b[name]:
            if title in ("helper",):
                found.append(f"{title} {name} changed")
            elif title == "package":
                found.append(f"{title} {name} {a[name]} -> {b[name]}")
            else:
                found.append(f"{title} {name}: {_short(a[name])} -> {_short(b[name])}")
    return found


def recipe_changes(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    """What differs between two recipes of one step, one short phrase each."""
    if a is None or b is None:
        return ["no recorded recipe to compare"]
    changes = []
    if a.get("python") != b.get("python"):
        changes.append(f"Python {a.get('python')} -> {b.get('python')}")
    code_a, code_b = a.get("code") or {}, b.get("code") or {}
    if code_a.get("source") != code_b.get("source"):
        changes.append(f"code of {code_b.get('function') or code_a.get('function')} changed")
    changes += _diff_part("helper", code_a.get("helpers", {}), code_b.get("helpers", {}))
    changes += _diff_part("constant", code_a.get("constants", {}), code_b.get("constants", {}))
    changes += _diff_part("package", code_a.get("packages", {}), code_b.get("packages", {}))
    inputs_a, inputs_b = a.get("inputs", {}), b.get("inputs", {})
    for name in sorted(set(inputs_a) | set(inputs_b)):
        old, new = inputs_a.get(name), inputs_b.get(name)
        if old == new:
            continue
        kind = (new or old or {}).get("kind") if isinstance(new or old, dict) else None
        if kind == "upstream":
            changes.append(f"input {name}: upstream step {new.get('step')!r} changed")
        elif kind == "literal":
            changes.append(f"param {name}: {_short(old)} -> {_short(new)}")
        else:
            changes.append(f"input {name}: {_short(old)} -> {_short(new)}")
    return changes


def why(run_a: str, run_b: str, session: Session | None = None) -> list[str]:
    """One line per step of ``run_b``: reused, or re-ran and what changed since ``run_a``."""
    session = session or get_session()
    before = _latest_by_step(session, run_a)
    after = _latest_by_step(session, run_b)
    lines = []
    for name, run in after.items():
        tags = run.data.tags
        if recording.TAG_REUSED_FROM in tags:
            lines.append(f"{name}: reused (run {tags[recording.TAG_REUSED_FROM]})")
            continue
        if name not in before:
            lines.append(f"{name}: ran (not in {run_a})")
            continue
        changes = recipe_changes(
            recording.recipe_of(session, before[name]), recording.recipe_of(session, run)
        )
        if not changes:
            because = tags.get(recording.TAG_RAN_BECAUSE) or "same key"
            changes = [f"key unchanged; ran because: {because}"]
        lines.append(f"{name}: re-ran: " + "; ".join(changes))
    return lines
