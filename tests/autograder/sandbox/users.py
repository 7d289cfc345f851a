"""Run the grader as root or as an ordinary user (``nobody``), for the containment tests.

The checkout's ``.venv`` may use an interpreter an ordinary user cannot start
(pyenv under ``/root``, mode 0700), so the ordinary user gets its own venv from
Debian's ``/usr/bin/python3.11`` that reaches the checkout venv's packages
through a ``.pth`` line, and a copy of the grader's code in a folder it can read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import DATA_DIR, REPO_ROOT

SYSTEM_PYTHON = Path("/usr/bin/python3.11")
COPIED = ("autograder", "mlpkit", "solutions", "assignments", "sweeps", "nbgrader_config.py")


@dataclass(frozen=True)
class Grader:
    """How to start grader commands as one user: the command prefix, interpreter, code and home."""

    user: str
    prefix: tuple[str, ...]
    python: Path
    code: Path
    home: Path

    def environment(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "PYTHONPATH": str(self.code),
            "FASHION_MNIST_DIR": str(DATA_DIR),
            "MLPKIT_GRADER_CACHE": str(self.home / "cache"),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **extra,
        }

    def run(
        self, *arguments: str, timeout: float = 300, **extra: str
    ) -> subprocess.CompletedProcess:
        environment = self.environment(**extra)
        command = [*self.prefix, "env", *(f"{key}={value}" for key, value in environment.items())]
        return subprocess.run(
            [*command, str(self.python), *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.home,
            check=False,
        )

    def probe(self, code: str, *options: str, timeout: float = 300) -> dict:
        """Run ``code`` as a sandboxed class_counts cell; the probe's JSON report."""
        path = self.home / f"hostile-{abs(hash(code))}.py"
        path.write_text(code)
        path.chmod(0o644)
        completed = self.run(
            "-m", "tests.autograder.containment_probe", str(path), *options, timeout=timeout
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if completed.returncode != 0 or not lines:
            raise AssertionError(
                f"probe failed ({completed.returncode}): {completed.stderr[-3000:]}"
            )
        return json.loads(lines[-1])


def root_grader(home: Path) -> Grader:
    return Grader("root", (), Path(sys.executable), REPO_ROOT, home)


def ordinary_grader(home: Path) -> Grader:
    """A grader that runs as ``nobody``: its own venv and a readable copy of the code."""
    if not SYSTEM_PYTHON.is_file():
        raise AssertionError(
            f"{SYSTEM_PYTHON} is missing: the non-root grader tests need Debian's python3.11 "
            "(apt-get install -y python3.11-venv)."
        )
    home.chmod(0o777)
    venv = home / "venv"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    packages = next(Path(sys.prefix).glob("lib/python3.*/site-packages"))
    target = next(venv.glob("lib/python3.*/site-packages"))
    (target / "checkout-packages.pth").write_text(f"{packages}\n")
    code = home / "code"
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, code / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            code.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, code / name)
    tests = code / "tests" / "autograder"
    tests.mkdir(parents=True)
    for name in ("tests/__init__.py", "tests/conftest.py", "tests/autograder/__init__.py"):
        shutil.copyfile(REPO_ROOT / name, code / name)
    shutil.copyfile(
        REPO_ROOT / "tests/autograder/containment_probe.py", tests / "containment_probe.py"
    )
    for path in [home, *home.rglob("*")]:
        if not path.is_symlink():
            path.chmod(
                path.stat().st_mode | 0o755 if path.is_dir() else path.stat().st_mode | 0o644
            )
    (home / "cache").mkdir(mode=0o777, exist_ok=True)
    return Grader("nobody", ("runuser", "-u", "nobody", "--"), venv / "bin" / "python", code, home)


def new_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="grader-home-"))


def leftover_processes(marker: str) -> list[str]:
    """Command lines of running processes that contain ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in command and "containment" not in command:
            found.append(command)
    return found
