"""``%%mlrun --evaluate [MODEL,]X_test,y_test``: evaluate the cell's model inside its run."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError


def assigned_in_order(cell: str) -> list[str]:
    """Names the cell assigns at its top level, in order (the last one last)."""
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.append(leaf.id)
    return names


def _find_model(shell: Any, cell: str) -> Any:
    for name in reversed(assigned_in_order(cell)):
        value = shell.user_ns.get(name)
        if value is not None and hasattr(value, "predict") and not isinstance(value, type):
            return value
    raise UsageError(
        "--evaluate: the cell assigned no model (an object with predict); name it: "
        "--evaluate MODEL,X_test,y_test"
    )


def evaluation_step(shell: Any, cell: str, text: str) -> Callable[[], Any]:
    """Check the option now (before the cell runs); return the step run after the cell."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if len(names) not in (2, 3):
        raise UsageError(f"--evaluate {text!r}: expected X_test,y_test or MODEL,X_test,y_test")

    def step() -> Any:
        from IPython.display import display

        from nbstudio.evaluation import evaluate

        missing = [n for n in names if n not in shell.user_ns]
        if missing:
            raise UsageError(
                f"--evaluate: no variable named {', '.join(map(repr, missing))} in the notebook"
            )
        model = shell.user_ns[names[0]] if len(names) == 3 else _find_model(shell, cell)
        X, y = (shell.user_ns[n] for n in names[-2:])
        evaluation = evaluate(model, X, y)
        display(evaluation)
        return evaluation

    return step
