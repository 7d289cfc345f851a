"""Fixtures of the hidden checks: the observations of one probe run, and the test set.

The grading core runs pytest on these modules with ``AUTOGRADER_OBSERVATIONS``
pointing at a probe's output folder. The test set is read here, in the trusted
grader process, from ``FASHION_MNIST_DIR``; the sandbox never receives it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

THRESHOLDS_FILE = Path(__file__).resolve().parents[1] / "thresholds.yaml"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cell(grade_id): the nbgrader test cell this check guards")


def _observations_dir() -> Path:
    value = os.environ.get("AUTOGRADER_OBSERVATIONS")
    if not value:
        raise pytest.UsageError("AUTOGRADER_OBSERVATIONS must name a probe's output folder.")
    return Path(value)


@pytest.fixture(scope="session")
def observations() -> dict:
    path = _observations_dir() / "observations.json"
    if not path.is_file():
        return {"error": "the submission's code could not be run (no observations were recorded)"}
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def weights() -> dict[str, np.ndarray]:
    path = _observations_dir() / "weights.npz"
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.fixture(scope="session")
def test_data() -> tuple[np.ndarray, np.ndarray]:
    from mlpkit.data import load_fashion_mnist

    dataset = load_fashion_mnist(download=False)
    return dataset.x_test, dataset.y_test


def device_class() -> str:
    """``gpu`` when the sandbox trained on a GPU (``AUTOGRADER_DEVICE_CLASS``), else ``cpu``."""
    value = os.environ.get("AUTOGRADER_DEVICE_CLASS", "cpu")
    if value not in ("cpu", "gpu"):
        raise pytest.UsageError(f"AUTOGRADER_DEVICE_CLASS must be cpu or gpu, got {value!r}.")
    return value


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def accuracy_threshold():
    def threshold(framework: str) -> float:
        return float(load_thresholds()[device_class()][framework]["floor"])

    return threshold
