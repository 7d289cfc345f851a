"""What the JupyterHub test needs from the machine, and the one message when it lacks some.

`./kit test` installs the packages (tools/prerequisites test); this check is for
running pytest by hand, or on a machine where that set-up could not install them. A
missing prerequisite fails the test with this message; it never skips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import DATA_DIR, REPO_ROOT
from tests.environments import VENV, base_python, readable_by_everyone

PROXY = REPO_ROOT / "tests" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"


def _system_command(name: str) -> str | None:
    """A command from PATH, or from the system folders root's PATH usually has."""
    return shutil.which(name) or next(
        (
            f"{folder}/{name}"
            for folder in ("/usr/sbin", "/sbin")
            if Path(f"{folder}/{name}").exists()
        ),
        None,
    )


def missing_prerequisites() -> list[str]:
    """One line per missing prerequisite: what it is for, and how to install it."""
    missing = []
    if os.geteuid() != 0:
        missing.append(
            "root: the test creates system users and starts their servers as them "
            "(run ./kit test as root, as CI does, on a machine you can add users to)"
        )
    for command in ("useradd", "userdel"):
        if _system_command(command) is None:
            missing.append(f"{command}, for the test's users: apt-get install -y passwd")
    if shutil.which("node") is None:
        missing.append("Node.js, which runs configurable-http-proxy: apt-get install -y nodejs npm")
    if not PROXY.exists():
        missing.append(
            "configurable-http-proxy (npm, pinned in tests/hub/package.json): "
            "npm ci --prefix tests/hub"
        )
    if shutil.which("bwrap") is None:
        missing.append(
            "bubblewrap (bwrap), the grader's sandbox, which autograde runs: "
            "apt-get install -y bubblewrap"
        )
    if shutil.which("chromium") is None:
        missing.append("Debian's chromium, for the student's login: apt-get install -y chromium")
    if readable_by_everyone(base_python()) is not None:
        for command in ("unshare", "mount"):  # to show the users .venv's interpreter
            if _system_command(command) is None:
                missing.append(
                    f"{command}, for the hub's mount namespace: apt-get install -y util-linux mount"
                )
    for what, path in (("the checkout and its .venv", VENV), ("Fashion-MNIST", DATA_DIR)):
        private = readable_by_everyone(path)
        if private is not None:
            missing.append(
                f"{what} readable by the test's users: {private} is private to its owner "
                f"(clone the repository, or put FASHION_MNIST_DIR, where other users can read)"
            )
    return missing


def prerequisites_message(missing: list[str]) -> str:
    lines = "\n".join(f"  - {line}" for line in missing)
    return (
        "The JupyterHub test cannot run here; this machine lacks:\n"
        f"{lines}\n"
        "`./kit test` installs the packages itself (tools/prerequisites test) when it runs "
        "as root or with sudo."
    )
