"""The course site, built once per test session with the real `mkdocs build --strict`.

The build runs in a child process with every proxy pointed at a closed port, so a
build that reached for the network would fail here instead of in an offline CI.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT

HOOK_FILE = REPO_ROOT / "docs" / "hooks" / "course_site.py"
NO_NETWORK = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` writes it (into a temporary folder)."""
    site_dir = tmp_path_factory.mktemp("site")
    environment = {
        **os.environ,
        "HTTP_PROXY": NO_NETWORK,
        "HTTPS_PROXY": NO_NETWORK,
        "http_proxy": NO_NETWORK,
        "https_proxy": NO_NETWORK,
        "NO_MKDOCS_2_WARNING": "1",
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        pytest.fail(
            f"mkdocs build --strict failed (exit {completed.returncode}):\n{completed.stderr}"
        )
    print(f"mkdocs build --strict: {seconds:.1f} s")
    return site_dir


@pytest.fixture(scope="session")
def course_site_hook() -> ModuleType:
    """The site's mkdocs hook module, loaded from its file as mkdocs loads it."""
    specification = importlib.util.spec_from_file_location("course_site", HOOK_FILE)
    module = importlib.util.module_from_spec(specification)
    sys.path.insert(0, str(HOOK_FILE.parent))  # as mkdocs does while it loads a hook
    try:
        specification.loader.exec_module(module)
    finally:
        sys.path.remove(str(HOOK_FILE.parent))
    return module
