"""The sandbox stops what a submission must not do, and reports why, quickly."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.sandbox.runner import (
    SandboxLimits,
    namespaces_available,
    prepare_workdir,
    run_sandboxed,
)
from tests.conftest import DATA_DIR, REPO_ROOT, SOLUTIONS_DIR

CODE_DIR = REPO_ROOT / "autograder" / "sandbox"


@pytest.fixture
def workdir():
    """A workdir the unprivileged sandbox user can reach (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="sandbox-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sandbox(workdir):
    tmp_path = workdir
    notebook, data = prepare_workdir(
        tmp_path,
        notebook=SOLUTIONS_DIR / "01-data-exploration.ipynb",
        data_dir=DATA_DIR,
        code_dir=CODE_DIR,
    )

    def run(code: str, **limits):
        return run_sandboxed(
            [sys.executable, "-c", code],
            workdir=tmp_path,
            data_dir=data,
            limits=SandboxLimits(**{"wall_seconds": 60, **limits}),
            hidden_paths=[DATA_DIR, SOLUTIONS_DIR.parent],
        )

    return run


def test_only_training_files_and_a_fresh_home(sandbox, workdir) -> None:
    result = sandbox(
        "import os\n"
        "print(sorted(os.listdir(os.environ['FASHION_MNIST_DIR'])))\n"
        "print(os.environ['HOME'])"
    )
    assert result.ok, result.stderr
    assert "['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']" in result.stdout
    assert str(workdir / "home") in result.stdout


@pytest.mark.skipif(not namespaces_available(), reason="needs root, unshare and setpriv (Linux)")
def test_test_set_solutions_and_network_are_out_of_reach(sandbox) -> None:
    result = sandbox(
        "import os, socket\n"
        f"print('data', os.listdir({str(DATA_DIR)!r}))\n"
        f"print('solutions', os.listdir({str(SOLUTIONS_DIR.parent)!r}))\n"
        "print('uid', os.getuid())\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\n"
        "except OSError as error:\n"
        "    print('network', type(error).__name__)\n"
    )
    assert result.ok, result.stderr
    assert "data []" in result.stdout and "solutions []" in result.stdout
    assert "uid 65534" in result.stdout and "network" in result.stdout
    assert {"no-network", "hidden-paths", "unprivileged-user"} <= set(result.isolation)


def test_a_hanging_submission_is_stopped(sandbox) -> None:
    result = sandbox("while True:\n    pass", wall_seconds=3)
    assert result.failure == "ran longer than the 3 s time limit"
    assert result.seconds < 15


def test_memory_hog_is_killed(sandbox) -> None:
    result = sandbox(
        "import time\nblock = bytearray(3 * 2**30)\ntime.sleep(30)", memory_bytes=2**30
    )
    assert result.failure == "used more than 1.0 GB of memory"
    assert result.seconds < 25


def test_crash_is_reported(sandbox) -> None:
    result = sandbox("import os\nos.kill(os.getpid(), 11)")
    assert result.failure == "crashed (segmentation fault)"


def test_missing_training_files_are_one_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="lacks train-images-idx3-ubyte"):
        prepare_workdir(
            tmp_path / "work",
            notebook=SOLUTIONS_DIR / "01-data-exploration.ipynb",
            data_dir=tmp_path,
            code_dir=CODE_DIR,
        )


def test_student_code_dies_with_the_grader_that_started_it(workdir) -> None:
    """A killed grader (a class-grading worker) leaves no sandboxed process behind."""
    _, data = prepare_workdir(
        workdir,
        notebook=SOLUTIONS_DIR / "01-data-exploration.ipynb",
        data_dir=DATA_DIR,
        code_dir=CODE_DIR,
    )
    pid_file = workdir / "student.pid"
    student = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    )
    grader = (
        "import sys\n"
        "from pathlib import Path\n"
        "from autograder.sandbox.runner import SandboxLimits, run_sandboxed\n"
        f"run_sandboxed([sys.executable, '-c', {student!r}], workdir=Path({str(workdir)!r}),\n"
        f"    data_dir=Path({str(data)!r}), limits=SandboxLimits(wall_seconds=120))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", grader], cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the sandboxed process never started"
            time.sleep(0.2)
        student_pid = int(pid_file.read_text())
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{student_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{student_pid}").exists(), "the student process outlived its grader"
