"""``import mlpkit`` is cheap and re-exports exactly the names it lists (PEP 562 lazy loading)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT

PROBE = """
import json, sys
import mlpkit
heavy = ("matplotlib", "sklearn", "wandb", "torch", "tensorflow")
eager = sorted(name for name in heavy if name in sys.modules)
listed, mapped = sorted(mlpkit.__all__), sorted(mlpkit._EXPORTS)
unresolved = [name for name in listed if getattr(mlpkit, name, None) is None]
frameworks = sorted(name for name in ("torch", "tensorflow") if name in sys.modules)
report = {"eager": eager, "same": listed == mapped, "unresolved": unresolved}
print(json.dumps({**report, "frameworks": frameworks}))
"""


def test_import_is_lazy_and_every_listed_name_resolves_without_a_framework() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["eager"] == [], f"import mlpkit loaded {report['eager']}"
    assert report["same"], "mlpkit.__all__ and the lazy export map list different names"
    assert report["unresolved"] == []
    assert report["frameworks"] == [], f"mlpkit's names imported {report['frameworks']}"
