"""The student and instructor environments as docker/install.sh sets them up, without Docker.

A full `docker/install.sh packages` is a second 8 GB install, so the tests build a
throwaway prefix instead: a venv of its own (its own etc/jupyter, where install.sh
writes its settings) whose packages are .venv's, which hold the image's set
(requirements-dev.txt includes docker/requirements-image.txt). install.sh's student and
instructor steps then run against it for real, once per test session (the
`installed_environments` fixture, registered in tests/conftest.py):
tests/test_packaging.py checks what the steps did, and tests/hub runs a JupyterHub
whose users' servers start from the same two prefixes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = REPO_ROOT / "docker" / "install.sh"
VENV = Path(sys.prefix).resolve()


@contextlib.contextmanager
def public_folder(name: str) -> Iterator[Path]:
    """A temporary folder every user may read (pytest's own are private to root).

    An environment must be readable by other users: the grader runs student code as
    `nobody` when it runs as root, and the hub runs each user's server as that user.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"mlpkit-{name}-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def readable_by_everyone(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot enter (None: none)."""
    for folder in [*reversed(path.resolve().parents), path.resolve()]:
        if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def base_python() -> Path:
    """.venv's own interpreter: the one its packages were resolved and built for.

    (Another interpreter of the same minor version is not enough: Debian 12's 3.11.2
    cannot run the soupsieve the pinned set resolves to, which requires 3.11.5.)
    """
    return Path(sys._base_executable).resolve()


def build_environment(prefix: Path) -> Path:
    """A venv whose packages are .venv's (through site.addsitedir) but whose prefix is its own.

    The Jupyter settings install.sh writes land in this prefix's etc/jupyter; the
    extension data (share/jupyter) and nbgrader's shipped config are .venv's. .venv's
    console scripts (jupyter*, nbgrader, alembic, jupyterhub-singleuser...) are copied
    with this prefix's interpreter in their first line, as pip would have written them.
    """
    subprocess.run([str(base_python()), "-m", "venv", "--without-pip", str(prefix)], check=True)
    site_packages = Path(
        sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)})
    )
    # addsitedir (not a bare path) also runs .venv's .pth files: mlpkit's editable finder.
    venv_packages = sysconfig.get_path("purelib")
    (site_packages / "_mlpkit_venv_packages.pth").write_text(
        f"import site; site.addsitedir({venv_packages!r})\n"
    )
    shutil.copytree(VENV / "etc" / "jupyter", prefix / "etc" / "jupyter")
    (prefix / "share").mkdir(exist_ok=True)
    (prefix / "share" / "jupyter").symlink_to(VENV / "share" / "jupyter")
    interpreter_line = f"#!{VENV / 'bin' / 'python'}"
    for script in (VENV / "bin").iterdir():
        target = prefix / "bin" / script.name
        if target.exists() or not script.is_file():
            continue
        with script.open("rb") as handle:
            first_line = handle.readline().decode(errors="replace").rstrip()
        if first_line.startswith(interpreter_line):
            lines = script.read_text().splitlines(keepends=True)
            target.write_text(f"#!{prefix / 'bin' / 'python'}\n" + "".join(lines[1:]))
            target.chmod(0o755)
    return prefix


def run_install(
    prefix: Path, role: str, home: Path, *arguments: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``docker/install.sh ROLE ARGUMENTS`` for the prefix, with a home of its own."""
    variables = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("JUPYTER") and name not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    variables.update(
        PYTHON=str(prefix / "bin" / "python"),
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
        JUPYTER_PLATFORM_DIRS="0",
        PATH=f"{prefix / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        **(environment or {}),
    )
    return subprocess.run(
        ["bash", str(INSTALL_SCRIPT), role, *arguments],
        cwd=home,
        env=variables,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Environment:
    """A prefix set up by `docker/install.sh ROLE`, with what the script printed."""

    role: str
    prefix: Path
    install: subprocess.CompletedProcess
    seconds: float
    changed_outside: list[Path]  # what the set-up changed beyond its prefix (must be none)


def _state(paths: list[Path]) -> dict[Path, bytes]:
    """The content of every file under the paths, to notice a change."""
    files = [file for path in paths for file in ([path] if path.is_file() else path.rglob("*"))]
    return {file: file.read_bytes() for file in files if file.is_file()}


def _install_environment(root: Path, role: str, *arguments: str) -> Environment:
    home = root / f"home-{role}"
    home.mkdir()
    started = time.perf_counter()
    prefix = build_environment(root / role)
    completed = run_install(prefix, role, home, *arguments)
    return Environment(role, prefix, completed, time.perf_counter() - started, [])


@pytest.fixture(scope="session")
def installed_environments() -> Iterator[dict[str, Environment]]:
    """The student and the instructor environment, each set up once per test session.

    Shared by tests/test_packaging.py (what install.sh did) and tests/hub (servers
    start from them). The instructor step is given the repository as its course, so
    it also generates the release and grades notebook 01 (in a copy of the course).
    Built side by side: each step is a series of slow `jupyter` commands.
    """
    outside = [
        VENV / "etc" / "jupyter",
        REPO_ROOT / "assignments",
        REPO_ROOT / "gradebook.db",
    ]
    before = _state(outside)
    with public_folder("environments") as root, ThreadPoolExecutor(max_workers=2) as pool:
        student = pool.submit(_install_environment, root, "student")
        instructor = pool.submit(_install_environment, root, "instructor", str(REPO_ROOT))
        environments = {"student": student.result(), "instructor": instructor.result()}
        after = _state(outside)
        changed = sorted(path for path in {*before, *after} if before.get(path) != after.get(path))
        for environment in environments.values():
            environment.changed_outside = changed
        yield environments
