"""Start one sandboxed process, watch it, talk to it, and end it completely.

A :class:`SandboxProcess` is one bubblewrap sandbox (``isolation.py``) running a
command with:

- a request pipe and an answer pipe (the channel of ``protocol.py``), whose fd
  numbers the command receives as arguments;
- stdout and stderr read by threads that keep at most ``output_bytes`` of each
  and drain the rest, so a flood never fills the grader's memory;
- rlimits set before ``exec`` (CPU seconds, processes, file size, no core files);
- a watchdog that sums the resident memory of every process in the sandbox's
  pid namespace and kills the sandbox above its limit, and a hard wall deadline
  that nothing inside can extend. The deadline is a backstop, ``BACKSTOP_SECONDS``
  after the notebook's own limit: the driver's per-request timeout, bounded by
  that limit, always ends a hang first, so a hang gets the same message on an
  idle machine and on a loaded one.

``close()`` kills bubblewrap and the namespace's first process, which takes every
descendant with it (the kernel ends a pid namespace with its init), so nothing
a submission started outlives its grading, whether it ended normally or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.sandbox.isolation import Isolation, Mounts, SandboxLimits, sandbox_command
from autograder.sandbox.protocol import Message, read_message, write_message

WATCH_SECONDS = 0.2
BACKSTOP_SECONDS = 5.0  # the watchdog's deadline, after the notebook's limit
SIGNAL_REASONS = {
    signal.SIGKILL: "was killed (out of memory?)",
    signal.SIGXCPU: "used up its CPU-time limit",
    signal.SIGSEGV: "crashed (segmentation fault)",
    signal.SIGABRT: "aborted",
    signal.SIGXFSZ: "wrote a file larger than the limit",
}


class CappedReader(threading.Thread):
    """Drain a pipe, keeping its first ``limit`` bytes (the rest is counted and dropped)."""

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__(daemon=True)
        self.fd, self.limit = fd, limit
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(self.fd, 65536):
                room = self.limit - len(self.kept)
                self.kept += chunk[: max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def text(self) -> str:
        suffix = f"\n[... {self.dropped} more bytes not kept]" if self.dropped else ""
        return self.kept.decode(errors="replace") + suffix


@dataclass
class Ending:
    """How a sandbox ended: ``reason`` is a sentence for the student (None: it exited 0)."""

    returncode: int | None
    reason: str | None
    killed_by_grader: bool
    stdout: str
    stderr: str


def _child_limits(limits: SandboxLimits):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()

    return apply


def _usage(pid: str) -> tuple[int, int]:
    """(resident bytes, threads) of one process, from ``/proc/<pid>/status``."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as stream:
        for line in stream:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def sandbox_usage(*, namespace: str | None = None, session: int | None = None) -> tuple[int, int]:
    """(resident bytes, threads) of every process in a pid namespace (or, weak: a session)."""
    total_rss = total_threads = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if namespace is not None:
                if os.readlink(f"/proc/{entry.name}/ns/pid") != namespace:
                    continue
            elif os.getsid(int(entry.name)) != session:
                continue
            rss, threads = _usage(entry.name)
        except (OSError, ValueError, IndexError):
            continue
        total_rss += rss
        total_threads += threads
    return total_rss, total_threads


class SandboxProcess:
    """One running sandbox and its channel; always ``close()`` it (or use ``with``)."""

    def __init__(
        self,
        isolation: Isolation,
        command: Sequence[str],
        *,
        limits: SandboxLimits,
        mounts: Mounts,
        environment: dict[str, str],
        weak_workdir: Path | None = None,
        deadline: float | None = None,
    ) -> None:
        self.isolation, self.limits = isolation, limits
        self.started = time.monotonic()
        limit = self.started + limits.wall_seconds
        if deadline is not None:  # a restart never extends the notebook's own limit
            limit = min(limit, deadline)
        self.deadline = limit + BACKSTOP_SECONDS
        self.failure: str | None = None
        self.ending: Ending | None = None
        request_read, self.request_fd = os.pipe()
        self.answer_fd, answer_write = os.pipe()
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        info_read, info_write = os.pipe()
        channel = ["--request-fd", str(request_read), "--answer-fd", str(answer_write)]
        keep = [request_read, answer_write]
        if isolation.mode == "weak":
            full = [*command, *channel]
            environment = {**environment, "HOME": str(weak_workdir), "TMPDIR": str(weak_workdir)}
            cwd = weak_workdir
        else:
            full = sandbox_command(
                isolation,
                [*command, *channel],
                limits=limits,
                mounts=mounts,
                environment=environment,
                info_fd=info_write,
            )
            keep.append(info_write)
            cwd = None
        try:
            self.process = subprocess.Popen(
                full,
                stdin=subprocess.DEVNULL,
                stdout=out_write,
                stderr=err_write,
                pass_fds=keep,
                cwd=cwd,
                env=environment if isolation.mode == "weak" else {"PATH": "/usr/bin:/bin"},
                preexec_fn=_child_limits(limits),
            )
        finally:
            for fd in (request_read, answer_write, out_write, err_write, info_write):
                os.close(fd)
        self.stdout = CappedReader(out_read, limits.output_bytes)
        self.stderr = CappedReader(err_read, limits.output_bytes)
        self.stdout.start()
        self.stderr.start()
        self.namespace = self._read_namespace(info_read)
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()

    def _read_namespace(self, info_read: int) -> str | None:
        """The sandbox's pid namespace, from bubblewrap's ``--info-fd`` JSON."""
        text = b""
        try:
            end = time.monotonic() + 30
            while self.isolation.mode != "weak" and time.monotonic() < end:
                if not select.select([info_read], [], [], 1.0)[0]:
                    continue
                chunk = os.read(info_read, 65536)
                if not chunk:
                    break
                text += chunk
                with contextlib.suppress(ValueError):
                    child = int(json.loads(text)["child-pid"])
                    return os.readlink(f"/proc/{child}/ns/pid")
        except (KeyError, OSError, TypeError):
            pass
        finally:
            os.close(info_read)
        return None  # weak isolation, or bubblewrap failed to start (the ending says why)

    def usage(self) -> tuple[int, int]:
        """(resident bytes, threads) of the whole sandbox now."""
        if self.namespace is not None:
            return sandbox_usage(namespace=self.namespace)
        if self.isolation.mode == "weak":
            return sandbox_usage(session=self.process.pid)
        return 0, 0

    def _watch(self) -> None:
        while self.process.poll() is None:
            if time.monotonic() > self.deadline:
                self.kill("ran longer than the notebook's time limit")
                return
            rss, threads = self.usage()
            if rss > self.limits.memory_bytes:
                self.kill(f"used more than {self.limits.memory_bytes / 2**30:.1f} GB of memory")
                return
            if threads >= self.limits.processes * 0.9:
                self.kill(f"started more than {int(self.limits.processes * 0.9)} processes")
                return
            time.sleep(WATCH_SECONDS)

    # ------------------------------------------------------------ channel

    def send(self, header: dict[str, Any], arrays: Sequence = ()) -> None:
        write_message(self.request_fd, header, arrays)

    def receive(self, *, seconds: float) -> Message:
        """The next answer; ``TimeoutError`` at the request's deadline or the sandbox's."""
        deadline = min(time.monotonic() + seconds, self.deadline)
        return read_message(self.answer_fd, deadline=deadline)

    # ------------------------------------------------------------ ending

    def kill(self, reason: str | None = None) -> None:
        """Stop the whole sandbox now (``reason``: why, for the student)."""
        if reason and self.failure is None:
            self.failure = reason
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def close(self, *, grace_seconds: float = 2.0) -> Ending:
        """Close the channel, let the host exit, then make sure nothing of it is left.

        Idempotent: the channel's descriptors are closed exactly once, since closing a
        number again could close a file another thread has opened since.
        """
        if self.ending is not None:
            return self.ending
        with contextlib.suppress(OSError):
            os.close(self.request_fd)
        try:
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        killed = self.failure is not None
        self.kill()  # the pid namespace's init, and with it every leftover descendant
        with contextlib.suppress(OSError):
            os.close(self.answer_fd)
        self.stdout.join(timeout=5)
        self.stderr.join(timeout=5)
        self.ending = Ending(
            self.process.returncode,
            self.failure or describe_exit(self.process.returncode),
            killed,
            self.stdout.text(),
            self.stderr.text(),
        )
        return self.ending

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close(grace_seconds=0.5)


def describe_exit(returncode: int | None) -> str | None:
    """A sentence for an exit code: bubblewrap reports a signal as 128 + its number."""
    if returncode in (0, None):
        return None
    number = -returncode if returncode < 0 else returncode - 128
    with contextlib.suppress(ValueError):
        if number > 0:
            return SIGNAL_REASONS.get(
                signal.Signals(number), f"died with {signal.Signals(number).name}"
            )
    return f"stopped with exit code {returncode}"
