"""The training config: the plain mapping every notebook, sweep and check shares.

Students receive and pass around a plain ``dict`` with the original exercise's
keys; :func:`validate_config` checks one and fills the optimizer defaults, so a
typo or an impossible value fails at once with a message instead of deep inside
Keras or PyTorch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import yaml

OPTIMIZERS = ("sgd", "adam", "rmsprop")
DENSE_KEYS = ("dense_1", "dense_2", "dense_3", "dense_4")


def _key(description: str, default=MISSING):
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class TrainingConfig:
    """One training run: optimizer, its hyperparameters, batching and layer widths."""

    optimizer: str = _key("Optimizer name: 'sgd', 'adam' or 'rmsprop'.")
    learning_rate: float = _key("Step size of the optimizer.")
    batch_size: int = _key("Examples per gradient step (the original searched 16..256).")
    epochs: int = _key("Passes over the training split (the original searched 15..50).")
    dense_1: int = _key("Units of hidden layer 1 (original range 256..512).")
    dense_2: int = _key("Units of hidden layer 2 (original range 128..256).")
    dense_3: int = _key("Units of hidden layer 3 (original range 128..256).")
    dense_4: int = _key("Units of hidden layer 4 (original range 32..128).")
    momentum: float = _key("Momentum of SGD and RMSprop (ignored by Adam).", 0.0)
    beta_1: float = _key("Adam's decay rate of the first-moment estimate.", 0.9)
    beta_2: float = _key("Adam's decay rate of the second-moment estimate.", 0.999)
    rho: float = _key("RMSprop's decay rate of the squared-gradient average.", 0.9)


CONFIG_KEYS = tuple(item.name for item in fields(TrainingConfig))


def validate_config(config: Mapping[str, object]) -> dict[str, object]:
    """Check a config mapping and return a plain ``dict`` with every key filled.

    Raises ``ValueError`` naming the offending key for unknown keys, missing
    keys, an unknown optimizer, non-positive units/batch size/epochs or a
    learning rate that is not positive.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"A config must be a mapping (dict), got {type(config).__name__}.")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(
            f"Unknown config key(s) {', '.join(map(repr, unknown))}. Valid keys: "
            f"{', '.join(CONFIG_KEYS)}. Check the spelling (the original used dense_1..dense_4)."
        )
    required = [item.name for item in fields(TrainingConfig) if item.default is MISSING]
    missing = [key for key in required if key not in config]
    if missing:
        raise ValueError(f"Config is missing key(s): {', '.join(missing)}.")
    optimizer = str(config["optimizer"]).strip().lower()
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer {config['optimizer']!r}. Use one of {', '.join(OPTIMIZERS)}."
        )
    values = {**{item.name: item.default for item in fields(TrainingConfig)}, **config}
    values["optimizer"] = optimizer
    for key in (*DENSE_KEYS, "batch_size", "epochs"):
        number = values[key]
        if (
            isinstance(number, bool)
            or not isinstance(number, (int, float))
            or number != int(number)
        ):
            raise ValueError(f"Config key {key!r} must be a whole number, got {number!r}.")
        if number <= 0:
            raise ValueError(f"Config key {key!r} must be positive, got {number!r}.")
        values[key] = int(number)
    for key in ("learning_rate", "momentum", "beta_1", "beta_2", "rho"):
        values[key] = float(values[key])
    if values["learning_rate"] <= 0:
        raise ValueError(f"learning_rate must be positive, got {values['learning_rate']!r}.")
    for key in ("momentum", "beta_1", "beta_2", "rho"):
        if not 0.0 <= values[key] < 1.0:
            raise ValueError(f"Config key {key!r} must lie in [0, 1), got {values[key]!r}.")
    return asdict(TrainingConfig(**values))


def sweeps_dir() -> Path:
    """The folder of sweep definitions and ``best.yaml`` (``MLPKIT_SWEEPS_DIR`` overrides)."""
    override = os.environ.get("MLPKIT_SWEEPS_DIR")
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parent.parent / "sweeps"


def load_best_config(optimizer: str = "adam", path: Path | None = None) -> dict[str, object]:
    """The chosen best config of one optimizer, read from ``sweeps/best.yaml`` (no network)."""
    path = sweeps_dir() / "best.yaml" if path is None else Path(path)
    if not path.is_file():
        raise ValueError(
            f"No best-config file at {path}. Run from a checkout of the course repository "
            "or set MLPKIT_SWEEPS_DIR to the folder holding best.yaml."
        )
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(document, Mapping) or optimizer not in document:
        known = ", ".join(document) if isinstance(document, Mapping) else "none"
        raise ValueError(f"{path} has no config for {optimizer!r} (it has: {known}).")
    entry = document[optimizer]
    config = entry.get("config", entry) if isinstance(entry, Mapping) else entry
    return validate_config(config)
