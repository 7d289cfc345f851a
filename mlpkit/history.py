"""One training-history type for both frameworks.

Keras returns a ``History`` callback and a PyTorch loop returns whatever its
author chose; the plots, the comparison notebook and the saved results all
want the same thing. :class:`TrainingHistory` is that thing: four per-epoch
curves, the seconds each epoch took, the framework and the config, saved to
and read back from JSON so that one notebook can compare runs made by another.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRIC_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
"""The per-epoch curves every history carries, in Keras' own key names."""

_LOWER_IS_BETTER = {"loss", "val_loss"}


def _as_float_list(name: str, values: Any) -> list[float]:
    """Copy ``values`` into a list of plain floats, so JSON and numpy scalars both work."""
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError):
        raise ValueError(
            f"History field {name!r} must be a sequence of numbers, got {values!r}."
        ) from None


@dataclass
class TrainingHistory:
    """Per-epoch loss and accuracy on the training and validation splits of one run.

    Entry ``i`` of each curve is epoch ``i + 1`` (epochs count from 1). Fill one with
    :meth:`append`, one call per epoch, as a hand-written PyTorch loop does::

        history = TrainingHistory(framework="pytorch")
        history.append(loss=0.61, accuracy=0.78, val_loss=0.52, val_accuracy=0.81)
        history.val_accuracy  # [0.81]: epoch 1

    ``epoch_seconds`` is either empty (timings unknown, e.g. read from Keras) or
    holds one entry per epoch. ``config`` is the training config of the run.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    framework: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (*METRIC_KEYS, "epoch_seconds"):
            setattr(self, name, _as_float_list(name, getattr(self, name)))
        self.framework = str(self.framework)
        self.config = dict(self.config or {})
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` when the curves have different lengths.

        A mismatch means an epoch was half recorded, and a plot or a "best
        epoch" computed from it would silently pair values of different epochs.
        """
        lengths = {name: len(getattr(self, name)) for name in METRIC_KEYS}
        if len(set(lengths.values())) > 1:
            described = ", ".join(f"{name}={length}" for name, length in lengths.items())
            raise ValueError(f"History curves have different lengths: {described}.")
        epochs = lengths["loss"]
        if self.epoch_seconds and len(self.epoch_seconds) != epochs:
            raise ValueError(
                f"epoch_seconds has {len(self.epoch_seconds)} entries for {epochs} epochs; "
                "record a time for every epoch or for none."
            )

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return len(self.loss)

    def append(
        self,
        *,
        loss: float,
        accuracy: float,
        val_loss: float,
        val_accuracy: float,
        seconds: float | None = None,
    ) -> None:
        """Record one epoch; ``seconds`` must be given for every epoch or for none."""
        if seconds is None and self.epoch_seconds:
            raise ValueError("Earlier epochs were timed; pass seconds= for this one too.")
        if seconds is not None and len(self) and not self.epoch_seconds:
            raise ValueError("Earlier epochs were not timed; pass seconds= for every epoch.")
        values = {
            "loss": loss,
            "accuracy": accuracy,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
        }
        for name, value in values.items():
            getattr(self, name).append(_as_float_list(name, [value])[0])
        if seconds is not None:
            self.epoch_seconds.append(float(seconds))

    @classmethod
    def from_keras(cls, history: Any, config: Mapping[str, Any] | None = None) -> TrainingHistory:
        """Build a history from the object ``model.fit`` returns (its ``.history`` dict).

        Raises ``ValueError`` naming the missing keys: the usual cause is a
        model compiled without ``metrics=['accuracy']`` or trained without
        validation data. ``TypeError`` if ``history`` has no ``.history`` dict.
        """
        curves = getattr(history, "history", None)
        if not isinstance(curves, Mapping):
            raise TypeError(
                "Expected the object returned by model.fit (with a .history dict), got "
                f"{type(history).__name__}."
            )
        missing = [key for key in METRIC_KEYS if key not in curves]
        if missing:
            hints = []
            if "accuracy" in missing or "val_accuracy" in missing:
                hints.append("compile the model with metrics=['accuracy']")
            if "val_loss" in missing or "val_accuracy" in missing:
                hints.append("pass validation_data= (or validation_split=) to fit")
            raise ValueError(
                f"Keras history is missing {', '.join(missing)} (it has "
                f"{', '.join(sorted(curves)) or 'nothing'}): {'; '.join(hints)}."
            )
        return cls(
            **{key: list(curves[key]) for key in METRIC_KEYS},
            framework="keras",
            config=dict(config or {}),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingHistory:
        """Rebuild a history from :meth:`to_dict` output (extra keys are ignored)."""
        missing = [key for key in METRIC_KEYS if key not in data]
        if missing:
            raise ValueError(f"History data is missing {', '.join(missing)}.")
        return cls(
            **{key: data[key] for key in METRIC_KEYS},
            epoch_seconds=data.get("epoch_seconds") or [],
            framework=data.get("framework") or "",
            config=data.get("config") or {},
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of every field."""
        return {
            **{key: list(getattr(self, key)) for key in METRIC_KEYS},
            "epoch_seconds": list(self.epoch_seconds),
            "framework": self.framework,
            "config": dict(self.config),
        }

    def save_json(self, path: str | Path) -> Path:
        """Write the history to ``path`` (parent folders are created) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    @classmethod
    def load_json(cls, path: str | Path) -> TrainingHistory:
        """Read a history written by :meth:`save_json` (or a run record holding one)."""
        data = json.loads(Path(path).read_text())
        if isinstance(data, Mapping) and "history" in data and "loss" not in data:
            data = data["history"]
        return cls.from_dict(data)

    def final(self) -> dict[str, float]:
        """The last epoch's values, keyed like Keras' history (``ValueError`` if empty)."""
        if not len(self):
            raise ValueError("The history is empty: no epoch has been recorded yet.")
        return {key: getattr(self, key)[-1] for key in METRIC_KEYS}

    def best_epoch(self, metric: str = "val_loss") -> int:
        """The epoch with the best ``metric`` (lowest loss, highest accuracy), counted from 1.

        Epochs are 1-based everywhere in the kit, as Keras prints them: the value of
        the best epoch is ``getattr(history, metric)[history.best_epoch(metric) - 1]``.
        NaN values (a diverged epoch) never count as best; ties go to the earliest.
        """
        if metric not in METRIC_KEYS:
            raise ValueError(f"Unknown metric {metric!r}; use one of {', '.join(METRIC_KEYS)}.")
        values = getattr(self, metric)
        candidates = [
            (value, epoch) for epoch, value in enumerate(values, start=1) if not math.isnan(value)
        ]
        if not candidates:
            raise ValueError(f"No epoch has a finite {metric} to choose from.")
        if metric in _LOWER_IS_BETTER:
            return min(candidates)[1]
        return max(candidates, key=lambda pair: (pair[0], -pair[1]))[1]
