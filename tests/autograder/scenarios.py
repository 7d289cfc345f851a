"""The harness the check-scenario tests share: probe a sample submission, then run the checks.

A scenario is the solution notebook with some answer cells replaced. It goes
through the real pipeline in subprocesses, as the grader runs it (and so that
this test process never imports Keras next to PyTorch): the probe
(``python -m autograder.sandbox.probe KIND ...``), then pytest on the kind's check
modules. The caller compares the failed cells with the scenario's expected set.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autograder.grade.core import CHECK_MODULES
from mlpkit.notebook_code import cell_sources
from tests.conftest import REPO_ROOT, SOLUTIONS_DIR

SUBPROCESS_SECONDS = 600


@dataclass(frozen=True)
class Scenario:
    """A named sample submission: replaced answer cells and the cells it must fail."""

    name: str
    replacements: dict[str, str] = field(default_factory=dict)
    failing_cells: frozenset[str] = frozenset()
    train_epochs: int = 0


def solution_source(notebook: str, grade_id: str) -> str:
    """The source of one answer cell of the solution notebook."""
    return dict(cell_sources(SOLUTIONS_DIR / notebook, [grade_id]))[grade_id]


def cell_of_each_check(kind: str) -> dict[str, str]:
    """Test function name → the grade_id of its ``@pytest.mark.cell`` marker.

    The marker is registered by the checks' own conftest, not in this session.
    """
    cells = {}
    for module_file in CHECK_MODULES[kind]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
            checks = importlib.import_module(f"autograder.checks.{Path(module_file).stem}")
        for name, function in vars(checks).items():
            if name.startswith("test_"):
                marks = getattr(function, "pytestmark", [])
                markers = [mark for mark in marks if mark.name == "cell"]
                assert len(markers) == 1, f"{name} needs exactly one cell marker"
                cells[name] = markers[0].args[0]
    return cells


def failed_cells(kind: str, failures: dict[str, str]) -> set[str]:
    """The grade_ids of the cells whose checks failed (parametrized ids folded)."""
    cells = cell_of_each_check(kind)
    return {cells[name.split("[")[0]] for name in failures}


def subprocess_environment(**extra: str) -> dict[str, str]:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "WANDB_MODE": "offline", **extra}
    environment.pop("AUTOGRADER_DEVICE_CLASS", None)
    return environment


def run_probe(kind: str, notebook: Path, output_dir: Path, train_epochs: int) -> None:
    """The probe of ``kind`` on ``notebook``, unsandboxed, writing into ``output_dir``."""
    command = [sys.executable, "-m", "autograder.sandbox.probe", kind, str(notebook)]
    command += [str(output_dir), "--train-epochs", str(train_epochs), "--seed", "0"]
    completed = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (output_dir / "observations.json").is_file(), completed.stderr[-3000:]


def run_checks(kind: str, output_dir: Path, report: Path) -> dict[str, str]:
    """Run the checks of ``kind`` on one probe's output; return failed test id → message."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    command += [f"autograder/checks/{module}" for module in CHECK_MODULES[kind]]
    command += [f"--junitxml={report}"]
    completed = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=subprocess_environment(AUTOGRADER_OBSERVATIONS=str(output_dir)),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_SECONDS,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stdout[-3000:] + completed.stderr[-3000:]
    failures = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failures[case.get("name")] = problem.get("message", "")
    return failures


def probe_output(output_dir: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """A probe's observations and returned weights."""
    observations = json.loads((output_dir / "observations.json").read_text())
    with np.load(output_dir / "weights.npz") as archive:
        weights = {name: archive[name] for name in archive.files}
    return observations, weights
