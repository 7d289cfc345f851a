"""Load and fault test of class grading, through the command users run.

40 generated submissions of notebook 01 (the cheapest hidden checks, so the run
stays within CI's budget; the runner, the grader processes and the sandbox are
the ones every notebook goes through), graded with 2 workers. During the run a
grader process is SIGKILLed, one submission hangs and one eats memory; the
command is interrupted with SIGINT, resumed, SIGKILLed, and resumed again.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from autograder.export.tables import read_class_results
from autograder.grade.classroom import split_done
from autograder.grade.samples import build_submission
from autograder.grade.submissions import discover
from tests.conftest import REPO_ROOT

ASSIGNMENT = "mlp-fashion-mnist"
EXPLORATION = "01-data-exploration.ipynb"
TIME_LIMIT = 30  # every probe gets it: a correct one must fit even on a busy CI machine
STYLES = [  # (body of class_counts, points)
    ("return np.bincount(np.asarray(labels), minlength=10)", 2),
    ("counts = np.zeros(10, dtype=int)\n    for label in labels:\n        counts[label] += 1\n"
     "    return counts", 2),
    ("return np.array([np.sum(np.asarray(labels) == k) for k in range(10)])", 2),
    ("from collections import Counter\n    seen = Counter(int(label) for label in labels)\n"
     "    return [seen.get(k, 0) for k in range(10)]", 2),
    ("return np.bincount(np.asarray(labels))", 0),
    ("return np.bincount(np.asarray(labels), minlength=10) + 1", 0),
    ("return np.ones(10)", 0),
    ("raise ValueError('not finished')", 0),
]  # fmt: skip
FAULTS = {  # student -> (body, what the feedback says)
    # the call's own limit or, on a loaded machine, the notebook's limit stops it first
    "a-hangs": ("while True:\n        pass", "longer than"),
    "b-eats-memory": (
        "import time\n    block = b'x' * (2 * 2**30)\n    time.sleep(60)",
        "used more than 1.0 GB of memory",
    ),
    "c-kills-itself": ("import os\n    os.kill(os.getpid(), 9)", "was killed"),
    "d-syntax-error": ("return (", "SyntaxError"),
}


def _variants(root: Path) -> dict[str, int]:
    """40 submissions in nbgrader's layout; returns the points each must get."""
    expected = {}
    scratch = root / "scratch"
    sources = {student: body for student, (body, _) in FAULTS.items()}
    for index in range(40 - len(FAULTS)):
        body, points = STYLES[index % len(STYLES)]
        student = f"student-{index:02d}"
        sources[student] = f"{body}  # variant {index}"
        expected[student] = points
    for student, body in sources.items():
        code = f"def class_counts(labels):\n    {body}\n"
        built = build_submission(EXPLORATION, student, {"class_counts": code}, scratch)
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        built.replace(folder / EXPLORATION)
        expected.setdefault(student, 0)
    shutil.rmtree(scratch)
    return expected


def _command(submitted: Path, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(submitted),
        "--assignment",
        ASSIGNMENT,
        "--workers",
        "2",
        "--notebook",
        EXPLORATION,
        "--output",
        str(output),
        "--time-limit",
        str(TIME_LIMIT),
        "--memory-limit",
        "1",
        "--no-progress",
    ]


