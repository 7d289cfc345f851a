"""A machine without the hub test's prerequisites gets one message with the fix, and a failure.

Simulated with a PATH that lacks them (no apt-get, no npm, no node, no chromium), or
with apt-get but run as `nobody` (no root, no sudo): the set-up `./kit` runs cannot
install them and says so, and the hub test, run anyway, fails with its own message
instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.environments import public_folder

# What tools/prerequisites itself runs; everything else is missing from the PATH.
SCRIPT_TOOLS = ("bash", "dirname", "sed", "id", "cat")


def _bare_path(folder: Path) -> str:
    folder.mkdir()
    for tool in SCRIPT_TOOLS:
        (folder / tool).symlink_to(shutil.which(tool))
    return str(folder)


def test_kit_set_up_names_what_it_cannot_install_and_how(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(REPO_ROOT / "tools" / "prerequisites"), "test"],
        env={"PATH": _bare_path(tmp_path / "bin"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    message = completed.stderr
    assert message.startswith(
        "error: ./kit test needs what this machine lacks and cannot install here:"
    )
    for line in (
        "bubblewrap, for the grader's sandbox (/usr/bin/bwrap) (this machine has no apt-get): "
        "apt-get install -y bubblewrap",
        "chromium, for the browser tests",
        "nodejs, for configurable-http-proxy",
        "configurable-http-proxy 5.3.0, for the JupyterHub test (no npm): install Node.js and "
        "npm, then npm ci --prefix tests/hub",
    ):
        assert f"  - {line}" in message, message
    assert message.rstrip().endswith("then run ./kit test again.")


def test_kit_set_up_without_root_names_the_packages_and_why() -> None:
    """apt-get is there, but neither root nor a password-less sudo: the same one message."""
    as_nobody = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
    with public_folder("no-root") as folder:  # nobody must reach the PATH folder
        bare = _bare_path(folder / "bin")
        (folder / "bin" / "apt-get").symlink_to(shutil.which("apt-get") or "/usr/bin/apt-get")
        completed = subprocess.run(
            [str(REPO_ROOT / "tools" / "prerequisites"), "reproduce"],
            env={"PATH": bare, "HOME": str(folder)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            **as_nobody,
        )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert completed.stderr.splitlines() == [
        "error: ./kit reproduce needs what this machine lacks and cannot install here:",
        "  - bubblewrap, for the grader's sandbox (/usr/bin/bwrap) (installing Debian packages "
        "needs root or sudo without a password): apt-get install -y bubblewrap",
        "Install them as shown (Debian packages as root or with sudo), then run ./kit "
        "reproduce again.",
    ]


def test_the_hub_test_fails_with_the_fix_when_prerequisites_are_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("PYTEST")
    }
    environment["PATH"] = str(empty)  # no node, no chromium
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/hub/test_course_flow.py::test_formgrader_shows_the_course_and_its_submissions",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "1 error" in output and "skipped" not in output, output
    assert "The JupyterHub test cannot run here; this machine lacks:" in output
    assert "Node.js, which runs configurable-http-proxy: apt-get install -y nodejs npm" in output
    assert "Debian's chromium, for the student's login: apt-get install -y chromium" in output
