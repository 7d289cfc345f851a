"""Calibrate the accuracy floors from repeated reference runs through the grader itself.

The reference solution is probed in the same sandbox, with the same epochs and
the same NumPy forward pass that grade students, once per seed; the floor is
the mean minus the larger of 3 standard deviations and ``MINIMUM_MARGIN``,
rounded down to three decimals. The result and its provenance go to ``thresholds.yaml``.

    python -m autograder.grade.calibrate --device cpu --epochs 3 --seeds 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from importlib import import_module
from pathlib import Path

import numpy as np
import yaml

from autograder.grade.core import SOURCE_DIR, THRESHOLDS_FILE, _data_dir, _hidden_paths
from autograder.sandbox.runner import SandboxLimits, prepare_workdir, run_sandboxed
from mlpkit.results import package_versions

NOTEBOOKS = {"tensorflow": "02-tensorflow-mlp.ipynb", "pytorch": "03-pytorch-mlp.ipynb"}
MANIFEST_KEYS = {"tensorflow": "layers", "pytorch": "manifest"}
# The floor sits at least this far below the reference mean: after the CPU budget
# (3 epochs) PyTorch's default initialisation, the original's recipe, trails the
# reference's Glorot initialisation by about 0.02, and it must still pass.
MINIMUM_MARGIN = 0.03


def reference_accuracy(framework: str, *, seed: int, epochs: int) -> tuple[float, float]:
    """Probe the reference notebook once; return (test accuracy, seconds)."""
    from mlpkit.data import load_fashion_mnist

    predict = import_module(f"autograder.checks.{framework}_model").predict
    with tempfile.TemporaryDirectory(prefix="calibrate-") as folder:
        workdir = Path(folder)
        data_dir = _data_dir()
        notebook, sandbox_data = prepare_workdir(
            workdir,
            notebook=SOURCE_DIR / NOTEBOOKS[framework],
            data_dir=data_dir,
            code_dir=Path(__file__).resolve().parents[1] / "sandbox",
        )
        output = workdir / "output"
        result = run_sandboxed(
            [
                sys.executable,
                "-m",
                "autograder.sandbox.probe",
                framework,
                str(notebook),
                str(output),
                "--train-epochs",
                str(epochs),
                "--seed",
                str(seed),
            ],
            workdir=workdir,
            data_dir=sandbox_data,
            limits=SandboxLimits(),
            hidden_paths=_hidden_paths(data_dir),
        )
        if not result.ok:
            raise ValueError(f"reference probe failed: {result.failure or result.stderr[-1000:]}")
        record = json.loads((output / "observations.json").read_text())["accuracy"]
        with np.load(output / "weights.npz") as archive:
            weights = {name: archive[name] for name in archive.files}
    dataset = load_fashion_mnist(download=False)
    labels = predict(record[MANIFEST_KEYS[framework]], weights, dataset.x_test)
    return float(np.mean(labels == dataset.y_test)), result.seconds


def calibrate(*, device: str, epochs: int, seeds: list[int], frameworks: list[str]) -> dict:
    """Measure every framework over the seeds and write the floors to thresholds.yaml."""
    thresholds = yaml.safe_load(THRESHOLDS_FILE.read_text()) or {}
    for framework in frameworks:
        runs = [reference_accuracy(framework, seed=seed, epochs=epochs) for seed in seeds]
        accuracies = [accuracy for accuracy, _ in runs]
        mean, spread = statistics.mean(accuracies), statistics.stdev(accuracies)
        floor = math.floor((mean - max(3 * spread, MINIMUM_MARGIN)) * 1000) / 1000
        thresholds.setdefault(device, {})[framework] = {
            "epochs": epochs,
            "floor": floor,
            "reference_mean": round(mean, 4),
            "reference_sd": round(spread, 4),
            "provenance": {
                "seeds": list(seeds),
                "accuracies": [round(accuracy, 4) for accuracy in accuracies],
                "probe_seconds": [round(seconds, 1) for _, seconds in runs],
                "machine": f"{platform.system()} {platform.machine()}, {device}",
                "versions": package_versions(),
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                "command": " ".join(["python -m autograder.grade.calibrate", *sys.argv[1:]]),
            },
        }
        summary = f"{mean:.4f} ± {spread:.4f} over {len(seeds)} seeds"
        print(f"{device} {framework}: {summary} -> floor {floor}")
    header = (
        "# Accuracy floors of the hidden checks, per device class and framework, written by\n"
        "# autograder/grade/calibrate.py: the reference solution probed through the grader,\n"
        "# floor = mean - max(3 sd, 0.03). Do not edit by hand; re-run the calibration.\n"
    )
    THRESHOLDS_FILE.write_text(header + yaml.safe_dump(thresholds, sort_keys=False, width=100))
    return thresholds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", choices=["cpu", "gpu"], required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--frameworks", default="pytorch,tensorflow")
    arguments = parser.parse_args(argv)
    seeds = [int(seed) for seed in arguments.seeds.split(",")]
    if len(seeds) < 5:
        parser.error("calibrate from at least 5 seeds")
    calibrate(
        device=arguments.device,
        epochs=arguments.epochs,
        seeds=seeds,
        frameworks=arguments.frameworks.split(","),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
