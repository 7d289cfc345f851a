"""The sample submissions graded as a class: locally, on a real Dask cluster, into nbgrader.

One local class run of the three sample submissions is shared by both tests.
To keep CI within its time budget the samples hold only notebooks 01 and 04
(seconds to grade; 02 and 03 are graded as not submitted, which nbgrader scores
0 too): the framework notebooks go through the same runner and grader process
and have their own check tests, and ``benchmarks/class_grading.py`` compares
whole submissions with nbgrader autograde.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from autograder.context import source_dir
from autograder.export.gradebook import import_results
from autograder.export.nbgrader_course import ASSIGNMENT, Course
from autograder.grade.classroom import grade_class
from autograder.grade.core import graded_cell_points
from autograder.grade.samples import build_submission, sample_submissions
from tests.autograder.sandbox.users import leftover_processes
from tests.conftest import REPO_ROOT

NOTEBOOKS = ["01-data-exploration.ipynb", "04-framework-comparison.ipynb"]
DAEMON = """
import os
def class_counts(labels):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "4343"])
        os._exit(0)
    return np.bincount(np.asarray(labels), minlength=10)
"""
DASK = Path(sys.executable).with_name("dask")


def _comparable(result: dict) -> dict:
    """What must not depend on where a submission was graded (not timings or hosts)."""
    return {
        "student": result["student"],
        "points": result["points"],
        "max_points": result["max_points"],
        "notebooks": [
            {
                "notebook": notebook["notebook"],
                "problem": notebook["problem"],
                "cells": [
                    (cell["grade_id"], cell["points"], cell["max_points"], cell["feedback"])
                    for cell in notebook["cells"]
                ],
            }
            for notebook in result["notebooks"]
        ],
    }


@pytest.fixture(scope="module")
def samples():
    """The sample submissions with notebooks 01 and 04 (under tempfile: the sandbox reads them)."""
    root = Path(tempfile.mkdtemp(prefix="class-samples-"))
    folders = sample_submissions(root / "built")
    for folder in folders.values():
        for notebook in folder.glob("*.ipynb"):
            if notebook.name not in NOTEBOOKS:
                notebook.unlink()
    daemon = root / "built" / "leaves-a-daemon"
    shutil.copytree(folders["reference"], daemon)
    build_submission(NOTEBOOKS[0], "daemon", {"class_counts": DAEMON}, root / "scratch").replace(
        daemon / NOTEBOOKS[0]
    )
    yield root, folders
    assert leftover_processes("sleep 4343") == [], "a student's daemon outlived its grading"
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def local_results(samples) -> dict[str, dict]:
    root, _ = samples
    run = grade_class(
        [root / "built"],
        assignment=ASSIGNMENT,
        output=root / "local",
        workers=2,
        progress=False,
    )
    assert not run.failed and len(run.graded) == 4
    return {result["student"]: result for result in run.results}


def test_sample_scores(local_results) -> None:
    totals = {student: result["points"] for student, result in local_results.items()}
    assert totals == {
        "reference": 5,
        "untouched-release": 0,
        "evaluate-tracks-gradients": 5,
        "leaves-a-daemon": 5,
    }
    assert leftover_processes("sleep 4343") == []


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A real `dask scheduler` and 2 `dask worker` processes on loopback."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    processes = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
             "--no-dashboard"],
            cwd=REPO_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        for index in range(2):
            processes.append(
                subprocess.Popen(
                    [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
                     "--no-dashboard", "--memory-limit", "0", "--name", f"worker-{index}"],
                    cwd=REPO_ROOT, env=environment, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, processes[1:]
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.timeout(900)
def test_dask_cluster_gives_the_local_results(samples, local_results, dask_cluster) -> None:
    """Same verdicts through a 2-worker cluster, even when a worker process is SIGKILLed."""
    root, _ = samples
    address, workers = dask_cluster
    killed: list[int] = []

    def kill_a_worker_mid_run() -> None:
        # A job on notebooks 01 and 04 can finish within seconds, so the worker is
        # found first and killed only while its job is still running; a job that
        # ended meanwhile just means trying the next one.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for nanny in workers:
                for child in _children(nanny.pid):
                    try:
                        if "autograder.grade.job" not in " ".join(child.cmdline()):
                            continue
                        worker = child.parent()
                        time.sleep(1)  # mid-run: the grader has started its probe
                        if worker is None or not child.is_running():
                            continue
                        worker.send_signal(signal.SIGKILL)
                    except psutil.NoSuchProcess:
                        continue
                    killed.append(worker.pid)
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_a_worker_mid_run, daemon=True)
    killer.start()
    run = grade_class(
        [root / "built"],
        assignment=ASSIGNMENT,
        output=root / "dask",
        scheduler=address,
        progress=False,
    )
    killer.join(timeout=5)
    assert killed, "no worker was killed mid-run"
    assert not run.failed and sorted(run.graded) == sorted(local_results)
    for result in run.results:
        assert _comparable(result) == _comparable(local_results[result["student"]])
    assert {result["host"] for result in run.results} == {socket.gethostname()}
    assert leftover_processes("sleep 4343") == [], "a daemon outlived its task on a Dask worker"


def _gradebook_scores(db_url: str, students) -> dict:
    """Per student: the submission's score and every test cell's auto score, by notebook."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(db_url) as gradebook:
        for student in students:
            submission = gradebook.find_submission(ASSIGNMENT, student)
            cells = {
                (notebook.name, grade.name): grade.auto_score
                for notebook in submission.notebooks
                for grade in notebook.grades
                if grade.name in TEST_CELLS or notebook.name not in SUBMITTED_STEMS
            }
            scores[student] = (submission.score, cells)
    return scores


SUBMITTED_STEMS = {Path(name).stem for name in NOTEBOOKS}
TEST_CELLS = {name for path in source_dir().glob("*.ipynb") for name in graded_cell_points(path)}


@pytest.mark.timeout(900)
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission
def test_gradebook_import_matches_nbgrader_autograde(samples, local_results) -> None:
    """Autograded test cells and submission totals equal; written answers stay with people."""
    root, all_samples = samples
    # On notebooks 01 and 04 the sample mistake (in 03) is the reference: two suffice.
    folders = {name: all_samples[name] for name in ("reference", "untouched-release")}
    course = Course(root / "course")
    pristine = root / "course" / "before-autograde.db"
    for student, folder in folders.items():
        course.submit(student, {path.name: path for path in folder.glob("*.ipynb")})
    shutil.copyfile(course.gradebook, pristine)  # the assignment and students, no grades yet
    course.run("autograde", ASSIGNMENT, "--force")
    autograded = _gradebook_scores(f"sqlite:///{course.gradebook}", folders)

    imported = import_results(
        [local_results[name] for name in folders],
        db_url=f"sqlite:///{pristine}",
        assignment=ASSIGNMENT,
    )
    assert imported == 2
    assert _gradebook_scores(f"sqlite:///{pristine}", folders) == autograded
    reference_score, _ = autograded["reference"]
    assert reference_score == local_results["reference"]["points"] == 5
    _, release = autograded["untouched-release"]
    assert release[("01-data-exploration", "check_class_counts")] == 0
    assert release[("03-pytorch-mlp", "check_evaluate")] == 0  # not submitted
