"""A notebook cell as a trial body that can travel to a compute target.

A trial running on a cluster cannot see the kernel's namespace, so the cell's source is shipped
with the variables it reads (found and pickled by `nbstudio.compute.shipping`); each trial runs
it in a fresh namespace of those variables plus its sampled params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CellTrial:
    """``CellTrial(source, packed)(**params)`` runs ``source`` with the shipped variables."""

    source: str
    packed: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_namespace(
        cls, source: str, namespace: Mapping[str, Any], params: Mapping[str, Any], where: str
    ) -> CellTrial:
        """Ship what ``source`` reads from ``namespace`` (the params arrive with each trial)."""
        from nbstudio.compute import shipping

        tree = shipping.parse(source)
        names = [n for n in shipping.names_to_ship(tree, namespace) if n not in params]
        packed, _ = shipping.pack(namespace, names, where)
        return cls(source, packed)

    def __call__(self, **params: Any) -> None:
        from nbstudio.compute import shipping

        namespace: dict[str, Any] = {"__name__": "__main__", **shipping.unpack(self.packed)}
        namespace.update(params)
        exec(compile(self.source, "<sweep trial>", "exec"), namespace)
