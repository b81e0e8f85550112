"""The README stays a README and points into the docs site; the site's pages it names exist.

``make docs`` (a step of ``make test``) builds the site with ``mkdocs build --strict``, which fails
on a broken link or anchor inside the site; these tests cover what that build does not see: the
README, which is not a page of the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from test_readme import _first_example

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250  # the target is about 200: the manual lives in docs/

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _readme_links() -> list[str]:
    return [target for target in LINK.findall(README.read_text()) if "://" not in target]


def _feature_pages() -> list[str]:
    """The pages under "Features" in mkdocs.yml's nav, as paths inside docs/."""
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    features = next(entry["Features"] for entry in nav if "Features" in entry)
    return [page for entry in features for page in entry.values()]


def test_the_readme_is_short() -> None:
    lines = len(README.read_text().splitlines())
    # rule: the README is an overview (at most ~200-250 lines); the chapters are the docs site
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines"


def test_every_file_the_readme_links_exists() -> None:
    links = _readme_links()
    assert links
    missing = [target for target in links if not (ROOT / target).exists()]
    # rule: every page and picture the README links to is in the repository
    assert not missing


def test_the_readme_links_every_feature_page() -> None:
    linked = {target for target in _readme_links() if target.startswith("docs/")}
    pages = _feature_pages()
    assert len(pages) >= 12
    for page in pages:
        # rule: each feature page of the site exists and the README's feature map links it
        assert (DOCS / page).is_file(), page
        assert f"docs/{page}" in linked, page


def test_the_getting_started_example_is_the_tested_one() -> None:
    page = (DOCS / "getting-started.md").read_text()
    start = page.index("A first cell to paste")
    blocks = re.findall(r"```python\n(.*?)```", page[start:], re.S)[:2]
    # rule: the docs' first example is the README's, which test_readme runs in a kernel
    assert blocks == _first_example()
