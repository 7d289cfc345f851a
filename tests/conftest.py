"""Shared test setup: the offline Fashion-MNIST copy and the repository's paths.

Tests never download: FASHION_MNIST_DIR defaults to ../shared/data/fashion-mnist
(beside the repository) and a missing copy fails the run with the fix, instead of
skipping the core paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.environments import installed_environments  # noqa: F401  (session fixture)

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = REPO_ROOT / "solutions" / "mlp-fashion-mnist"
DATA_DIR = Path(
    os.environ.get("FASHION_MNIST_DIR") or REPO_ROOT.parent / "shared" / "data" / "fashion-mnist"
).resolve()
os.environ["FASHION_MNIST_DIR"] = str(DATA_DIR)  # notebook kernels and subprocesses inherit it
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.pop("MLPKIT_PROFILE", None)
os.environ.pop("NBGRADER_EXECUTION", None)


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [
        name
        for name in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
        if not (DATA_DIR / name).exists() and not (DATA_DIR / f"{name}.gz").exists()
    ]
    if missing:
        raise pytest.UsageError(
            f"Fashion-MNIST is missing from {DATA_DIR} ({', '.join(missing)}). "
            "Set FASHION_MNIST_DIR to a folder holding the four IDX files."
        )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR
