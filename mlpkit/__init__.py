"""mlpkit: the helper library of the Fashion-MNIST MLP course kit.

Notebooks import everything from here. Nothing in it gives a graded answer away:
the model, the loss, the optimizer set-up and the training loop are the
students' work. Neither TensorFlow nor PyTorch is imported by this package, and nothing is
imported until it is used: each name below loads its module on first access (PEP 562),
so ``import mlpkit`` costs milliseconds, not the seconds matplotlib takes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> the module that defines it.
_EXPORTS = {
    "CLASS_NAMES": "mlpkit.data",
    "CONFIG_KEYS": "mlpkit.config",
    "DatasetError": "mlpkit.data",
    "FRAMEWORK_LABELS": "mlpkit.results",
    "FashionMNIST": "mlpkit.data",
    "OPTIMIZERS": "mlpkit.config",
    "ORIGINAL_RESULTS": "mlpkit.results",
    "PROFILES": "mlpkit.profiles",
    "Profile": "mlpkit.profiles",
    "RunTracker": "mlpkit.tracking",
    "Settings": "mlpkit.settings",
    "TensorBatches": "mlpkit.batching",
    "TrainingConfig": "mlpkit.config",
    "TrainingHistory": "mlpkit.history",
    "accuracy": "mlpkit.metrics",
    "choose_device": "mlpkit.device",
    "classification_report": "mlpkit.metrics",
    "confusion_matrix": "mlpkit.metrics",
    "current_profile": "mlpkit.profiles",
    "device_description": "mlpkit.device",
    "get_profile": "mlpkit.profiles",
    "keras_callback": "mlpkit.tracking",
    "load_best_config": "mlpkit.config",
    "load_fashion_mnist": "mlpkit.data",
    "load_results": "mlpkit.results",
    "load_settings": "mlpkit.settings",
    "load_training_data": "mlpkit.data",
    "most_confused_pairs": "mlpkit.metrics",
    "plot_confusion_matrix": "mlpkit.plots",
    "plot_histories": "mlpkit.plots",
    "plot_most_confused": "mlpkit.plots",
    "plot_sample_grid": "mlpkit.plots",
    "plot_training": "mlpkit.plots",
    "prepare_torchvision_root": "mlpkit.data",
    "results_table": "mlpkit.results",
    "save_figure": "mlpkit.plots",
    "save_results": "mlpkit.results",
    "seed_everything": "mlpkit.device",
    "to_tensors": "mlpkit.batching",
    "tracking_mode": "mlpkit.tracking",
    "validate_config": "mlpkit.config",
}
__all__ = [
    "CLASS_NAMES",
    "CONFIG_KEYS",
    "DatasetError",
    "FRAMEWORK_LABELS",
    "FashionMNIST",
    "OPTIMIZERS",
    "ORIGINAL_RESULTS",
    "PROFILES",
    "Profile",
    "RunTracker",
    "Settings",
    "TensorBatches",
    "TrainingConfig",
    "TrainingHistory",
    "accuracy",
    "choose_device",
    "classification_report",
    "confusion_matrix",
    "current_profile",
    "device_description",
    "get_profile",
    "keras_callback",
    "load_best_config",
    "load_fashion_mnist",
    "load_results",
    "load_settings",
    "load_training_data",
    "most_confused_pairs",
    "plot_confusion_matrix",
    "plot_histories",
    "plot_most_confused",
    "plot_sample_grid",
    "plot_training",
    "prepare_torchvision_root",
    "results_table",
    "save_figure",
    "save_results",
    "seed_everything",
    "to_tensors",
    "tracking_mode",
    "validate_config",
]

if TYPE_CHECKING:  # what static readers (mkdocs' griffe, IDEs) see
    from mlpkit.batching import TensorBatches, to_tensors
    from mlpkit.config import (
        CONFIG_KEYS,
        OPTIMIZERS,
        TrainingConfig,
        load_best_config,
        validate_config,
    )
    from mlpkit.data import (
        CLASS_NAMES,
        DatasetError,
        FashionMNIST,
        load_fashion_mnist,
        load_training_data,
        prepare_torchvision_root,
    )
    from mlpkit.device import choose_device, device_description, seed_everything
    from mlpkit.history import TrainingHistory
    from mlpkit.metrics import (
        accuracy,
        classification_report,
        confusion_matrix,
        most_confused_pairs,
    )
    from mlpkit.plots import (
        plot_confusion_matrix,
        plot_histories,
        plot_most_confused,
        plot_sample_grid,
        plot_training,
        save_figure,
    )
    from mlpkit.profiles import PROFILES, Profile, current_profile, get_profile
    from mlpkit.results import (
        FRAMEWORK_LABELS,
        ORIGINAL_RESULTS,
        load_results,
        results_table,
        save_results,
    )
    from mlpkit.settings import Settings, load_settings
    from mlpkit.tracking import RunTracker, keras_callback, tracking_mode


def __getattr__(name: str) -> Any:
    """Load the module that defines ``name`` on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
