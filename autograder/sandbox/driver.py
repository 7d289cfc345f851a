"""The trusted end of the channel: start a student host, ask it things, survive its end.

``StudentHost`` is the only way the grader talks to student code. Each request
has its own deadline; an answer is size-capped while it is read (``protocol``)
and comes back as :class:`Answer`, whose fields are read through
:class:`~autograder.sandbox.protocol.Checked`. When the host stops answering
(your code exited, crashed, was killed for time or memory, or broke the
channel), :class:`HostFailure` says which, in a sentence for the student; the
host is then gone for good, and the next part of the grading starts a fresh one
(``restart``), so one part's fault costs only the cells that depend on it.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.sandbox.isolation import (
    SANDBOX_CODE,
    SANDBOX_DATA,
    SANDBOX_HOME,
    Isolation,
    SandboxLimits,
)
from autograder.sandbox.process import Ending, SandboxProcess
from autograder.sandbox.protocol import Checked, ProtocolError
from autograder.sandbox.staging import host_mounts, staged_code_dir, staged_data_dir


class HostFailure(Exception):
    """The host stopped answering; ``reason`` is the sentence the student reads."""

    def __init__(self, reason: str, *, cause: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause  # exited, crashed, timeout, memory, channel, host-error


@dataclass
class Answer:
    """One validated answer: the operation's value and the arrays that came with it."""

    value: Checked
    arrays: list[np.ndarray] = field(default_factory=list)

    @property
    def raised(self) -> dict[str, str] | None:
        """The student's error record, when the student function raised."""
        if not self.value.has("raised"):
            return None
        return student_error(self.value.raw("raised"))


def student_error(record: Any) -> dict[str, str]:
    """An error record from the host, reduced to bounded strings."""
    checked = Checked(record if isinstance(record, dict) else {}, where="error")
    return {
        key: checked.text(key, limit=500)
        for key in ("type", "message", "where", "function")
        if checked.has(key) and isinstance(checked.raw(key), str)
    }


@dataclass(frozen=True)
class HostSettings:
    """How student hosts are started: isolation, limits, data and device (built by the grader)."""

    isolation: Isolation
    limits: SandboxLimits
    data_dir: Path
    gpu: bool = False
    torch_threads: int = 1
    visible_devices: str | None = None

    def environment(self) -> dict[str, str]:
        weak = self.isolation.mode == "weak"
        code = str(staged_code_dir(self.data_dir)) if weak else SANDBOX_CODE
        data = str(staged_data_dir(self.data_dir)) if weak else SANDBOX_DATA
        environment = {
            "PATH": "/usr/bin:/bin",
            "HOME": SANDBOX_HOME,
            "USER": "student",
            "LOGNAME": "student",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONPATH": code,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "FASHION_MNIST_DIR": data,
            "MLPKIT_PROFILE": "grading",
            "NBGRADER_EXECUTION": "autograde",
            "MLPKIT_TORCH_THREADS": str(self.torch_threads),
            "WANDB_MODE": "disabled",
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "MLPKIT_FASHION_MNIST_MIRROR": "http://127.0.0.1:9/",
            "MLPKIT_DOWNLOAD_TIMEOUT": "1",
            "CUDA_VISIBLE_DEVICES": self.visible_devices if self.gpu else "",
        }
        if self.gpu and self.visible_devices is None:
            environment.pop("CUDA_VISIBLE_DEVICES")
        return environment


