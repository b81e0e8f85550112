"""Existing notebooks as pipeline steps (Elyra's habit), run with papermill as a child run.

``nbstudio.notebook_step("prep.ipynb", inputs={"raw": df, "frac": 0.2}, outputs=["clean"])``
inside a pipeline adds a step and returns its output handles; outside one it runs at once.
The notebook receives papermill parameters: each JSON-able input as its value, any other input
(a DataFrame, a model) as the path of a file holding it (read it with `load`), and
``output_dir``, where it writes each declared output with `save`. The executed notebook is kept
as the step run's ``notebook/<name>.ipynb``; its key counts the code cells' sources.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from nbstudio.pipelines import graph, outputs
from nbstudio.pipelines.code_fingerprint import sha
from nbstudio.pipelines.errors import PipelineError


def save(output_dir: str, name: str, value: Any) -> None:
    """In the notebook: write output ``name`` (parquet, json or pickle, as for components)."""
    outputs.write(Path(output_dir), name, value)


def load(value: Any) -> Any:
    """In the notebook: an input as its value (a file path written by the step is read)."""
    if isinstance(value, str) and Path(value).suffix in (".parquet", ".json", ".pkl"):
        path = Path(value)
        if path.exists() and path.parent.name == "nbstudio-inputs":
            return outputs.read(path)
    return value


class NotebookStep:
    """A notebook with the interface of a component (see `nbstudio.pipelines.component`)."""

    def __init__(
        self, path: str | Path, outputs: tuple[str, ...], cache: bool, retries: int
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise PipelineError(f"notebook {str(path)!r} does not exist")
        self.name = self.path.stem.replace("-", "_").replace(" ", "_")
        self.outputs = outputs or (graph.SINGLE,)
        self.cache = cache
        self.retries = retries
        self.compute: str | None = None

    def code_recipe(self, root: Any) -> dict[str, Any]:
        try:
            cells = json.loads(self.path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError) as exc:
            from nbstudio.pipelines.code_fingerprint import Unfingerprintable

            raise Unfingerprintable(f"cannot read {self.path}: {exc}") from None
        sources = [
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c.get("cell_type") == "code"
        ]
        return {"function": f"notebook:{self.path.name}", "source": sha("\n\f".join(sources))}

    def run_body(self, arguments: dict[str, Any]) -> dict[str, Any]:
        import mlflow
        import papermill

        with tempfile.TemporaryDirectory(prefix="nbstudio-notebook-") as tmp:
            inputs_dir = Path(tmp, "nbstudio-inputs")
            out_dir = Path(tmp, "outputs")
            out_dir.mkdir()
            parameters: dict[str, Any] = {"output_dir": str(out_dir)}
            for name, value in arguments.items():
                if outputs._is_json(value):
                    parameters[name] = value
                else:
                    parameters[name] = str(outputs.write(inputs_dir, name, value))
            executed = Path(tmp, self.path.name)
            try:
                papermill.execute_notebook(
                    str(self.path),
                    str(executed),
                    parameters=parameters,
                    cwd=str(self.path.parent.resolve()),
                    progress_bar=False,
                    log_output=False,
                )
            finally:
                if executed.exists() and mlflow.active_run() is not None:
                    mlflow.log_artifact(str(executed), "notebook")
            written = {p.stem: p for p in out_dir.iterdir()}
            missing = [n for n in self.outputs if n not in written]
            if missing:
                raise PipelineError(
                    f"notebook {self.path.name} did not save {missing}: call "
                    "nbstudio.pipelines.notebook_step.save(output_dir, NAME, value)"
                )
            return {n: outputs.read(written[n]) for n in self.outputs}

    def __repr__(self) -> str:
        return f"<notebook step {self.path} -> {', '.join(self.outputs)}>"


def notebook_step(
    path: str | Path,
    inputs: dict[str, Any] | None = None,
    outputs: list[str] | tuple[str, ...] = (),
    *,
    cache: bool = True,
    retries: int = 0,
) -> Any:
    """Run notebook ``path`` as a step: inside a pipeline, its output handles; outside, values
    (one output: the handle or value itself; several: a tuple of handles, a dict of values).

    Example:
        >>> @nbstudio.pipeline  # doctest: +SKIP
        ... def wine(path="data/wine.csv"):
        ...     clean = nbstudio.notebook_step("prep.ipynb", {"raw": load(path)}, ["clean"])
        ...     return train(clean)
    """
    step = NotebookStep(path, tuple(outputs), cache, retries)
    building = graph.current()
    if building is None:
        values = step.run_body(dict(inputs or {}))
        return values[step.outputs[0]] if len(step.outputs) == 1 else values
    added = building.add(step, dict(inputs or {}))
    handles = tuple(graph.Handle(added.name, name) for name in step.outputs)
    return handles[0] if len(handles) == 1 else handles
