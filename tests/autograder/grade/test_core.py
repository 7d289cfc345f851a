"""The grading core, driven in-process: bad submissions get 0 and a clear line, never a crash."""

from __future__ import annotations

import json

from autograder.grade.core import grade_notebook, grade_submission, graded_cell_points
from autograder.grade.samples import build_submission
from autograder.measure.pipelines import CELLS, PIPELINES
from tests.autograder.conftest import context_with
from tests.conftest import REPO_ROOT, SOLUTIONS_DIR

EXPLORATION = "01-data-exploration.ipynb"
RELEASE_DIR = REPO_ROOT / "assignments" / "mlp-fashion-mnist"


def test_points_come_from_the_source_notebooks() -> None:
    total = sum(sum(graded_cell_points(path).values()) for path in SOLUTIONS_DIR.glob("*.ipynb"))
    assert total == 100 - 19, "100 points minus the 19 graded by hand"


def test_each_kind_measures_its_parts_in_this_order() -> None:
    assert {kind: [part.name for part in parts] for kind, parts in PIPELINES.items()} == {
        "exploration": ["class_counts"],
        "comparison": ["generalisation_gap"],
        "tuning": ["search_spaces"],
        "pytorch": [
            "split_data",
            "create_model",
            "loss_fn",
            "make_optimizer",
            "train_epoch",
            "evaluate",
            "fit",
            "accuracy",
        ],
        "tensorflow": ["create_model", "compile_model", "train_model", "accuracy"],
    }
    assert CELLS["tensorflow"] == ("setup", "create_model", "compile_model", "train_model")


def test_reference_and_release(grading_context) -> None:
    assert grade_notebook(SOLUTIONS_DIR / EXPLORATION, context=grading_context).points == 2
    verdict = grade_notebook(RELEASE_DIR / EXPLORATION, context=grading_context)
    assert verdict.points == 0
    assert "not implemented yet" in verdict.cells[0].feedback[0]
    assert verdict.isolation_level == "full" and "pid-namespace" in verdict.isolation


def test_malformed_missing_and_empty_submissions(grading_context, tmp_path) -> None:
    broken = tmp_path / EXPLORATION
    broken.write_text('{"cells": [')
    verdict = grade_notebook(broken, context=grading_context)
    assert verdict.points == 0 and "not a valid notebook" in verdict.cells[0].feedback[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    verdicts = grade_submission(empty, context=grading_context)
    assert [verdict.points for verdict in verdicts] == [0, 0, 0, 0, 0]
    assert all("was not submitted" in verdict.problem for verdict in verdicts)
    assert json.loads(json.dumps([verdict.to_dict() for verdict in verdicts]))


def test_a_hanging_answer_scores_zero_within_the_limit(tmp_path) -> None:
    hanging = build_submission(
        EXPLORATION,
        "hangs-forever",
        {
            "class_counts": (
                "import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
                "while True:\n    pass"
            )
        },
        tmp_path,
    )
    verdict = grade_notebook(
        hanging, notebook_name=EXPLORATION, context=context_with(wall_seconds=15)
    )
    assert verdict.points == 0
    assert "took longer than" in verdict.cells[0].feedback[0], verdict.cells[0].feedback
    assert verdict.seconds < 15 + 10


def test_a_crashing_answer_scores_zero_with_a_reason(grading_context, tmp_path) -> None:
    crashing = build_submission(
        EXPLORATION,
        "kernel-crash",
        {"class_counts": "import os\nos.kill(os.getpid(), 9)"},
        tmp_path,
    )
    verdict = grade_notebook(crashing, notebook_name=EXPLORATION, context=grading_context)
    assert verdict.points == 0
    assert "killed" in verdict.cells[0].feedback[0], verdict.cells[0].feedback
