"""One trial of a W&B sweep: what ``wandb agent`` runs for each config it proposes.

The sweep files' ``command`` runs ``python -m mlpkit.tuning.wandb_trial --key=value
...`` (W&B's ``${args}``). The trial trains the config with the notebooks' own
functions in a worker process of the framework ``MLPKIT_SWEEP_FRAMEWORK`` names
and logs each epoch to the agent's W&B run, where the sweep's controller reads
the metric (and stops the run early under hyperband).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlpkit.config import CONFIG_KEYS, validate_config
from mlpkit.settings import load_settings
from mlpkit.tracking import RunTracker
from mlpkit.tuning.study import normalise_framework
from mlpkit.tuning.worker import TrainingWorker

DEFAULT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "solutions" / "mlp-fashion-mnist"


def _value(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(*, config: dict[str, object], framework: str, notebooks_dir: Path) -> int:
    """Train one config and log it as the current W&B run."""
    settings = load_settings()
    framework = normalise_framework(framework)
    checked = validate_config(config)
    with (
        TrainingWorker(
            framework=framework,
            notebooks_dir=notebooks_dir,
            train_examples=None,
            seed=settings.seed,
        ) as worker,
        RunTracker(
            f"sweep-{framework}", checked, framework=framework, settings=settings
        ) as tracker,
    ):

        def on_epoch(epoch: int, metrics: dict[str, float]) -> bool:
            tracker.log_epoch(epoch, **metrics)
            return False

        worker.train(checked, on_epoch)
    return 0


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for key in CONFIG_KEYS:
        parser.add_argument(f"--{key}", type=_value)
    parser.add_argument("--notebooks", type=Path, default=DEFAULT_NOTEBOOKS)
    arguments, unknown = parser.parse_known_args(argv)
    if unknown:
        print(
            f"error: unknown sweep parameters {unknown}; keys: {', '.join(CONFIG_KEYS)}",
            file=sys.stderr,
        )
        return 2
    config = {
        key: getattr(arguments, key) for key in CONFIG_KEYS if getattr(arguments, key) is not None
    }
    try:
        return main(
            config=config,
            framework=load_settings().sweep_framework,
            notebooks_dir=arguments.notebooks,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
