"""A step's cache key: sha256 over its recipe (code, inputs, Python), the recipe kept for ``why``.

An upstream output is represented by the upstream step's key, so no data is read again; an
upstream that ran uncached is represented by the digest of the output it wrote instead. The
recipe is stored with the step run as ``cache_key.json``; `nbstudio.pipelines.why` diffs two.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbstudio.pipelines import value_fingerprint
from nbstudio.pipelines.code_fingerprint import CodeFingerprint, Unfingerprintable, sha
from nbstudio.pipelines.graph import Handle, Step

FORMAT = 1


@dataclass
class Upstream:
    """What a finished step offers to the keys of the steps after it."""

    key: str | None
    output_digests: dict[str, str]


@dataclass
class StepKey:
    """The key of a step (None: runs uncached, ``reason`` says why) and its recipe."""

    key: str | None
    recipe: dict[str, Any]
    reason: str | None = None


def code_recipe(fn: Any, root: Path | None) -> dict[str, Any]:
    return CodeFingerprint(root, value_fingerprint.describe).recipe(fn)


def _input(value: Any, upstream: dict[str, Upstream]) -> Any:
    if isinstance(value, Handle):
        done = upstream[value.step]
        if done.key is not None:
            return {"kind": "upstream", "step": value.step, "output": value.output, "key": done.key}
        return {
            "kind": "upstream-content",
            "step": value.step,
            "output": value.output,
            "digest": done.output_digests.get(value.output),
        }
    if isinstance(value, list | tuple) and any(isinstance(v, Handle) for v in value):
        return {"kind": "sequence", "items": [_input(v, upstream) for v in value]}
    if isinstance(value, dict) and any(isinstance(v, Handle) for v in value.values()):
        return {"kind": "mapping", "items": {str(k): _input(v, upstream) for k, v in value.items()}}
    return value_fingerprint.describe(value)


def step_key(step: Step, upstream: dict[str, Upstream], root: Path | None) -> StepKey:
    """The key of ``step`` once its upstream steps are done."""
    recipe: dict[str, Any] = {
        "format": FORMAT,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "step": step.name,
    }
    try:
        recipe["code"] = step.component.code_recipe(root)
        recipe["inputs"] = {k: _input(v, upstream) for k, v in sorted(step.arguments.items())}
    except Unfingerprintable as exc:
        recipe.setdefault("code", None)
        return StepKey(None, recipe, str(exc))
    body = {k: v for k, v in recipe.items() if k != "step"}  # the step's name is no content
    return StepKey(sha(canonical_json(body)), recipe)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def graph_keys(graph: Any, root: Path | None) -> dict[str, StepKey]:
    """Every step's key before anything runs (upstream steps counted by their own keys)."""
    import graphlib

    found: dict[str, StepKey] = {}
    for name in graphlib.TopologicalSorter(graph.dependencies()).static_order():
        step = graph.steps[name]
        upstream = {up: Upstream(found[up].key, {}) for up in step.upstream}
        found[name] = step_key(step, upstream, root)
    return found
