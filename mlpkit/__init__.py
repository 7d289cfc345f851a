"""mlpkit: the helper library of the Fashion-MNIST MLP course kit.

Notebooks import everything from here. Nothing in it gives a graded answer away:
the model, the loss, the optimizer set-up and the training loop are the
students' work. Neither TensorFlow nor PyTorch is imported by this package.
"""

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

__all__ = [
    "CLASS_NAMES",
    "CONFIG_KEYS",
    "FRAMEWORK_LABELS",
    "OPTIMIZERS",
    "ORIGINAL_RESULTS",
    "PROFILES",
    "DatasetError",
    "FashionMNIST",
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
