"""The committed student release is exactly what nbgrader generates from solutions/.

Also checks what the release must never contain (solutions, reference answers,
hidden tests) and what it must contain (stubs, visible checks, 100 points).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO_ROOT

ASSIGNMENT = "mlp-fashion-mnist"
RELEASE_DIR = REPO_ROOT / "assignments" / ASSIGNMENT
SOURCE_DIR = REPO_ROOT / "solutions" / ASSIGNMENT
NBGRADER = Path(sys.executable).with_name("nbgrader")


def _notebooks(folder: Path) -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.ipynb"))}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO_ROOT / "solutions", course / "solutions")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"load_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
    )
    completed = subprocess.run(
        [str(NBGRADER), "generate_assignment", ASSIGNMENT, "--force", "--no-db"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return course / "assignments" / ASSIGNMENT


def test_committed_release_matches_the_solutions(regenerated) -> None:
    fresh = _notebooks(regenerated)
    committed = _notebooks(RELEASE_DIR)
    assert sorted(committed) == sorted(fresh)
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, (
        f"assignments/ is out of date for {stale}: run "
        f"`.venv/bin/nbgrader generate_assignment {ASSIGNMENT} --force --no-db` and commit."
    )


def _release_cells():
    for path in sorted(RELEASE_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            yield path.name, cell


def test_release_gives_no_answer_away() -> None:
    forbidden = (
        "BEGIN SOLUTION",
        "BEGIN HIDDEN TESTS",
        "Reference answer",
        "xavier_uniform_(module",
    )
    for name, cell in _release_cells():
        for text in forbidden:
            assert text not in cell.source, f"{name} leaks {text!r}"


def test_every_task_is_a_stub_with_a_docstring_or_an_answer_box() -> None:
    for name, cell in _release_cells():
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source, f"{name}:{grading['grade_id']}"
            if "def " in cell.source:
                assert '"""' in cell.source, f"{name}:{grading['grade_id']} lacks a docstring"
        if grading.get("solution") and cell.cell_type == "markdown":
            assert cell.source.strip() == "YOUR ANSWER HERE"


def test_points_sum_to_one_hundred() -> None:
    points = {}
    for name, cell in _release_cells():
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade"):
            points[f"{name}:{grading['grade_id']}"] = grading["points"]
    assert sum(points.values()) == 100, points
    assert sum(1 for name in points if ":answer_" in name) >= 5, (
        "written answers are graded by hand"
    )


def test_every_notebook_ends_with_a_summary_and_exercises() -> None:
    """A lesson ends with what was learned (with measured numbers) and 2-4 exercises,
    at least one asking the student to predict an effect before trying it."""
    for path in sorted(RELEASE_DIR.glob("*.ipynb")):
        *_, summary, exercises = nbformat.read(path, as_version=4).cells
        assert summary.cell_type == "markdown" and summary.source.startswith("## Summary"), (
            f"{path.name}: the second-to-last cell should be '## Summary'"
        )
        assert re.search(r"\d\.\d{3}", summary.source), f"{path.name}: the summary has no figure"
        assert exercises.cell_type == "markdown" and exercises.source.startswith("## Exercises"), (
            f"{path.name}: the last cell should be '## Exercises'"
        )
        items = re.findall(r"^\d+\. ", exercises.source, re.MULTILINE)
        assert 2 <= len(items) <= 4, f"{path.name}: {len(items)} exercises"
        assert re.search(r"\bpredict", exercises.source, re.IGNORECASE), (
            f"{path.name}: no exercise asks to predict an effect first"
        )


def test_research_notes_are_collapsed_going_further_blocks() -> None:
    for name, cell in _release_cells():
        if cell.cell_type != "markdown" or "<details>" not in cell.source:
            continue
        for block in re.findall(r"<details>(.*?)</details>", cell.source, re.DOTALL):
            assert block.strip().startswith("<summary>Going further"), (name, block[:80])
