"""Hostile submissions gain nothing, honest ones keep their points, bystanders are untouched.

Every scenario of ``hostile.py`` (forged answers, patched hosts and builtins,
embedded weights, lying optimizers and layers, process and memory attacks,
exits, YAML bombs, mistakes and valid alternatives across notebooks 01 to 05)
is one student of one class, graded by the command instructors run
(``python -m autograder grade``, 2 workers), beside two honest bystanders. A
representative subset is graded again by real ``nbgrader autograde``; both
must agree cell by cell.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder.export.nbgrader_course import ASSIGNMENT, Course
from autograder.grade.core import graded_cell_points
from tests.autograder.hostile import SCENARIOS, Scenario
from tests.autograder.sandbox.users import leftover_processes
from tests.conftest import REPO_ROOT, SOLUTIONS_DIR

pytestmark = pytest.mark.timeout(3600)  # one class run of 40 students, framework notebooks too
RELEASE_DIR = REPO_ROOT / "assignments" / ASSIGNMENT
NOTEBOOKS = sorted(path.name for path in SOLUTIONS_DIR.glob("*.ipynb"))
BYSTANDERS = {
    "aa-bystander": [
        "01-data-exploration.ipynb",
        "04-framework-comparison.ipynb",
        "05-hyperparameter-tuning.ipynb",
    ],
    "zz-bystander": NOTEBOOKS,
}


def build(scenario: Scenario, folder: Path) -> Path:
    """The scenario's notebook: the solution (or release) with cells replaced or prefixed."""
    base = RELEASE_DIR if scenario.release else SOLUTIONS_DIR
    notebook = nbformat.read(base / scenario.notebook, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in scenario.replacements:
            cell.source = scenario.replacements[grade_id].strip("\n")
        if grade_id in scenario.prepend:
            cell.source = scenario.prepend[grade_id].strip("\n") + "\n" + cell.source
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / scenario.notebook)
    return folder / scenario.notebook


def expected_points(scenario: Scenario) -> dict[str, float | None]:
    """Each autograded cell of the scenario's notebook: its honest points (None: either)."""
    points = graded_cell_points(SOLUTIONS_DIR / scenario.notebook)
    return {
        cell: None if cell in scenario.either else (0.0 if cell in scenario.lost else maximum)
        for cell, maximum in points.items()
    }


@pytest.fixture(scope="module")
def classroom():
    root = Path(tempfile.mkdtemp(prefix="adversarial-"))
    for scenario in SCENARIOS:
        build(scenario, root / "class" / scenario.name)
    for student, names in BYSTANDERS.items():
        (root / "class" / student).mkdir(parents=True)
        for name in names:
            shutil.copyfile(SOLUTIONS_DIR / name, root / "class" / student / name)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(classroom) -> dict[str, dict]:
    """Every student's result from one class run of the real command."""
    output = classroom / "graded"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(classroom / "class"),
            "--workers",
            "2",
            "--output",
            str(output),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=3600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = {}
    for path in (output / "students").glob("*.json"):
        result = json.loads(path.read_text())
        results[result["student"]] = result
    return results


def cell_points(result: dict, notebook: str) -> dict[str, float]:
    found = next(item for item in result["notebooks"] if item["notebook"] == notebook)
    return {cell["grade_id"]: cell["points"] for cell in found["cells"]}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_no_hostile_submission_gains_a_point(graded, scenario: Scenario) -> None:
    result = graded[scenario.name]
    got = cell_points(result, scenario.notebook)
    for cell, expected in expected_points(scenario).items():
        if expected is not None:
            feedback = next(
                item["feedback"]
                for notebook in result["notebooks"]
                for item in notebook["cells"]
                if item["grade_id"] == cell and notebook["notebook"] == scenario.notebook
            )
            assert got[cell] == expected, f"{cell}: {got[cell]} instead of {expected} ({feedback})"
    others = [item for item in result["notebooks"] if item["notebook"] != scenario.notebook]
    assert all(item["points"] == 0 for item in others), "a notebook that was not submitted scored"
    assert result["isolation"] == "full"


def test_bystanders_keep_every_point(graded) -> None:
    for student, names in BYSTANDERS.items():
        result = graded[student]
        for name in names:
            points = cell_points(result, name)
            assert points == graded_cell_points(SOLUTIONS_DIR / name), (student, name, points)


def test_nothing_outlives_the_class_run(graded) -> None:
    assert leftover_processes("autograder.sandbox.host") == []
    assert leftover_processes("sleep 4242") == []


def test_feedback_names_the_mistake_without_hidden_code(graded) -> None:
    result = graded["pytorch-create-model-exits-the-process"]
    feedback = [
        message
        for notebook in result["notebooks"]
        for cell in notebook["cells"]
        if cell["grade_id"] == "check_create_model"
        and notebook["notebook"] == "03-pytorch-mlp.ipynb"
        for message in cell["feedback"]
    ]
    assert any("exited" in message for message in feedback), feedback
    evaluate = graded["pytorch-evaluate-without-no-grad-patches-the-probe"]
    text = json.dumps(evaluate)
    assert "gradient tracking" in text and "def test_" not in text


NBGRADER = [scenario for scenario in SCENARIOS if scenario.nbgrader]


@pytest.fixture(scope="module")
def course(classroom) -> Course:
    course = Course(classroom / "course")
    for scenario in NBGRADER:
        course.submit(
            scenario.name,
            {scenario.notebook: classroom / "class" / scenario.name / scenario.notebook},
        )
    course.submit(
        "aa-bystander", {name: SOLUTIONS_DIR / name for name in BYSTANDERS["aa-bystander"]}
    )
    course.run("autograde", ASSIGNMENT, "--force", timeout=3600)
    return course


def test_nbgrader_autograde_agrees_cell_by_cell(course, graded) -> None:
    for scenario in NBGRADER:
        scores = course.scores(scenario.name)[Path(scenario.notebook).stem]
        ours = cell_points(graded[scenario.name], scenario.notebook)
        automatic = {cell: scores[cell] for cell in ours}
        assert automatic == ours, (scenario.name, automatic, ours)
    bystander = course.scores("aa-bystander")
    for name in BYSTANDERS["aa-bystander"]:
        expected = graded_cell_points(SOLUTIONS_DIR / name)
        assert {cell: bystander[Path(name).stem][cell] for cell in expected} == expected
