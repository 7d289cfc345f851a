"""Calibrate the accuracy floors from repeated reference runs of the grader's own retrain.

The reference solution is measured through the grader (the same pipeline that
grades students) to get its spec; that spec is then retrained by the grader's
trainer once per seed, and tested with the grader's NumPy forward pass. The
floor is the mean minus the larger of 3 standard deviations and
``MINIMUM_MARGIN``, rounded down to three decimals; it and its provenance go to
``thresholds.yaml``.

    python -m autograder.grade.calibrate --device cpu --epochs 3 --seeds 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
from datetime import datetime, timezone

import numpy as np
import yaml

from autograder.context import GradingContext
from autograder.grade.core import measure_notebook
from autograder.measure.maths import Network
from autograder.sandbox.trainer import train
from mlpkit.results import package_versions

NOTEBOOKS = {"tensorflow": "02-tensorflow-mlp.ipynb", "pytorch": "03-pytorch-mlp.ipynb"}
# The floor sits at least this far below the reference mean, so that a correct
# variant (another initialisation, the softmax pairing) passes too.
MINIMUM_MARGIN = 0.03


def reference_spec(framework: str, context: GradingContext) -> dict:
    """The reference solution's spec, as the grader identifies it."""
    measurements = measure_notebook(
        context.source_dir / NOTEBOOKS[framework], kind=framework, context=context, challenge_seed=0
    )
    record = measurements.get("accuracy", {})
    if not record.get("retrained"):
        raise ValueError(f"the reference {framework} notebook did not retrain: {record}")
    return record["spec"]


def accuracy_of(framework: str, spec: dict, context: GradingContext) -> tuple[float, float]:
    """(test accuracy, trainer seconds) of one retrain of ``spec`` (never from the cache)."""
    weights, info = train(
        framework,
        spec,
        data_dir=context.data_dir,
        device=context.device,
        cache_dir=None,
        torch_threads=context.torch_threads,
    )
    scale = 1 / 255 if framework == "pytorch" else spec["input_scale"]
    network = Network(weights[0::2], weights[1::2], spec["activation"], spec["head"], scale)
    images, labels = context.test_data()
    return float(np.mean(network.predict(images) == labels)), float(info["seconds"])


def calibrate(
    *, epochs: int, seeds: list[int], frameworks: list[str], context: GradingContext
) -> dict:
    """Measure every framework over the seeds and write the floors to thresholds.yaml."""
    thresholds = yaml.safe_load(context.thresholds_file.read_text()) or {}
    for framework in frameworks:
        spec = {**reference_spec(framework, context), "epochs": epochs}
        runs = [accuracy_of(framework, {**spec, "seed": seed}, context) for seed in seeds]
        accuracies = [accuracy for accuracy, _ in runs]
        mean, spread = statistics.mean(accuracies), statistics.stdev(accuracies)
        floor = math.floor((mean - max(3 * spread, MINIMUM_MARGIN)) * 1000) / 1000
        thresholds.setdefault(context.device, {})[framework] = {
            "epochs": epochs,
            "floor": floor,
            "reference_mean": round(mean, 4),
            "reference_sd": round(spread, 4),
            "provenance": {
                "procedure": "the grader's own retrain of the reference solution's identified spec",
                "spec": {key: value for key, value in spec.items() if key != "seed"},
                "seeds": list(seeds),
                "accuracies": [round(accuracy, 4) for accuracy in accuracies],
                "trainer_seconds": [round(seconds, 1) for _, seconds in runs],
                "machine": f"{platform.system()} {platform.machine()}, {context.device}",
                "versions": package_versions(),
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                "command": " ".join(["python -m autograder.grade.calibrate", *sys.argv[1:]]),
            },
        }
        print(
            f"{context.device} {framework}: {mean:.4f} ± {spread:.4f} over {len(seeds)} seeds "
            f"-> floor {floor}"
        )
    header = (
        "# Accuracy floors of the hidden checks, per device class and framework, written by\n"
        "# autograder/grade/calibrate.py: the grader's own retrain of the reference solution's\n"
        "# spec, floor = mean - max(3 sd, 0.03). Do not edit by hand; re-run the calibration.\n"
    )
    context.thresholds_file.write_text(
        header + yaml.safe_dump(thresholds, sort_keys=False, width=100)
    )
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
    context = GradingContext.from_environment()
    if context.device != arguments.device:
        parser.error(f"--device {arguments.device}, but this machine grades on {context.device}")
    calibrate(
        epochs=arguments.epochs,
        seeds=seeds,
        frameworks=arguments.frameworks.split(","),
        context=context,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
