"""The built course site: every release notebook has a page, nothing private leaks, the
generated results match the committed study, and the site needs no network."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from PIL import Image

from tests.conftest import REPO_ROOT, SOLUTIONS_DIR

RELEASE_DIR = REPO_ROOT / "assignments" / "mlp-fashion-mnist"
TAG = re.compile(r"<[^>]+>")
EXTERNAL_RESOURCE = re.compile(
    r"<(?:script|img|iframe)\b[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"|"
    r"<link\b[^>]*\brel=\"(?:stylesheet|preload|icon)\"[^>]*\bhref=\"(?:https?:)?//[^\"]*\"|"
    r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*\brel=\"(?:stylesheet|preload|icon)\""
)
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def _page_text(path: Path) -> str:
    """A page's visible text: tags removed, entities decoded (code spans rejoined)."""
    return html.unescape(TAG.sub("", path.read_text(encoding="utf-8")))


def _cell_sources(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells]


def _solution_only_lines() -> set[str]:
    """Lines of the instructors' answers that the release does not contain.

    Short or generic lines (``return model``) could appear anywhere, so only lines of
    at least 25 characters count: those are the answers' distinctive code and prose.
    """
    release_text = "\n".join(
        source for notebook in RELEASE_DIR.glob("*.ipynb") for source in _cell_sources(notebook)
    )
    lines = set()
    for notebook in SOLUTIONS_DIR.glob("*.ipynb"):
        for source in _cell_sources(notebook):
            for region in SOLUTION_REGION.findall(source):
                for line in region.splitlines():
                    line = line.strip()
                    if len(line) >= 25 and line not in release_text:
                        lines.add(line)
    return lines


def test_config_is_offline_material_with_the_docs_folder_as_only_source() -> None:
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material"
    assert config["theme"]["font"] is False, "font: false keeps Google Fonts out (offline)"
    assert config["docs_dir"] == "docs"
    assert config["strict"] is True
    assert "solutions" not in json.dumps(config)


def test_no_page_loads_anything_from_the_network(built_site: Path) -> None:
    offenders = {}
    for page in built_site.rglob("*.html"):
        found = EXTERNAL_RESOURCE.findall(page.read_text(encoding="utf-8"))
        if found:
            offenders[str(page.relative_to(built_site))] = found[:3]
    assert not offenders, f"pages that load from the network (breaks offline use): {offenders}"


def test_every_release_notebook_has_a_page_from_the_release(
    built_site: Path, course_site_hook: ModuleType
) -> None:
    notebooks = sorted(RELEASE_DIR.glob("*.ipynb"))
    assert len(notebooks) >= 4
    assert course_site_hook.RELEASE_DIR == RELEASE_DIR, "the site renders the release only"
    home = (built_site / "index.html").read_text(encoding="utf-8")
    pages = sorted(path.parent.name for path in built_site.glob("mlp-fashion-mnist/*/index.html"))
    assert pages == [notebook.stem for notebook in notebooks]
    for notebook in notebooks:
        page_dir = built_site / "mlp-fashion-mnist" / notebook.stem
        text = _page_text(page_dir / "index.html")
        assert course_site_hook.notebook_title(notebook) in text
        assert "YOUR CODE HERE" in text or "YOUR ANSWER HERE" in text
        assert f"mlp-fashion-mnist/{notebook.stem}/" in home, f"{notebook.name} not in the nav"
        # The download offered on the page is the release notebook, byte for byte.
        assert (page_dir / notebook.name).read_bytes() == notebook.read_bytes()


def test_no_solution_appears_anywhere_in_the_site(built_site: Path) -> None:
    solution_lines = _solution_only_lines()
    assert len(solution_lines) > 20, "the solutions' answers were not found: check the regex"
    corpus = {
        path: _page_text(path) if path.suffix == ".html" else path.read_text(encoding="utf-8")
        for path in built_site.rglob("*")
        if path.suffix in {".html", ".json", ".ipynb"}
    }
    for path, text in corpus.items():
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{path.relative_to(built_site)} contains {marker!r}"
        leaked = [line for line in solution_lines if line in text]
        assert not leaked, f"{path.relative_to(built_site)} shows solution code: {leaked[:3]}"


def test_results_page_is_generated_from_the_committed_study(built_site: Path) -> None:
    study = json.loads((REPO_ROOT / "results" / "reference-accuracy.json").read_text())["full"]
    text = _page_text(built_site / "results" / "index.html")
    for framework in ("tensorflow", "pytorch"):
        accuracies = [run["test_accuracy"] for run in study[framework]["runs"]]
        assert f"{sum(accuracies) / len(accuracies):.4f} ±" in text
        for accuracy in accuracies:
            assert f"{accuracy:.4f}" in text
    for original in ("0.8867", "0.8759", "0.9214", "0.8913"):
        assert original in text, f"the original's figure {original} is missing"
    page = (built_site / "results" / "index.html").read_text(encoding="utf-8")
    figures = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(figures) == 2
    for figure in figures:
        with Image.open((built_site / "results" / figure).resolve()) as image:
            assert image.width > 400 and image.height > 200


def test_guides_carry_the_real_workflow_points_and_thresholds(built_site: Path) -> None:
    text = _page_text(built_site / "instructor-guide" / "index.html")
    for command in (
        "nbgrader generate_assignment",
        "nbgrader release_assignment",
        "nbgrader collect",
        "nbgrader autograde",
        "nbgrader generate_feedback",
        "nbgrader export",
        "python -m autograder grade",
    ):
        assert command in text, f"the instructor guide does not show {command!r}"
    thresholds = yaml.safe_load((REPO_ROOT / "autograder" / "thresholds.yaml").read_text())
    for device in thresholds.values():
        for entry in device.values():
            assert f"{entry['floor']:.3f}" in text
    page = (built_site / "instructor-guide" / "index.html").read_text(encoding="utf-8")
    assert "<strong>100</strong>" in page, "the points table (generated) should total 100"
    student = _page_text(built_site / "student-guide" / "index.html")
    for word in ("Validate", "Submit", "Fetch"):
        assert word in student


def test_api_reference_documents_the_library(built_site: Path) -> None:
    text = _page_text(built_site / "api" / "index.html")
    for name in ("load_fashion_mnist", "DatasetError", "TensorBatches", "RunTracker"):
        assert name in text


def test_missing_results_file_is_one_clear_error(
    tmp_path: Path, course_site_hook: ModuleType
) -> None:
    missing = tmp_path / "reference-accuracy.json"
    with pytest.raises(course_site_hook.SiteSourceError) as raised:
        course_site_hook.load_reference_results(missing)
    assert str(missing) in str(raised.value)
    assert "accuracy-study" in str(raised.value)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"full": {"pytorch": {}}}))
    with pytest.raises(course_site_hook.SiteSourceError, match="tensorflow"):
        course_site_hook.load_reference_results(partial)


def test_unknown_generated_block_is_one_clear_error(course_site_hook: ModuleType) -> None:
    with pytest.raises(course_site_hook.SiteSourceError, match="unknown generated block"):
        course_site_hook.expand_markers("<!-- mlpkit:no-such-block -->", "page.md")
