"""MkDocs hook: the pages that are read off the code, generated at build time so they stay true.

- The REST reference: ``python -m nbstudio.server.openapi`` prints the OpenAPI document the server
  publishes, which is published as it is beside the site (``openapi.json``) and, with its prose
  HTML-escaped (the plugin puts descriptions into HTML as they are, so ``<jupyter server token>``
  would vanish as an unknown tag), written to ``build/docs/openapi.json`` (git-ignored) for the
  page ``rest-api.md`` to render with neoteroi's OAD plugin (``[OAD(...)]``).
- The console command: ``<!-- nbstudio --help -->`` in a page becomes the ``--help`` of
  ``nbstudio`` and of each of its subcommands, as argparse prints them.
- The lesson notebooks: ``notebooks/*.ipynb`` are added to the site from the repository's
  ``notebooks/`` folder (mkdocs-jupyter renders them without running them), so they are not copied
  into ``docs/``.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "build" / "docs" / "openapi.json"
HELP_MARKER = "<!-- nbstudio --help -->"
HELP_WIDTH = "80"  # the width of a code block on the page


def _run(*args: str) -> str:
    """The output of ``python ARGS`` in this interpreter; a failure stops the build, saying why."""
    env = {**os.environ, "COLUMNS": HELP_WIDTH}
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


_document: dict[str, str] = {}


def _escaped(node: Any) -> Any:
    """The document with its descriptions and summaries HTML-escaped, the rest as it is."""
    if isinstance(node, list):
        return [_escaped(item) for item in node]
    if isinstance(node, dict):
        return {
            key: html.escape(value, quote=False)
            if key in ("description", "summary") and isinstance(value, str)
            else _escaped(value)
            for key, value in node.items()
        }
    return node


def on_pre_build(config: MkDocsConfig) -> None:
    _document["text"] = _run("-m", "nbstudio.server.openapi")
    OPENAPI.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI.write_text(json.dumps(_escaped(json.loads(_document["text"])), indent=1))


# Before mkdocs-jupyter's on_files, which turns the notebooks it finds into pages.
@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        path = f"notebooks/{notebook.name}"
        if files.get_file_from_path(path) is None:
            files.append(File(path, str(ROOT), config.site_dir, config.use_directory_urls))
    files.append(File.generated(config, "openapi.json", content=_document["text"]))
    return files


def _console_help() -> str:
    """``nbstudio --help`` and ``nbstudio COMMAND --help`` for each command, as code blocks."""
    script = (
        "import contextlib, io\n"
        "from nbstudio.cli import SUBCOMMANDS, build_parser\n"
        "for args in [[]] + [[name] for name, _ in SUBCOMMANDS]:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "        build_parser().parse_args([*args, '--help'])\n"
        "    print('### `' + ' '.join(['nbstudio', *args]) + '`\\n')\n"
        "    print('```\\n' + out.getvalue().rstrip() + '\\n```\\n')\n"
    )
    return _run("-c", script)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if HELP_MARKER in markdown:
        markdown = markdown.replace(HELP_MARKER, _console_help())
    return markdown
