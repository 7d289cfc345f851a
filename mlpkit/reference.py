"""The accuracy study: the reference notebooks trained over several seeds.

The solution notebooks are the reference implementation, so the study executes
them (nbclient) once per seed instead of keeping a second copy of the model
code. Each run saves its results as usual; the study gathers test accuracy into
one provenance-carrying JSON file (``results/reference-accuracy.json``).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from mlpkit.execute import execute_notebooks
from mlpkit.results import load_results, package_versions

FRAMEWORK_NOTEBOOKS = {"tensorflow": "02-tensorflow-mlp.ipynb", "pytorch": "03-pytorch-mlp.ipynb"}


def accuracy_study(
    *,
    framework: str,
    seeds: Sequence[int],
    profile: str,
    notebooks_dir: Path,
    work_dir: Path,
    output: Path,
) -> dict:
    """Execute one framework notebook once per seed and record mean ± sd test accuracy.

    The entry for ``(profile, framework)`` in ``output`` is replaced; other
    entries are kept, so the two frameworks can be studied in separate runs.
    """
    if framework not in FRAMEWORK_NOTEBOOKS:
        raise ValueError(f"Unknown framework {framework!r}: use tensorflow or pytorch.")
    if len(seeds) < 2:
        raise ValueError("An accuracy study needs at least two seeds for a standard deviation.")
    notebook = Path(notebooks_dir) / FRAMEWORK_NOTEBOOKS[framework]
    runs = []
    for seed in seeds:
        seed_dir = Path(work_dir) / framework / f"seed-{seed}"
        [run] = execute_notebooks(
            [notebook],
            profile=profile,
            results_dir=seed_dir,
            extra_environment={"MLPKIT_SEED": str(seed)},
        )
        if not run.ok:
            raise ValueError(f"{notebook.name} failed for seed {seed}: {run.error}")
        result = load_results(framework, profile, seed_dir)
        runs.append({"seed": seed, "seconds": round(run.seconds, 1), **result["metrics"]})
    accuracies = [run["test_accuracy"] for run in runs]
    entry = {
        "framework": framework,
        "profile": profile,
        "seeds": list(seeds),
        "test_accuracy_mean": statistics.mean(accuracies),
        "test_accuracy_sd": statistics.stdev(accuracies),
        "runs": runs,
        "config": result["config"],
        "device": result["device"],
        "versions": package_versions(),
        "machine": f"{platform.system()} {platform.machine()}, {platform.processor() or 'cpu'}",
        "command": " ".join(["mlpkit", *sys.argv[1:]]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "notebook": str(notebook),
    }
    output = Path(output)
    document = json.loads(output.read_text()) if output.is_file() else {}
    document.setdefault(profile, {})[framework] = entry
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n")
    return entry
