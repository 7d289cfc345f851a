"""Which isolation this machine gives student code, and the bubblewrap command that gives it.

Student code runs under bubblewrap (``bwrap``) in one of two modes with the same
isolation, chosen by who runs the grader:

- ``user-namespace`` (the grader is an ordinary user, e.g. uid 1000 in a hub pod):
  unprivileged ``bwrap --unshare-all`` with a user namespace; inside, uid 65534.
- ``root`` (a grading server, CI): ``bwrap`` as root creates the same pid, mount,
  network, IPC and UTS namespaces, then ``setpriv`` drops to a uid of its own
  (a fresh one per sandbox, no groups, no capabilities, no new privileges).

Both see an allowlisted filesystem only: the runtime read-only (``/usr``, the
interpreter's prefix, the virtual environment, the ``mlpkit`` package), the host
code, the two training files, and private size-limited tmpfs mounts for the home
folder, ``/tmp`` and ``/dev/shm``. Nothing else of the machine exists in there: no
course folder, no other student, no test set, no repository, no home folder.

Where neither mode works (no bwrap, user namespaces blocked, as in many
Kubernetes runtimes), :func:`require_isolation` refuses with one message naming
what is missing, unless the instructor allowed weak isolation, which is then
recorded in every verdict.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_HOME = "/home/student"
SANDBOX_CODE = "/grader"
SANDBOX_DATA = "/data"
USER_NAMESPACE_UID = 65534
ROOT_MODE_UIDS = (1_500_000_000, 1_600_000_000)
ETC_FILES = ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime")
SYSTEM_FOLDERS = ("/usr", "/tmp", "/proc", "/dev", "/bin", "/lib", "/lib64", "/sbin", SANDBOX_HOME)
FULL_LAYERS = (
    "bubblewrap",
    "pid-namespace",
    "no-network",
    "ipc-namespace",
    "allowlist-filesystem",
    "private-tmpfs",
    "unprivileged-uid",
    "process-limit",
    "file-size-limit",
    "cpu-limit",
    "memory-watchdog",
    "wall-limit",
    "output-cap",
)
WEAK_LAYERS = (
    "weak",
    "fresh-home",
    "clean-environment",
    "process-group",
    "process-limit",
    "file-size-limit",
    "cpu-limit",
    "memory-watchdog",
    "wall-limit",
    "output-cap",
)
HOW_TO_ISOLATE = (
    "Grade on a machine that allows it (a grading server or a Dask worker host with "
    "`apt-get install bubblewrap`, or a pod that allows user namespaces), or pass "
    "--allow-weak-isolation (nbgrader: c.ExternalVerdicts.allow_weak_isolation = True) "
    "to grade with weak isolation, which every verdict and grades.csv then record."
)


class IsolationUnavailable(RuntimeError):
    """Student code cannot be isolated here, and weak isolation was not allowed."""


@dataclass(frozen=True)
class SandboxLimits:
    """How much one sandbox may use before it is stopped (every figure is a hard bound)."""

    wall_seconds: float = 600.0
    cpu_seconds: int = 1800
    memory_bytes: int = 4 * 2**30
    processes: int = 512  # threads count too (TensorFlow starts dozens)
    file_bytes: int = 256 * 2**20
    tmpfs_bytes: int = 256 * 2**20  # each of the home folder, /tmp and /dev/shm
    output_bytes: int = 256 * 2**10  # of stdout and of stderr kept; the rest is discarded


@dataclass(frozen=True)
class Isolation:
    """The isolation mode of this machine (``root``, ``user-namespace`` or ``weak``)."""

    mode: str
    bwrap: str | None = None
    problem: str | None = None  # why full isolation is unavailable (weak mode)

    @property
    def layers(self) -> tuple[str, ...]:
        return WEAK_LAYERS if self.mode == "weak" else (*FULL_LAYERS, f"mode:{self.mode}")

    @property
    def level(self) -> str:
        return "weak" if self.mode == "weak" else "full"


@dataclass(frozen=True)
class Mounts:
    """What a sandbox sees besides the runtime: read-only files and folders, by target path."""

    read_only: dict[str, Path] = field(default_factory=dict)
    gpu_devices: tuple[str, ...] = ()


def runtime_paths() -> list[Path]:
    """The interpreter's own folders: its prefixes, its package folders, ``mlpkit``.

    Package folders come from ``sys.path`` (a venv may reach another's packages
    through a ``.pth`` file), but only folders named site-packages or
    dist-packages: the repository on ``PYTHONPATH``, with the checks and the
    solutions, is never mounted.
    """
    import mlpkit

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(mlpkit.__file__).resolve().parent}
    paths.add(Path(os.path.realpath(sys.executable)).parent.parent)
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path and path.is_dir() and path.name in ("site-packages", "dist-packages"):
            paths.add(path)
    inside = [path for path in paths if not (str(path) == "/usr" or str(path).startswith("/usr/"))]
    return sorted(path for path in inside if not any(other in path.parents for other in inside))


def _bwrap_base(isolation: Isolation, limits: SandboxLimits, mounts: Mounts) -> list[str]:
    arguments = [isolation.bwrap or "bwrap", "--die-with-parent", "--new-session"]
    if isolation.mode == "user-namespace":
        arguments += ["--unshare-all", "--unshare-user", "--disable-userns"]
        arguments += ["--uid", str(USER_NAMESPACE_UID), "--gid", str(USER_NAMESPACE_UID)]
    else:
        arguments += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        arguments += ["--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    arguments += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for folder in ("/tmp", SANDBOX_HOME, "/dev/shm"):  # private, size-limited, writable
        arguments += ["--perms", "1777", "--size", str(limits.tmpfs_bytes), "--tmpfs", folder]
    for link in ("bin", "lib", "lib64", "sbin"):
        if Path(f"/usr/{link}").exists():
            arguments += ["--symlink", f"usr/{link}", f"/{link}"]
    binds = {str(path): path for path in runtime_paths()}
    binds.update({etc: Path(etc) for etc in ETC_FILES if Path(etc).exists()})
    binds.update(mounts.read_only)
    arguments += _parent_folders(binds)
    for target, source in sorted(binds.items()):
        arguments += ["--ro-bind", str(source), target]
    for device in mounts.gpu_devices:
        arguments += ["--dev-bind", device, device]
    return arguments


def _parent_folders(targets: dict[str, Path]) -> list[str]:
    """``--dir`` (mode 0755) for every folder above a mount target, top first.

    bubblewrap run as root creates missing parents with mode 0700, which the
    sandbox's unprivileged uid could not cross.
    """
    parents = sorted(
        {
            str(parent)
            for target in targets
            for parent in Path(target).parents
            if str(parent) != "/"
        },
        key=lambda path: (path.count("/"), path),
    )
    arguments: list[str] = []
    for parent in parents:
        if parent not in targets and parent not in SYSTEM_FOLDERS:
            arguments += ["--perms", "0755", "--dir", parent]
    return arguments


def sandbox_command(
    isolation: Isolation,
    command: Sequence[str],
    *,
    limits: SandboxLimits,
    mounts: Mounts,
    environment: dict[str, str],
    info_fd: int | None = None,
) -> list[str]:
    """The full command line that runs ``command`` in a fresh sandbox."""
    arguments = _bwrap_base(isolation, limits, mounts)
    arguments += ["--clearenv", "--chdir", SANDBOX_HOME]
    for name, value in sorted(environment.items()):
        arguments += ["--setenv", name, value]
    if info_fd is not None:
        arguments += ["--info-fd", str(info_fd)]
    arguments.append("--")
    if isolation.mode == "root":
        uid = str(secrets.randbelow(ROOT_MODE_UIDS[1] - ROOT_MODE_UIDS[0]) + ROOT_MODE_UIDS[0])
        arguments += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        arguments += ["--inh-caps=-all", "--no-new-privs", "--"]
    return arguments + list(command)


def gpu_devices() -> tuple[str, ...]:
    """The NVIDIA device files a GPU sandbox needs (none on a CPU machine)."""
    return tuple(sorted(str(path) for path in Path("/dev").glob("nvidia*")))


@functools.cache
def detect_isolation(bwrap: str | None = None) -> Isolation:
    """Try bubblewrap once (per process): full isolation in this process's mode, or why not."""
    found = bwrap or shutil.which("bwrap")
    if found is None:
        problem = "bubblewrap (bwrap) is not installed; install it: apt-get install bubblewrap"
        return Isolation("weak", problem=problem)
    mode = "root" if os.geteuid() == 0 else "user-namespace"
    isolation = Isolation(mode, bwrap=found)
    probe = sandbox_command(
        isolation,
        [sys.executable, "-c", "import numpy"],  # the runtime itself, as the sandbox's user
        limits=SandboxLimits(),
        mounts=Mounts(),
        environment={"PATH": "/usr/bin:/bin"},
    )
    try:
        completed = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Isolation("weak", problem=f"bubblewrap could not be started ({error})")
    if completed.returncode != 0:
        reason = (completed.stderr.strip().splitlines() or ["no message"])[-1][:300]
        if "bwrap" not in reason:
            hint = "the sandbox's user cannot run this Python (are its folders readable by all?)"
        elif mode == "user-namespace":
            hint = "user namespaces are blocked here (as in many Kubernetes runtimes)"
        else:
            hint = "bubblewrap failed as root"
        return Isolation("weak", problem=f"{hint}: {reason}")
    return isolation


def require_isolation(*, allow_weak: bool, bwrap: str | None = None) -> Isolation:
    """Full isolation, or weak isolation if allowed; otherwise one clear refusal."""
    isolation = detect_isolation(bwrap)
    if isolation.mode == "weak" and not allow_weak:
        raise IsolationUnavailable(
            f"Refusing to run student code without isolation: {isolation.problem}. "
            + HOW_TO_ISOLATE
        )
    return isolation