def _start(submitted: Path, output: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _command(submitted, output),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _graders(command: subprocess.Popen) -> dict[int, tuple[psutil.Process, str]]:
    """The running grader processes of a command, with the student each grades."""
    found = {}
    try:
        children = psutil.Process(command.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for child in children:
        try:
            arguments = child.cmdline()
            if "autograder.grade.job" in arguments:
                job = json.loads(Path(arguments[-2]).read_text())
                found[child.pid] = (child, job["student"])
        except (psutil.Error, OSError, ValueError, IndexError):
            continue
    return found


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _finished(output: Path) -> int:
    return len(list((output / "students").glob("*.json")))


@pytest.fixture
def class_dir():
    """Under tempfile (not tmp_path, which is root-only): the sandbox user reads copies."""
    path = Path(tempfile.mkdtemp(prefix="class-grading-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.timeout(900)
def test_forty_submissions_two_workers_faults_and_resume(class_dir) -> None:
    expected = _variants(class_dir)
    submitted, output = class_dir / "submitted", class_dir / "graded"
    assert len(expected) == 40

    # Run 1: SIGKILL one grader mid-run, then interrupt the command with SIGINT.
    command = _start(submitted, output)
    seen: dict[int, psutil.Process] = {}
    victim: list[str] = []

    def kill_a_grader() -> bool:
        graders = _graders(command)
        seen.update({pid: process for pid, (process, _) in graders.items()})
        for process, student in graders.values():
            try:  # a grader can finish between the listing and the kill: try the next one
                if student.startswith("student-") and time.time() - process.create_time() > 1.5:
                    process.send_signal(signal.SIGKILL)
                    victim.append(student)
                    return True
            except psutil.NoSuchProcess:
                continue
        return False

    _wait_until(kill_a_grader, 120, "a grader process to kill")
    _wait_until(lambda: _finished(output) >= 10, 300, "10 graded students")
    command.send_signal(signal.SIGINT)
    assert command.wait(timeout=30) == 130, command.stderr.read()
    assert "interrupted" in command.stderr.read()
    _wait_until(lambda: not any(p.is_running() for p in seen.values()), 10, "graders to stop")
    first_run = _finished(output)

    # Run 2: resumed, then the whole command SIGKILLed; its graders die with it.
    command = _start(submitted, output)
    _wait_until(lambda: _finished(output) >= first_run + 4, 300, "4 more students")
    seen = {pid: process for pid, (process, _) in _graders(command).items()}
    command.kill()
    command.wait(timeout=10)
    _wait_until(lambda: not any(p.is_running() for p in seen.values()), 10, "orphaned graders")
    second_run = _finished(output)
    assert second_run >= first_run + 4

    # Run 3: resumed to the end; nothing graded twice, nothing lost.
    completed = subprocess.run(
        _command(submitted, output), cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    summary = re.search(r"graded (\d+), skipped (\d+)", completed.stdout)
    assert summary, completed.stdout
    assert int(summary[2]) >= second_run and int(summary[1]) + int(summary[2]) == 40

    results = read_class_results(output)
    by_student = {result["student"]: result for result in results}
    assert sorted(by_student) == sorted(expected)
    wrong = {
        student: result["notebooks"][0]["cells"][0]["feedback"]
        for student, result in by_student.items()
        if result["points"] != expected[student]
    }
    assert not wrong, wrong
    rows = (output / "grades.csv").read_text().splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == sorted(expected)
    assert by_student[victim[0]]["attempts"] == 2, "the killed grader's job ran again"
    for student, (_, message) in FAULTS.items():
        feedback = by_student[student]["notebooks"][0]["cells"][0]["feedback"]
        assert any(message in line for line in feedback), (student, feedback)
    # A hanging submission stalls only its own worker: others finished meanwhile.
    finished_at = {
        student: (output / "students" / f"{student}.json").stat().st_mtime for student in expected
    }
    hang_seconds = by_student["a-hangs"]["seconds"]
    assert hang_seconds >= 10  # the host's own limit on one call stopped it
    hang_started = finished_at["a-hangs"] - hang_seconds
    assert any(hang_started < when < finished_at["a-hangs"] for when in finished_at.values())

    gradescope = json.loads((output / "gradescope" / "student-00" / "results.json").read_text())
    assert gradescope["score"] == 2 and gradescope["tests"][0]["max_score"] == 2

    # Resume again: a corrupt result file and a re-submission are graded, nothing else.
    (output / "students" / "student-01.json").write_text('{"student": "stud')
    resubmitted = submitted / "student-04" / ASSIGNMENT / EXPLORATION
    fixed = f"def class_counts(labels):\n    {STYLES[0][0]}\n"
    build_submission(EXPLORATION, "fixed", {"class_counts": fixed}, class_dir).replace(resubmitted)
    jobs = discover(submitted, assignment=ASSIGNMENT, notebooks=[EXPLORATION])
    pending, done = split_done(jobs, output, force=False)
    assert sorted(job.student for job in pending) == ["student-01", "student-04"]
    assert len(done) == 38
    assert len(split_done(jobs, output, force=True)[0]) == 40
    completed = subprocess.run(
        _command(submitted, output), cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert "graded 2, skipped 38" in completed.stdout, completed.stdout
    results = {result["student"]: result["points"] for result in read_class_results(output)}
    assert results == {**expected, "student-04": 2}
    assert not [path for path in (output / "students").iterdir() if path.name.startswith(".")]
