"""The API reference: one real page per mlpkit module, generated from the docstrings.

The pages are built into the site (readable offline like every page) and can be
written as plain Markdown files for reading without the site.
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT

GENERATOR_FILE = REPO_ROOT / "docs" / "hooks" / "api_pages.py"
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def api_pages() -> ModuleType:
    specification = importlib.util.spec_from_file_location("api_pages", GENERATOR_FILE)
    module = importlib.util.module_from_spec(specification)
    sys.modules["api_pages"] = module
    specification.loader.exec_module(module)
    return module


def _article_text(page: Path) -> str:
    source = page.read_text(encoding="utf-8")
    article = source[source.index("<article") : source.index("</article>")]
    return html.unescape(TAG.sub("", article))


def test_every_module_has_a_page_with_signatures_and_docstrings(
    built_site: Path, api_pages: ModuleType
) -> None:
    modules = [name for _, names in api_pages.SECTIONS for name in names]
    assert {"history", "tracking", "quick_checks", "search_plots", "data"} <= set(modules)
    for name in modules:
        text = _article_text(built_site / "api" / name / "index.html")
        assert f"mlpkit.{name}" in text
        assert ":::" not in text, f"api/{name}: a placeholder instead of the reference"
    history = _article_text(built_site / "api" / "history" / "index.html")
    assert "append(*, loss: float, accuracy: float, val_loss: float, val_accuracy: float" in history
    assert "Record one epoch" in history and "counted from 1" in history
    tracking = _article_text(built_site / "api" / "tracking" / "index.html")
    assert "log_epoch(epoch: int" in tracking and "the first epoch is 1" in tracking
    index = _article_text(built_site / "api" / "index.html")
    for name in ("TrainingHistory", "RunTracker", "TensorBatches", "load_fashion_mnist"):
        assert name in index
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert all(f"api/{name}/" in home for name in modules), "every page is in the nav"


def test_docstrings_become_markdown(api_pages: ModuleType) -> None:
    text = api_pages.markdown(
        "Use :class:`RunTracker` and ``fit``::\n\n    with tracker:\n        fit()\n\nThen more."
    )
    assert text == (
        "Use `RunTracker` and `fit`:\n\n```python\nwith tracker:\n    fit()\n```\n\nThen more.\n"
    )


def test_pages_can_be_written_as_markdown_files(api_pages: ModuleType, tmp_path: Path) -> None:
    written = api_pages.write_pages(tmp_path)
    assert {path.name for path in written} >= {"index.md", "history.md", "quick_checks.md"}
    history = (tmp_path / "history.md").read_text()
    assert history.startswith(api_pages.GENERATED_NOTE)
    assert "## `TrainingHistory`" in history and "```python" in history
