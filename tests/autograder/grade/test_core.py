"""The grading core, driven in-process: bad submissions get 0 and a clear line, never a crash."""

from __future__ import annotations

import json

from autograder.grade.core import grade_notebook, grade_submission, graded_cell_points
from autograder.grade.samples import build_submission
from autograder.sandbox.runner import SandboxLimits
from tests.conftest import SOLUTIONS_DIR

EXPLORATION = "01-data-exploration.ipynb"


def test_points_come_from_the_source_notebooks() -> None:
    total = sum(sum(graded_cell_points(path).values()) for path in SOLUTIONS_DIR.glob("*.ipynb"))
    assert total == 100 - 19, "100 points minus the 19 graded by hand"


def test_reference_and_release(tmp_path) -> None:
    assert grade_notebook(SOLUTIONS_DIR / EXPLORATION).points == 2
    release = SOLUTIONS_DIR.parents[1] / "assignments" / "mlp-fashion-mnist" / EXPLORATION
    verdict = grade_notebook(release)
    assert verdict.points == 0
    assert "NotImplementedError" in verdict.cells[0].feedback[0]


def test_malformed_missing_and_empty_submissions(tmp_path) -> None:
    broken = tmp_path / EXPLORATION
    broken.write_text('{"cells": [')
    verdict = grade_notebook(broken)
    assert verdict.points == 0 and "not a valid notebook" in verdict.cells[0].feedback[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    verdicts = grade_submission(empty, limits=SandboxLimits(wall_seconds=60))
    assert [verdict.points for verdict in verdicts] == [0, 0, 0, 0, 0]
    assert all("was not submitted" in verdict.problem for verdict in verdicts)
    assert json.loads(json.dumps([verdict.to_dict() for verdict in verdicts]))


def test_a_hanging_answer_scores_zero_with_a_reason(tmp_path) -> None:
    hanging = build_submission(
        EXPLORATION, "hangs-forever", {"class_counts": "while True:\n    pass"}, tmp_path
    )
    verdict = grade_notebook(
        hanging, notebook_name=EXPLORATION, limits=SandboxLimits(wall_seconds=10)
    )
    assert verdict.points == 0
    assert "time limit" in verdict.cells[0].feedback[0]


def test_a_crashing_answer_scores_zero_with_a_reason(tmp_path) -> None:
    crashing = build_submission(
        EXPLORATION,
        "kernel-crash",
        {"class_counts": "import os\nos.kill(os.getpid(), 9)"},
        tmp_path,
    )
    verdict = grade_notebook(crashing, notebook_name=EXPLORATION)
    assert verdict.points == 0
    assert "killed" in verdict.cells[0].feedback[0]
