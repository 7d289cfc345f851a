"""Class grading without grading: layouts, bad input, GPU assignment, output formats (seconds)."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from autograder.cli import run
from autograder.export.gradescope import gradescope_results
from autograder.export.tables import grades_csv, read_student_result, write_student_result
from autograder.grade.devices import parse_nvidia_smi, visible_gpus, worker_environments
from autograder.grade.job import RESULT_SCHEMA
from autograder.grade.submissions import assignment_notebooks, discover
from tests.conftest import DATA_DIR, REPO_ROOT, SOLUTIONS_DIR

ASSIGNMENT = "mlp-fashion-mnist"
RELEASE_DIR = REPO_ROOT / "assignments" / ASSIGNMENT
NOTEBOOKS = assignment_notebooks(ASSIGNMENT)
EXPLORATION, PYTORCH = "01-data-exploration.ipynb", "03-pytorch-mlp.ipynb"


def _found(jobs) -> dict[str, dict[str, str | None]]:
    return {
        job.student: {name: (path.name if path else None) for name, path in job.notebooks.items()}
        for job in jobs
    }


def test_nbgrader_layout_and_course_root(tmp_path) -> None:
    for student in ("ada", "ben"):
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, folder / EXPLORATION)
    for root in (tmp_path, tmp_path / "submitted"):
        found = _found(discover(root, assignment=ASSIGNMENT, notebooks=NOTEBOOKS))
        assert list(found) == ["ada", "ben"]
        assert found["ada"][EXPLORATION] == EXPLORATION and found["ada"][PYTORCH] is None


def test_flat_files_are_recognised_by_their_cell_ids(tmp_path) -> None:
    shutil.copyfile(RELEASE_DIR / PYTORCH, tmp_path / "cleo.ipynb")  # renamed by an LMS
    shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, tmp_path / "dan_final_v2.ipynb")
    (tmp_path / "eve").mkdir()
    shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, tmp_path / "eve" / EXPLORATION)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    found = _found(discover(tmp_path, assignment=ASSIGNMENT, notebooks=NOTEBOOKS))
    assert sorted(found) == ["cleo", "dan_final_v2", "eve"]
    assert found["cleo"][PYTORCH] == "cleo.ipynb" and found["cleo"][EXPLORATION] is None
    assert found["dan_final_v2"][EXPLORATION] == "dan_final_v2.ipynb"
    assert found["eve"][EXPLORATION] == EXPLORATION


def test_one_submission_folder_is_one_student(tmp_path) -> None:
    folder = tmp_path / "frida"
    folder.mkdir()
    shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, folder / EXPLORATION)
    jobs = discover(folder, assignment=ASSIGNMENT, notebooks=[EXPLORATION])
    assert [job.student for job in jobs] == ["frida"]
    assert list(jobs[0].notebooks) == [EXPLORATION]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{missing}"], "does not exist"),
        (["{empty}"], "No notebooks found in"),
        (["{one}", "--assignment", "mlp-cifar"], "Unknown assignment 'mlp-cifar'"),
        (["{one}", "--workers", "0"], "--workers must be at least 1"),
        (["{one}", "--notebook", "99-extra.ipynb"], "99-extra.ipynb is not a notebook"),
        (["{one}", "--scheduler", "tcp://127.0.0.1:{port}"], "Cannot reach the Dask scheduler"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, capsys, arguments, message) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "one").mkdir()
    shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, tmp_path / "one" / EXPLORATION)
    values = {
        "missing": tmp_path / "missing",
        "empty": tmp_path / "empty",
        "one": tmp_path / "one",
        "port": _free_port(),
    }
    argv = ["grade", *[argument.format(**values) for argument in arguments]]
    argv += ["--output", str(tmp_path / "out"), "--no-progress"]
    assert run(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error
    assert len(error.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        (None, "FASHION_MNIST_DIR is not set"),
        ("{missing}", "is not a folder"),
        ("{partial}", "lacks t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"),
    ],
    ids=["unset", "not-a-folder", "test-files-missing"],
)
def test_a_missing_dataset_stops_the_class_before_any_grader(
    tmp_path, capsys, monkeypatch, dataset, message
) -> None:
    (tmp_path / "one").mkdir()
    shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, tmp_path / "one" / EXPLORATION)
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        shutil.copyfile(DATA_DIR / name, partial / name)
    if dataset is None:
        monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    else:
        values = {"missing": tmp_path / "missing", "partial": partial}
        monkeypatch.setenv("FASHION_MNIST_DIR", dataset.format(**values))
    output = tmp_path / "out"
    assert run(["grade", str(tmp_path / "one"), "--output", str(output), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error
    assert len(error.strip().splitlines()) == 1
    assert not (output / "students").exists() or not any((output / "students").iterdir())


def test_gradebook_import_needs_graded_students(tmp_path, capsys) -> None:
    assert run(["import-gradebook", str(tmp_path), "--db", f"sqlite:///{tmp_path}/g.db"]) == 2
    assert "No graded students in" in capsys.readouterr().err


def test_one_worker_per_visible_gpu() -> None:
    listing = (
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1a)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2b)\n"
    )
    assert parse_nvidia_smi(listing) == ["0", "1"]
    assert visible_gpus({}, listing) == ["0", "1"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}, listing) == ["2", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}, listing) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}, listing) == []
    assert visible_gpus({"AUTOGRADER_DEVICE_CLASS": "cpu"}, listing) == []
    assert visible_gpus({}, "No devices were found\n") == []
    gpu = {"AUTOGRADER_DEVICE_CLASS": "gpu"}
    assert worker_environments(["2", "3"], None) == [
        {"CUDA_VISIBLE_DEVICES": "2", **gpu},
        {"CUDA_VISIBLE_DEVICES": "3", **gpu},
    ]
    shared = worker_environments(["0", "1"], 3)
    assert [environment["CUDA_VISIBLE_DEVICES"] for environment in shared] == ["0", "1", "0"]
    assert [env["CUDA_VISIBLE_DEVICES"] for env in worker_environments(["0", "1"], 1)] == ["0"]
    cpu = worker_environments([], 2)
    assert cpu == [{"CUDA_VISIBLE_DEVICES": "", "AUTOGRADER_DEVICE_CLASS": "cpu"}] * 2
    assert len(worker_environments([], None)) == 1
    with pytest.raises(ValueError, match="at least 1"):
        worker_environments(["0"], 0)


RESULT = {
    "schema": RESULT_SCHEMA,
    "student": "gus",
    "assignment": ASSIGNMENT,
    "fingerprint": "f" * 64,
    "device_class": "cpu",
    "isolation": "weak",
    "points": 2.0,
    "max_points": 5.0,
    "seconds": 12.6,
    "notebooks": [
        {
            "notebook": EXPLORATION,
            "points": 2.0,
            "cells": [
                {"grade_id": "check_class_counts", "points": 2.0, "max_points": 2.0, "feedback": []}
            ],
        },
        {
            "notebook": "04-framework-comparison.ipynb",
            "points": 0.0,
            "cells": [
                {
                    "grade_id": "check_generalisation_gap",
                    "points": 0.0,
                    "max_points": 3.0,
                    "feedback": ["generalisation_gap raised KeyError"],
                }
            ],
        },
    ],
}


def test_gradescope_results_follow_the_spec() -> None:
    results = gradescope_results(RESULT)
    assert results["score"] == 2.0 and results["execution_time"] == 13
    assert [test["name"] for test in results["tests"]] == [
        "01-data-exploration: check_class_counts",
        "04-framework-comparison: check_generalisation_gap",
    ]
    failed = results["tests"][1]
    assert (failed["score"], failed["max_score"], failed["visibility"]) == (0.0, 3.0, "visible")
    assert "generalisation_gap raised KeyError" in failed["output"]
    assert sum(test["max_score"] for test in results["tests"]) == RESULT["max_points"]
    assert gradescope_results(RESULT, visibility="after_published")["tests"][0]["visibility"] == (
        "after_published"
    )
    with pytest.raises(ValueError, match="visibility"):
        gradescope_results(RESULT, visibility="public")


def test_student_json_is_the_resume_marker_and_feeds_the_csv(tmp_path) -> None:
    path = write_student_result(tmp_path, RESULT)
    assert read_student_result(path) == RESULT
    path.write_text(json.dumps(RESULT)[:100])  # a partial write (it never is: atomic rename)
    assert read_student_result(path) is None
    lines = grades_csv([RESULT]).splitlines()
    assert lines[0] == (
        "student,total,max,isolation,01-data-exploration,01-data-exploration:check_class_counts,"
        "04-framework-comparison,04-framework-comparison:check_generalisation_gap"
    )
    assert lines[1] == "gus,2.0,5.0,weak,2.0,2.0,0.0,0.0"


def test_notebook_names_work_with_or_without_the_suffix() -> None:
    """Like nbgrader's own --notebook option, the bare name selects the notebook too."""
    assert assignment_notebooks(ASSIGNMENT, ["01-data-exploration"]) == [EXPLORATION]
    assert assignment_notebooks(ASSIGNMENT, ["01-data-exploration.ipynb"]) == [EXPLORATION]
    with pytest.raises(ValueError, match="is not a notebook"):
        assignment_notebooks(ASSIGNMENT, ["06-extra"])
