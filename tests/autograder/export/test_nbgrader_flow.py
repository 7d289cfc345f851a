"""nbgrader autograde records verdicts computed outside the student's kernel.

Uses notebooks 01 and 04 (seconds to grade); the framework notebooks go through
the same preprocessor and are covered by their own check tests.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.export.nbgrader_course import ASSIGNMENT, Course
from autograder.grade.samples import build_submission
from tests.conftest import REPO_ROOT, SOLUTIONS_DIR

EXPLORATION = "01-data-exploration.ipynb"
COMPARISON = "04-framework-comparison.ipynb"

ALWAYS_EQUAL = '''
def class_counts(labels):
    """Return an object equal to anything (nbgrader #1379)."""
    class Anything(list):
        def __eq__(self, other):
            return True
    return Anything()
'''
PATCHED_KERNEL = """
import builtins
builtins.AssertionError = type("Silent", (Exception,), {})
get_ipython().showtraceback = lambda *arguments, **keywords: None
print("check_class_counts passed, 2 / 2 points")

def class_counts(labels):
    raise NotImplementedError()
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    return Course(tmp_path_factory.mktemp("course"))


def test_reference_scores_full_autograded_points(course, tmp_path) -> None:
    course.submit("reference", {name: SOLUTIONS_DIR / name for name in (EXPLORATION, COMPARISON)})
    course.autograde("reference")
    scores = course.scores("reference")
    assert scores["01-data-exploration"]["check_class_counts"] == 2
    assert scores["04-framework-comparison"]["check_generalisation_gap"] == 3


STUB = "def class_counts(labels):\n    raise NotImplementedError()"


@pytest.mark.parametrize(
    ("scenario", "replacements"),
    [
        ("always-equal-object", {"class_counts": ALWAYS_EQUAL}),
        ("patched-kernel-and-fake-output", {"class_counts": PATCHED_KERNEL}),
        ("edited-test-cell", {"class_counts": STUB, "check_class_counts": "print('passed')"}),
    ],
)
def test_tampering_in_the_kernel_gains_nothing(course, tmp_path, scenario, replacements) -> None:
    submitted = build_submission(EXPLORATION, scenario, replacements, tmp_path)
    course.submit(scenario, {EXPLORATION: submitted})
    course.autograde(scenario)
    assert course.scores(scenario)["01-data-exploration"]["check_class_counts"] == 0


def test_feedback_never_shows_hidden_test_code(course) -> None:
    html = course.feedback_html("reference")
    assert "Hidden checks passed" in html
    assert "BEGIN HIDDEN TESTS" not in html and "Graded by the course autograder" not in html


def test_a_hanging_student_is_graded_and_the_next_one_too(course, tmp_path, monkeypatch) -> None:
    """A cell that never ends is stopped at the notebook's wall limit (the driver's timeout, the
    sandbox's backstop behind it); both students reach the gradebook."""
    monkeypatch.setenv("MLPKIT_PROBE_WALL_SECONDS", "20")
    hanging = build_submission(
        EXPLORATION, "hangs-in-the-kernel", {"class_counts": "while True:\n    pass"}, tmp_path
    )
    course.submit("hanging", {EXPLORATION: hanging})
    course.submit("after-hanging", {EXPLORATION: SOLUTIONS_DIR / EXPLORATION})
    course.run("autograde", "mlp-fashion-mnist", "--student", "*hanging", "--force")
    assert course.scores("hanging")["01-data-exploration"]["check_class_counts"] == 0
    assert course.scores("after-hanging")["01-data-exploration"]["check_class_counts"] == 2


def test_a_student_whose_code_exits_is_graded_and_the_next_one_too(course, tmp_path) -> None:
    """A cell that ends its own process costs that student the points, nobody else's."""
    crashing = build_submission(
        EXPLORATION,
        "kills-its-kernel",
        {"class_counts": "import os\nos._exit(1)"},
        tmp_path,
    )
    course.submit("crashing", {EXPLORATION: crashing})
    course.submit("after-crashing", {EXPLORATION: SOLUTIONS_DIR / EXPLORATION})
    course.run("autograde", "mlp-fashion-mnist", "--student", "*crashing", "--force")
    assert course.scores("crashing")["01-data-exploration"]["check_class_counts"] == 0
    assert course.scores("after-crashing")["01-data-exploration"]["check_class_counts"] == 2


@pytest.fixture(scope="module")
def broken_submissions(course, tmp_path_factory) -> str:
    """One autograde run over a truncated upload and an empty folder; its log."""
    broken = tmp_path_factory.mktemp("truncated-upload") / EXPLORATION
    broken.write_text('{"cells": [{"cell_type": "code", "source": "def class_counts(')
    course.submit(
        "broken-truncated-upload", {EXPLORATION: broken, COMPARISON: SOLUTIONS_DIR / COMPARISON}
    )
    course.submit("broken-empty-folder", {})
    completed = course.run("autograde", "mlp-fashion-mnist", "--student", "broken-*")
    return completed.stderr


def test_an_unreadable_notebook_scores_zero_and_the_rest_is_graded(
    course, broken_submissions
) -> None:
    """Stock autograde drops a student's whole submission over one broken file; here the
    broken notebook scores 0 with a line saying why, the other notebook keeps its points,
    and the submitted bytes stay as they were."""
    scores = course.scores("broken-truncated-upload")
    assert scores["01-data-exploration"]["check_class_counts"] == 0
    assert scores["04-framework-comparison"]["check_generalisation_gap"] == 3
    folder = course.root / "submitted" / "broken-truncated-upload" / "mlp-fashion-mnist"
    assert (folder / EXPLORATION).read_text().endswith('"def class_counts(')
    html = course.feedback_html("broken-truncated-upload")
    assert "could not be graded as submitted" in html
    assert "is not a valid notebook" in html


def test_an_empty_submission_scores_zero_in_the_export(course, broken_submissions) -> None:
    """A folder without notebooks is no submission to nbgrader: autograde goes on with
    the other students, and the export gives the empty one 0, not a missing row."""
    assert "No notebooks were matched" in broken_submissions
    course.run("export", "--to", "grades.csv")
    with (course.root / "grades.csv").open() as table:
        rows = {row["student_id"]: row for row in csv.DictReader(table)}
    assert float(rows["broken-empty-folder"]["score"]) == 0
    assert float(rows["broken-truncated-upload"]["score"]) >= 3


TAMPERING = """
import hashlib, os, pathlib, sys
for root in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents][:6]:
    for target in root.glob("**/autograder/checks/test_exploration.py"):
        try:
            target.write_text("def test_nothing():\\n    pass\\n")
        except OSError:
            pass
    (root / "tampered-by-a-student").write_text("x") if os.access(root, os.W_OK) else None

def class_counts(labels):
    raise NotImplementedError()
"""


def test_autograde_runs_no_student_code_outside_the_sandbox(course, tmp_path) -> None:
    """Top-level code of an answer cell that rewrites the hidden checks and drops a file in
    the course folder never runs in nbgrader's process: nothing changes on disk, the student
    scores 0 and the next student is graded by the untouched checks."""
    checks = sorted((REPO_ROOT / "autograder" / "checks").glob("*.py"))
    before = {path: path.read_bytes() for path in checks}
    tampering = build_submission(
        EXPLORATION, "rewrites-the-checks", {"class_counts": TAMPERING}, tmp_path
    )
    course.submit("tamperer", {EXPLORATION: tampering})
    course.submit("after-tamperer", {EXPLORATION: SOLUTIONS_DIR / EXPLORATION})
    course.run("autograde", "mlp-fashion-mnist", "--student", "*tamperer", "--force")
    assert course.scores("tamperer")["01-data-exploration"]["check_class_counts"] == 0
    assert course.scores("after-tamperer")["01-data-exploration"]["check_class_counts"] == 2
    assert {path: path.read_bytes() for path in checks} == before
    assert not list(course.root.rglob("tampered-by-a-student"))
    assert not (REPO_ROOT / "tampered-by-a-student").exists()


def test_a_course_without_the_grader_refuses_instead_of_running_the_stock_pipeline(
    tmp_path,
) -> None:
    """nbgrader silently drops a config that raises and falls back to executing submissions
    in an ordinary kernel; this config never raises: it refuses every notebook, saying why."""
    root = tmp_path / "course-without-grader"
    shutil.copytree(REPO_ROOT / "solutions", root / "solutions")
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    environment = {
        **os.environ,
        "PYTHONPATH": "",
        "MLPKIT_GRADEBOOK_URL": f"sqlite:///{root}/gradebook.db",
    }
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    nbgrader = [str(Path(sys.executable).with_name("nbgrader"))]
    run = lambda *arguments: subprocess.run(  # noqa: E731
        [*nbgrader, *arguments],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run("generate_assignment", ASSIGNMENT, "--force").returncode == 0
    marker = tmp_path / "ran-outside-the-sandbox"
    executes = build_submission(
        EXPLORATION,
        "marks-the-disk",
        {
            "class_counts": (
                f"open({str(marker)!r}, 'w').write('x')\n"
                "def class_counts(labels):\n    return [0] * 10"
            )
        },
        tmp_path,
    )
    folder = root / "submitted" / "someone" / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copyfile(executes, folder / EXPLORATION)
    run("db", "student", "add", "someone")
    completed = run("autograde", ASSIGNMENT, "--force")
    assert "The course grader cannot be imported" in completed.stderr + completed.stdout
    assert not marker.exists(), "a submission ran in nbgrader's own kernel"