class StudentHost:
    """A student host of one notebook kind, restarted after each failure (see module doc)."""

    def __init__(self, kind: str, settings: HostSettings) -> None:
        self.kind, self.settings = kind, settings
        self.process: SandboxProcess | None = None
        self.loaded: dict[str, Any] = {}
        self.starts = 0
        self.endings: list[Ending] = []
        self._ids = itertools.count(1)
        self._cells: list[tuple[str, str]] = []
        self._cell_seconds = 60.0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.process.poll() is None

    def start(self, *, deadline: float | None = None) -> None:
        """A fresh sandbox; ``deadline`` (monotonic) caps its wall limit (the notebook's own)."""
        self.starts += 1
        weak = self.settings.isolation.mode == "weak"
        workdir = None
        if weak:
            import tempfile

            workdir = Path(tempfile.mkdtemp(prefix="mlpkit-weak-host-"))
        self.process = SandboxProcess(
            self.settings.isolation,
            [sys.executable, "-m", "autograder.sandbox.host", self.kind],
            limits=self.settings.limits,
            mounts=host_mounts(self.settings.data_dir, gpu=self.settings.gpu),
            environment=self.settings.environment(),
            weak_workdir=workdir,
            deadline=deadline,
        )

    def load(self, cells: Sequence[tuple[str, str]], *, seconds: float) -> dict[str, Any]:
        """Run the answer cells in a (fresh) host: ``{grade_id: "ok" | error record}``."""
        self._cells, self._cell_seconds = list(cells), seconds / max(len(cells), 1)
        if not self.alive:
            self.start()
        answer = self.request(
            "load",
            {"cells": self._cells, "seconds": self._cell_seconds},
            seconds=seconds,
        )
        status = answer.value.raw("cells")
        if not isinstance(status, dict):
            raise HostFailure("the grader's helper sent a malformed answer", cause="channel")
        self.loaded = {
            str(grade_id): value if value == "ok" else student_error(value)
            for grade_id, value in status.items()
        }
        return self.loaded

    def restart(self, *, seconds: float) -> None:
        """A fresh host with the same cells loaded (after a failure ended the last one)."""
        self.close()
        self.start()
        self.load(self._cells, seconds=seconds)

    def request(
        self, op: str, args: dict[str, Any], arrays: Sequence[np.ndarray] = (), *, seconds: float
    ) -> Answer:
        """Send one request; return its validated answer or raise :class:`HostFailure`."""
        if self.process is None or not self.alive:
            raise HostFailure("the sandbox was not running", cause="exited")
        request_id = next(self._ids)
        started = time.monotonic()
        try:
            self.process.send({"id": request_id, "op": op, "args": args}, arrays)
            message = self.process.receive(seconds=seconds)
        except TimeoutError:
            waited = time.monotonic() - started
            self.process.kill(f"took longer than {min(waited, seconds):.0f} s")
            raise self._failure(default_cause="timeout") from None
        except (EOFError, BrokenPipeError, OSError):
            raise self._failure(default_cause="exited") from None
        except ProtocolError as error:
            self.process.kill(f"interfered with the grader's channel ({error})")
            raise self._failure(default_cause="channel") from None
        header = message.header
        if header.get("id") != request_id or header.get("ok") not in (True, False):
            self.process.kill("interfered with the grader's channel (an answer out of order)")
            raise self._failure(default_cause="channel")
        if header["ok"] is False:
            record = student_error(header.get("error"))
            self.process.kill()
            raise HostFailure(
                "the grader's helper inside the sandbox failed "
                f"({record.get('type', 'error')}: {record.get('message', '')[:200]}); "
                "did a cell replace or patch the grader's or a library's functions?",
                cause="host-error",
            )
        return Answer(Checked(header.get("value"), message.arrays, where=op), message.arrays)

    def _failure(self, *, default_cause: str) -> HostFailure:
        """Why the host stopped, as a sentence; the host is closed."""
        process = self.process
        ending = self.close()
        if ending is None or process is None:
            return HostFailure("the sandbox stopped", cause=default_cause)
        if ending.killed_by_grader and ending.reason:
            cause = "memory" if "memory" in ending.reason else default_cause
            return HostFailure(f"your code {ending.reason}", cause=cause)
        if ending.returncode == 0:
            return HostFailure(
                "your code exited (os._exit or sys.exit at a cell's top level?) before the "
                "grader had its answer",
                cause="exited",
            )
        last = (ending.stderr.strip().splitlines() or [""])[-1][:300]
        detail = f": {last}" if last else ""
        return HostFailure(f"your code {ending.reason or 'stopped'}{detail}", cause="crashed")

    def close(self) -> Ending | None:
        """End the sandbox completely; keeps its ending (stdout/stderr capped)."""
        if self.process is None:
            return None
        ending = self.process.close(grace_seconds=1.0)
        self.endings.append(ending)
        self.process = None
        return ending

    def __enter__(self) -> StudentHost:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()
