"""Every command the side panel suggests works: read from the page, then run in a real kernel.

The file's name sorts first under tests/ui, so on the shared lab the panel is still empty and
every section shows its empty state with its suggested command. The commands are taken from the
page as a user would copy them, run in that order of need (a model is registered before it is
deployed) in a notebook of the lab, and each cell must end without an error.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

# What a user has in their notebook before pasting the suggestions: a fitted model called
# `model` and a CSV called wine.csv (scikit-learn's bundled data, no download).
SETUP = (
    "from sklearn.datasets import load_iris, load_wine\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "X, y = load_iris(return_X_y=True, as_frame=True)\n"
    "model = LogisticRegression(max_iter=500).fit(X, y)\n"
    "load_wine(as_frame=True).frame.to_csv('wine.csv', index=False)"
)
# Order of need; commands not listed run last, in page order.
ORDER = (
    "%load_ext",
    "%%mlrun",
    "%compute",
    "%register_model",
    "%endpoint create",
    "%endpoint deploy",
    "%data",
)
# A body for suggested cell magics: what a user's cell would do.
CELL_BODY = "import mlflow\nmlflow.log_metric('accuracy', 0.9)"
# What stops what a suggestion started, by the suggestion's first two words.
CLEANUP = {
    ("%endpoint", "create"): "%endpoint delete my-endpoint",
    ("%compute", "create"): "%compute delete cpu",
    ("%batch", "create"): "%batch delete my-batch",
}

SHOWN_COMMANDS = """() => Array.from(document.querySelectorAll('#nbstudio-panel .nbs-empty code'))
    .map(code => ({section: code.closest('[data-section]')?.dataset.section ?? '',
                   text: code.textContent.trim()}))
    .filter(c => c.text.startsWith('%'))"""

CELL_ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map(cell => {
    const outputs = cell.model.outputs ? cell.model.outputs.toJSON() : [];
    return outputs.filter(o => o.output_type === 'error'
        || (o.output_type === 'stream' && o.name === 'stderr' && /error/i.test(o.text)))
        .map(o => o.ename ? `${o.ename}: ${o.evalue}` : o.text).join('\\n');
})"""

CELL_TEXT = """() => window.jupyterapp.shell.currentWidget.content.widgets.map(cell =>
    (cell.model.outputs ? cell.model.outputs.toJSON() : []).map(o =>
        o.text ?? o.data?.['text/plain'] ?? '').join('\\n'))"""


def _rank(command: str) -> int:
    return next((i for i, prefix in enumerate(ORDER) if command.startswith(prefix)), len(ORDER))


def test_every_command_shown_in_the_panel_runs(lab, ui):
    panel = ui.open_panel()
    expect(panel.locator('[data-section="endpoints"] .nbs-empty')).to_be_visible(timeout=15_000)
    shown = ui.page.evaluate(SHOWN_COMMANDS)
    endpoint_commands = [c["text"] for c in shown if c["section"] == "endpoints"]
    # rule: the Endpoints empty state suggests creating an endpoint and deploying a model to it
    assert [c.split()[:2] for c in endpoint_commands] == [
        ["%endpoint", "create"],
        ["%endpoint", "deploy"],
    ], endpoint_commands
    commands = sorted(dict.fromkeys(c["text"] for c in shown), key=_rank)
    cells = [
        "%load_ext nbstudio",
        SETUP,
        *(f"{c}\n{CELL_BODY}" if c.startswith("%%") else c for c in commands),
        *(CLEANUP[key] for key in CLEANUP if any(tuple(c.split()[:2]) == key for c in commands)),
    ]
    # The notebook runs in a workspace of its own (a folder with nbstudio.toml), so what the
    # commands make (runs, a model, data, an endpoint) stays out of the lab's shared store.
    (lab.root / "commands").mkdir(exist_ok=True)
    (lab.root / "commands" / "nbstudio.toml").write_text("")
    lab.write_notebook("commands/commands_shown.ipynb", cells)
    ui.open_notebook("commands/commands_shown.ipynb")
    ui.run_all(timeout=300)
    errors = ui.page.evaluate(CELL_ERRORS)
    texts = ui.page.evaluate(CELL_TEXT)
    ui.screenshot("commands-shown")
    ui.close_notebooks()
    failed = {cells[i]: e for i, e in enumerate(errors) if e}
    # rule: every command the panel shows runs without a usage or any other error
    assert not failed, json.dumps(failed, indent=1)[:3000]
    deployed = texts[cells.index(endpoint_commands[1])]
    # rule: and the suggested deployment went live (it served before the test deleted it)
    assert "blue" in deployed, deployed
    assert "READY" in deployed.upper(), deployed
