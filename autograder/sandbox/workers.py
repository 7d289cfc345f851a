"""Grading workers: one fresh grader process per submission, started and stopped here.

A class is graded by many short-lived grader processes (``python -m
autograder.grade.job``), each of which grades one submission and starts the
sandboxed student hosts through :mod:`autograder.sandbox.driver`. A grader process of
its own per submission means a worker that dies (killed, out of memory, lost
with its machine) loses one submission, which is simply run again, and nothing
a check imports or leaves behind outlives the submission.

The grader process is trusted code (it runs the hidden checks); student code
only ever runs inside the sandbox it starts. It dies with the process that
started it (``PR_SET_PDEATHSIG`` on Linux), so killing a class run never leaves
graders behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_MODULE = "autograder.grade.job"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class WorkerExit:
    """How one grader process ended: ``lost`` when it was killed rather than finished."""

    returncode: int | None
    stderr: str
    timed_out: bool = False

    @property
    def lost(self) -> bool:
        """Killed by a signal from outside (SIGKILL, OOM killer): worth running again."""
        return not self.timed_out and self.returncode is not None and self.returncode < 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _die_with_parent() -> None:
    """In the child before exec: be killed when the grading command dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class WorkerProcesses:
    """The grader processes running now, so an interrupted class run can stop them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self._stopped = False

    def run(
        self,
        job_file: Path,
        result_file: Path,
        *,
        environment: Mapping[str, str],
        timeout_seconds: float,
    ) -> WorkerExit:
        """Grade one prepared job in a fresh grader process; wait for it to end."""
        child_environment = {**os.environ, **environment}
        child_environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
        )
        process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, str(job_file), str(result_file)],
            cwd=REPO_ROOT,
            env=child_environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            preexec_fn=_die_with_parent,
        )
        with self._lock:
            self._running.add(process)
            if self._stopped:  # started while the run was being stopped: stop it too
                process.kill()
        try:
            _, stderr = process.communicate(timeout=timeout_seconds)
            return WorkerExit(process.returncode, stderr[-4000:])
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
            return WorkerExit(process.returncode, stderr[-4000:], timed_out=True)
        finally:
            with self._lock:
                self._running.discard(process)

    def kill_all(self) -> None:
        """Stop every grader process, now and from now on (an interrupted run)."""
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [process.pid for process in self._running]
