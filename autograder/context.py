"""The one object that carries the grader's paths and settings, built at the edges.

``GradingContext.from_environment`` is the only place the grader reads its
environment (``FASHION_MNIST_DIR``, ``AUTOGRADER_DEVICE_CLASS``,
``MLPKIT_TORCH_THREADS``, ``MLPKIT_GRADER_CACHE``) and its own location on disk;
the command line, the nbgrader preprocessor and each grader process build one
and pass it down. Everything below takes it explicitly.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import threadpoolctl
import yaml

from autograder.sandbox.isolation import Isolation, SandboxLimits, require_isolation
from mlpkit.data import missing_files

REPOSITORY = Path(__file__).resolve().parents[1]
ASSIGNMENT = "mlp-fashion-mnist"
# Each notebook's whole budget (every part, every restart of its host). A framework
# host imports its framework once per start and runs a few dozen small challenges.
DEFAULT_LIMITS = {
    "exploration": SandboxLimits(wall_seconds=90),
    "comparison": SandboxLimits(wall_seconds=90),
    "tuning": SandboxLimits(wall_seconds=90),
    "pytorch": SandboxLimits(wall_seconds=420),
    "tensorflow": SandboxLimits(wall_seconds=480),
}


def source_dir() -> Path:
    """The trusted source notebooks of the assignment (points, grade ids)."""
    return REPOSITORY / "solutions" / ASSIGNMENT


@dataclass(frozen=True)
class GradingOptions:
    """What an instructor may choose per grading run (command line or nbgrader config)."""

    allow_weak_isolation: bool = False
    wall_seconds: float | None = None
    memory_bytes: int | None = None
    seed: int = 0
    challenge_seed: int | None = None  # None: fresh per run (a replay passes the recorded one)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def dataset_dir(environ: dict[str, str]) -> Path:
    """The Fashion-MNIST folder named by ``FASHION_MNIST_DIR``, with its four files.

    Checked before any grader starts, so a missing dataset is one message for the
    instructor, never a failure per student.
    """
    value = environ.get("FASHION_MNIST_DIR")
    if not value:
        raise ValueError(
            "FASHION_MNIST_DIR is not set: point it at the folder with the four "
            "Fashion-MNIST IDX files (train-images-idx3-ubyte.gz and the rest) before grading."
        )
    data_dir = Path(value).expanduser().resolve()
    if not data_dir.is_dir():
        raise ValueError(f"FASHION_MNIST_DIR={value} is not a folder: point it at the dataset.")
    missing = missing_files(data_dir)
    if missing:
        raise ValueError(
            f"FASHION_MNIST_DIR={value} lacks {', '.join(missing)} (.gz or raw): "
            "copy the four IDX files (train-images-idx3-ubyte.gz ...) there."
        )
    return data_dir


@dataclass(frozen=True)
class GradingContext:
    """Paths, device, isolation and limits of one grader process."""

    repository: Path
    data_dir: Path
    device: str
    isolation: Isolation
    options: GradingOptions = field(default_factory=GradingOptions)
    cache_dir: Path | None = None
    torch_threads: int = 1
    visible_devices: str | None = None

    @classmethod
    def from_environment(
        cls, options: GradingOptions | None = None, *, environ: dict[str, str] | None = None
    ) -> GradingContext:
        """Build the context from this process's environment (the edge)."""
        environ = dict(os.environ if environ is None else environ)
        options = options or GradingOptions()
        # The grader's NumPy work is many small products: one BLAS thread is fastest, and
        # leaves the other cores to the sandboxes and trainers running beside it.
        threadpoolctl.threadpool_limits(limits=1, user_api="blas")
        data_dir = dataset_dir(environ)
        cache = environ.get("MLPKIT_GRADER_CACHE")
        cache_dir = Path(cache) if cache else Path.home() / ".cache" / "mlpkit" / "grader"
        return cls(
            repository=REPOSITORY,
            data_dir=data_dir,
            device=device_class(environ),
            isolation=require_isolation(allow_weak=options.allow_weak_isolation),
            options=options,
            cache_dir=None if cache == "" else cache_dir,
            torch_threads=int(environ.get("MLPKIT_TORCH_THREADS", "1")),
            visible_devices=environ.get("CUDA_VISIBLE_DEVICES"),
        )

    # ------------------------------------------------------------ paths

    @property
    def source_dir(self) -> Path:
        return self.repository / "solutions" / ASSIGNMENT

    @property
    def thresholds_file(self) -> Path:
        return self.repository / "autograder" / "thresholds.yaml"

    @property
    def checks_dir(self) -> Path:
        return self.repository / "autograder" / "checks"

    @property
    def best_configs_file(self) -> Path:
        return self.repository / "sweeps" / "best.yaml"

    # ------------------------------------------------------------ settings

    def limits(self, kind: str) -> SandboxLimits:
        limits = DEFAULT_LIMITS[kind]
        if self.options.wall_seconds is not None:
            limits = dataclasses.replace(limits, wall_seconds=self.options.wall_seconds)
        if self.options.memory_bytes is not None:
            limits = dataclasses.replace(limits, memory_bytes=self.options.memory_bytes)
        return limits

    def best_config(self, optimizer: str) -> dict[str, Any]:
        from mlpkit.config import load_best_config

        return load_best_config(optimizer, path=self.best_configs_file)

    def thresholds(self) -> dict[str, Any]:
        return _thresholds(self.thresholds_file)

    def accuracy_epochs(self, framework: str) -> int:
        return int(self.thresholds()[self.device][framework]["epochs"])

    def floor(self, framework: str) -> float:
        return float(self.thresholds()[self.device][framework]["floor"])

    # ------------------------------------------------------------ data (trusted side)

    def training_images(self) -> np.ndarray:
        return _dataset(self.data_dir)[0]

    def training_labels(self) -> np.ndarray:
        return _dataset(self.data_dir)[1]

    def test_data(self) -> tuple[np.ndarray, np.ndarray]:
        dataset = _dataset(self.data_dir)
        return dataset[2], dataset[3]


@functools.cache
def _thresholds(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@functools.cache
def _dataset(data_dir: Path) -> tuple[np.ndarray, ...]:
    from mlpkit.data import load_fashion_mnist
    from mlpkit.settings import Settings

    dataset = load_fashion_mnist(Settings(data_dir=data_dir), download=False)
    return dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test


def device_class(environ: dict[str, str]) -> str:
    """``gpu`` when the grader is told so or an NVIDIA GPU is visible, else ``cpu``."""
    value = environ.get("AUTOGRADER_DEVICE_CLASS")
    if value:
        if value not in ("cpu", "gpu"):
            raise ValueError(f"AUTOGRADER_DEVICE_CLASS must be cpu or gpu, got {value!r}.")
        return value
    if environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1") or not shutil.which("nvidia-smi"):
        return "cpu"
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return "gpu" if "GPU" in listing.stdout else "cpu"
