"""The one place where student code is started: a sandboxed subprocess.

A sandbox gets a fresh HOME and working directory holding a copy of the
submission, the probe code and the two *training* files only. Where the OS
allows it (Linux, run as root, ``unshare`` and ``setpriv`` present) it also
gets its own mount and network namespaces: no network, the real dataset folder
(with the test set), the solutions and the hidden checks hidden under empty
tmpfs mounts, and an unprivileged user that cannot undo them. Everywhere it
gets CPU-time and wall-clock limits and a resident-memory watchdog, and its
whole process group is killed when it overruns.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Loaded here, in the parent: the child only calls it between fork and exec.
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
PR_SET_PDEATHSIG = 1
UNPRIVILEGED_ID = 65534  # "nobody" on Debian and most Linux distributions
TRAINING_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


@dataclass(frozen=True)
class SandboxLimits:
    """How much one sandboxed run may use before it is stopped."""

    wall_seconds: float = 900.0
    cpu_seconds: int = 3600
    memory_bytes: int = 8 * 2**30


@dataclass(frozen=True)
class SandboxResult:
    """What came back from one sandboxed run; ``failure`` says why it stopped early."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    failure: str | None
    isolation: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.returncode == 0


def namespaces_available() -> bool:
    """Whether mount/network namespaces and a user switch can be used here."""
    return (
        sys.platform.startswith("linux")
        and os.geteuid() == 0
        and shutil.which("unshare") is not None
        and shutil.which("setpriv") is not None
    )


def prepare_workdir(
    workdir: Path, *, notebook: Path, data_dir: Path, code_dir: Path
) -> tuple[Path, Path]:
    """Fill ``workdir`` with home/, data/ (training files only), code/ and the notebook.

    Returns the notebook's and the data folder's paths inside the workdir.
    """
    for name in ("home", "data", "code/autograder/sandbox", "output"):
        (workdir / name).mkdir(parents=True, exist_ok=True)
    for stem in TRAINING_FILES:
        source = next(
            (
                data_dir / f"{stem}{suffix}"
                for suffix in (".gz", "")
                if (data_dir / f"{stem}{suffix}").is_file()
            ),
            None,
        )
        if source is None:
            raise ValueError(
                f"{data_dir} lacks {stem}(.gz); point FASHION_MNIST_DIR at the dataset."
            )
        shutil.copyfile(source, workdir / "data" / source.name)
    (workdir / "code" / "autograder" / "__init__.py").write_text("")
    for module in [code_dir / "__init__.py", *sorted(code_dir.glob("probe*.py"))]:
        shutil.copyfile(module, workdir / "code" / "autograder" / "sandbox" / module.name)
    notebook_copy = workdir / "submission.ipynb"
    shutil.copyfile(notebook, notebook_copy)
    if os.geteuid() == 0:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, UNPRIVILEGED_ID, UNPRIVILEGED_ID)
    return notebook_copy, workdir / "data"


def _environment(workdir: Path, data_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "CUDA_VISIBLE_DEVICES", "MLPKIT_TORCH_THREADS")
    environment = {name: os.environ[name] for name in keep if name in os.environ}
    environment.update(
        {
            "HOME": str(workdir / "home"),
            "TMPDIR": str(workdir / "home"),
            "PYTHONPATH": str(workdir / "code"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "FASHION_MNIST_DIR": str(data_dir),
            "MLPKIT_CACHE_DIR": str(workdir / "home" / "cache"),
            "MLPKIT_RESULTS_DIR": str(workdir / "output" / "results"),
            "MLPKIT_PROFILE": "grading",
            "NBGRADER_EXECUTION": "autograde",
            "WANDB_MODE": "disabled",
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "MLPKIT_FASHION_MNIST_MIRROR": "http://127.0.0.1:9/",
            "MLPKIT_DOWNLOAD_TIMEOUT": "2",
        }
    )
    environment.update(extra)
    return environment


def _wrap(arguments: Sequence[str], hidden_paths: Sequence[Path]) -> list[str]:
    """Prefix the command with namespaces, tmpfs over hidden paths and a user switch."""
    mounts = " && ".join(
        f"mount -t tmpfs -o size=1m,mode=0755 tmpfs {shlex.quote(str(path))}"
        for path in hidden_paths
        if path.exists()
    )
    script = (mounts + " && " if mounts else "") + (
        "exec setpriv --pdeathsig KILL "
        f'--reuid={UNPRIVILEGED_ID} --regid={UNPRIVILEGED_ID} --clear-groups -- "$@"'
    )
    return [
        "unshare",
        "--mount",
        "--net",
        "--",
        "/bin/sh",
        "-c",
        script,
        "sandbox",
        *arguments,
    ]


def _child_setup(cpu_seconds: int):
    """Limits set in the child before it runs student code.

    The parent-death signal kills the sandboxed process when the grader that
    started it dies (a killed class-grading worker), since it runs in a session
    of its own and would otherwise live on until its wall limit.
    """

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if LIBC is not None:
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return apply


def _group_rss_bytes(process_group: int) -> int:
    """Resident memory of every process in a process group (Linux /proc)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != process_group:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, ProcessLookupError):
            continue
    return total


def run_sandboxed(
    arguments: Sequence[str],
    *,
    workdir: Path,
    data_dir: Path,
    limits: SandboxLimits,
    hidden_paths: Sequence[Path] = (),
    extra_environment: Mapping[str, str] | None = None,
) -> SandboxResult:
    """Run ``arguments`` in the sandbox; never raises for anything the child does."""
    isolation = ["fresh-home", "training-data-only", "cpu-limit", "wall-limit", "memory-watchdog"]
    command = list(arguments)
    if namespaces_available():
        command = _wrap(command, hidden_paths)
        isolation += ["no-network", "hidden-paths", "unprivileged-user"]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=_environment(workdir, data_dir, extra_environment or {}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_child_setup(limits.cpu_seconds),
    )
    failure: list[str] = []

    def watch_memory() -> None:
        while process.poll() is None:
            if _group_rss_bytes(process.pid) > limits.memory_bytes:
                failure.append(f"used more than {limits.memory_bytes / 2**30:.1f} GB of memory")
                _kill_group(process.pid)
                return
            time.sleep(0.5)

    watchdog = threading.Thread(target=watch_memory, daemon=True)
    watchdog.start()
    try:
        stdout, stderr = process.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        failure.append(f"ran longer than the {limits.wall_seconds:.0f} s time limit")
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
    watchdog.join(timeout=2)
    returncode = process.returncode
    if not failure and returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        reason = {
            "SIGXCPU": "used up its CPU-time limit",
            "SIGKILL": "was killed (out of memory?)",
            "SIGSEGV": "crashed (segmentation fault)",
        }.get(name, f"died with {name}")
        failure.append(reason)
    return SandboxResult(
        returncode=returncode,
        stdout=stdout[-20_000:],
        stderr=stderr[-20_000:],
        seconds=time.perf_counter() - started,
        failure=failure[0] if failure else None,
        isolation=tuple(isolation),
    )


def _kill_group(process_group: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process_group, signal.SIGKILL)
