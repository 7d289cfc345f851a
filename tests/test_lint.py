"""Ruff's lint and format checks over the whole repository, as CI runs them.

The rules and line length live in ``pyproject.toml``; ``ruff format`` also formats the
Python blocks of the Markdown docs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_passes_on_the_repository(command: list[str]) -> None:
    completed = subprocess.run(
        [str(RUFF), *command, "."], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, (
        f"ruff {' '.join(command)} found problems (fix with `.venv/bin/ruff "
        f"{'check --fix' if command == ['check'] else 'format'} .`):\n"
        + (completed.stdout + completed.stderr)[-4000:]
    )
