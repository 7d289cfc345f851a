# ruff: noqa: E501  (hostile code samples keep their own lines)
"""Grading fails closed where student code cannot be isolated, and weak isolation is recorded.

The refusals are real: bubblewrap missing from ``PATH``, and user namespaces blocked by
the kernel for an ordinary user (the grader runs inside a bubblewrap sandbox that
forbids nested user namespaces, as many Kubernetes runtimes do).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.autograder.sandbox.users import Grader, new_home, ordinary_grader, root_grader
from tests.conftest import SOLUTIONS_DIR

EXPLORATION = "01-data-exploration.ipynb"
BLOCK_USER_NAMESPACES = (
    "bwrap",
    "--unshare-user",
    "--disable-userns",
    "--dev-bind",
    "/",
    "/",
    "--",
)


@pytest.fixture(scope="module")
def nobody() -> Grader:
    home = new_home()
    yield ordinary_grader(home)
    shutil.rmtree(home, ignore_errors=True)


def submission(grader: Grader) -> Path:
    folder = grader.home / "submission-alice"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, folder / EXPLORATION)
    folder.chmod(0o777)
    (folder / EXPLORATION).chmod(0o644)
    return folder


def grade(grader: Grader, *options: str, **environment: str):
    output = grader.home / "graded"
    completed = grader.run(
        "-m",
        "autograder",
        "grade",
        str(submission(grader)),
        "--notebook",
        EXPLORATION,
        "--output",
        str(output),
        "--force",
        "--no-progress",
        *options,
        **environment,
    )
    return completed, output


def test_without_bubblewrap_grading_refuses_and_says_how_to_fix_it(tmp_path) -> None:
    grader = root_grader(tmp_path)
    completed, output = grade(grader, PATH="/nonexistent")
    assert completed.returncode == 2, completed.stderr
    assert (
        "bubblewrap (bwrap) is not installed; install it: apt-get install bubblewrap"
        in completed.stderr
    )
    assert "--allow-weak-isolation" in completed.stderr
    assert not (output / "students").exists(), "nothing was graded"


def test_with_weak_isolation_allowed_every_result_records_it(tmp_path) -> None:
    grader = root_grader(tmp_path)
    completed, output = grade(grader, "--allow-weak-isolation", PATH="/nonexistent")
    assert completed.returncode == 0, completed.stderr
    assert "isolation of student code: weak" in completed.stdout
    with (output / "grades.csv").open() as table:
        row = next(csv.DictReader(table))
    assert (row["isolation"], row["total"]) == ("weak", "2.0")
    result = json.loads(next((output / "students").glob("*.json")).read_text())
    assert result["notebooks"][0]["isolation_level"] == "weak"


def test_blocked_user_namespaces_refuse_then_weak_isolation_grades(nobody: Grader) -> None:
    blocked = Grader(
        nobody.user,
        (*nobody.prefix, *BLOCK_USER_NAMESPACES),
        nobody.python,
        nobody.code,
        nobody.home,
    )
    completed, _ = grade(blocked)
    assert completed.returncode == 2, completed.stderr
    assert "user namespaces are blocked here" in completed.stderr
    completed, output = grade(blocked, "--allow-weak-isolation")
    assert completed.returncode == 0, completed.stderr
    assert "weak" in (output / "grades.csv").read_text()


def test_an_ordinary_user_grades_with_full_isolation(nobody: Grader) -> None:
    completed, output = grade(nobody)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(next((output / "students").glob("*.json")).read_text())
    notebook = result["notebooks"][0]
    assert (result["points"], result["isolation"]) == (2.0, "full")
    assert "mode:user-namespace" in notebook["isolation"]
