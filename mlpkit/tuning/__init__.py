"""The embedded tuning engine: W&B sweep files run offline as optuna studies."""

from mlpkit.tuning.best import write_best_config
from mlpkit.tuning.space import (
    Parameter,
    SweepDefinition,
    load_sweep,
    make_pruner,
    make_sampler,
    parse_sweep,
)
from mlpkit.tuning.study import (
    StudyReport,
    best_trial,
    default_storage,
    normalise_framework,
    open_study,
    run_study,
    trial_config,
    write_results_table,
)
from mlpkit.tuning.worker import TrainingWorker, WorkerError

__all__ = [
    "Parameter",
    "StudyReport",
    "SweepDefinition",
    "TrainingWorker",
    "WorkerError",
    "best_trial",
    "default_storage",
    "load_sweep",
    "make_pruner",
    "make_sampler",
    "normalise_framework",
    "open_study",
    "parse_sweep",
    "run_study",
    "trial_config",
    "write_best_config",
    "write_results_table",
]
