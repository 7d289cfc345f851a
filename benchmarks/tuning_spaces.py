"""Which matters more at an equal budget: the sampler or the learning-rate space?

Four cells, each run once per seed with the same number of trials: GP-Bayes
(``method: bayes``, optuna's ``GPSampler``) or random search, over the original
space (learning rate uniform on [1e-4, 0.1], ``sweeps/<optimizer>.yaml``) or its
log-uniform twin (``sweeps/<optimizer>-loguniform.yaml``). Each cell reports the
best validation loss a study found, mean ± sd over the seeds. Every study trains
through the notebooks' own functions in one shared worker (one framework import,
one data load), with every trial on the same data order (training seed fixed);
the seed changes only the sampler.

The defaults fit a shared 2-core CPU in a few minutes (a data subset, two epochs
per trial, eight trials); scale with the flags on a GPU::

    python benchmarks/tuning_spaces.py
    python benchmarks/tuning_spaces.py --trials 50 --max-epochs 0 --train-examples 0
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import optuna
import yaml

from mlpkit.tuning import TrainingWorker, parse_sweep, run_study

REPO_ROOT = Path(__file__).resolve().parents[1]

SAMPLERS = ("bayes", "random")
SPACES = {"original": "{optimizer}.yaml", "log-uniform": "{optimizer}-loguniform.yaml"}


def definition_for(optimizer: str, space: str, method: str):
    """The course's sweep file for ``space``, with its method replaced by ``method``."""
    path = REPO_ROOT / "sweeps" / SPACES[space].format(optimizer=optimizer)
    document = yaml.safe_load(path.read_text())
    return parse_sweep({**document, "method": method}, source=str(path))


def run_benchmark(
    *,
    framework: str,
    optimizer: str,
    seeds: list[int],
    trials: int,
    max_epochs: int | None,
    train_examples: int | None,
    startup_trials: int,
    work_dir: Path,
) -> dict:
    """Run every (sampler, space, seed) study; return the per-cell results."""
    storage = f"sqlite:///{work_dir / 'benchmark.db'}"
    cells: dict[str, dict] = {}
    with TrainingWorker(
        framework=framework,
        notebooks_dir=REPO_ROOT / "solutions" / "mlp-fashion-mnist",
        train_examples=train_examples,
        seed=42,
    ) as worker:
        for method in SAMPLERS:
            for space in SPACES:
                best_losses, seconds, configs = [], [], []
                for seed in seeds:
                    started = time.perf_counter()
                    report = run_study(
                        definition_for(optimizer, space, method),
                        framework=framework,
                        trials=trials,
                        results_dir=work_dir,
                        storage=storage,
                        study_name=f"{optimizer}-{method}-{space}-seed{seed}",
                        notebooks_dir=REPO_ROOT / "solutions" / "mlp-fashion-mnist",
                        max_epochs=max_epochs,
                        seed=seed,
                        startup_trials=startup_trials,
                        show_progress=False,
                        worker=worker,
                    )
                    best_losses.append(report.best_value)
                    configs.append(report.best_config)
                    seconds.append((time.perf_counter() - started) / trials)
                    best = report.best_value
                    print(f"{method:6s} {space:11s} seed {seed}: best val_loss {best:.4f}")
                cells[f"{method}/{space}"] = {
                    "sampler": method,
                    "space": space,
                    "best_val_loss": best_losses,
                    "mean": statistics.mean(best_losses),
                    "sd": statistics.stdev(best_losses) if len(best_losses) > 1 else 0.0,
                    "seconds_per_trial": statistics.mean(seconds),
                    "best_config": configs[best_losses.index(min(best_losses))],
                }
    return cells


def table(cells: dict) -> str:
    """The Markdown table: one row per cell, best validation loss mean ± sd over seeds."""
    lines = [
        "| sampler | learning-rate space | best val_loss (mean ± sd) | s per trial |",
        "|---|---|---|---|",
    ]
    for cell in cells.values():
        lines.append(
            f"| {cell['sampler']} | {cell['space']} | {cell['mean']:.4f} ± {cell['sd']:.4f} "
            f"| {cell['seconds_per_trial']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=["pytorch", "tensorflow"], default="pytorch")
    parser.add_argument("--optimizer", choices=["sgd", "adam", "rmsprop"], default="adam")
    parser.add_argument("--seeds", default="0,1,2", help="sampler seeds, comma-separated")
    parser.add_argument("--trials", type=int, default=8, help="trials per study (equal budget)")
    parser.add_argument("--max-epochs", type=int, default=2, help="0: each config's own epochs")
    parser.add_argument("--train-examples", type=int, default=6000, help="0: all 60,000")
    parser.add_argument("--startup-trials", type=int, default=3, help="random draws before GP")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "results" / "tuning-spaces.json")
    arguments = parser.parse_args()
    os.environ.setdefault("WANDB_MODE", "disabled")  # a benchmark, not a record of runs
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = [int(seed) for seed in arguments.seeds.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tuning-spaces-") as work_dir:
        cells = run_benchmark(
            framework=arguments.framework,
            optimizer=arguments.optimizer,
            seeds=seeds,
            trials=arguments.trials,
            max_epochs=arguments.max_epochs or None,
            train_examples=arguments.train_examples or None,
            startup_trials=arguments.startup_trials,
            work_dir=Path(work_dir),
        )
    print(
        f"\n{arguments.optimizer}, {arguments.framework}, {arguments.trials} trials per study, "
        f"{arguments.max_epochs or 'own'} epochs, {arguments.train_examples or 60000} images, "
        f"seeds {seeds} ({time.perf_counter() - started:.0f} s):\n"
    )
    print(table(cells))
    for name, cell in cells.items():
        print(f"best of {name}: val_loss {min(cell['best_val_loss']):.4f} {cell['best_config']}")
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps({"arguments": sys.argv[1:], "cells": cells}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
