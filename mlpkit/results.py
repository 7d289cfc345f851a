"""Saved results of a training notebook, read back by the comparison and the tools.

Each framework notebook saves one JSON file per profile: metrics, the
per-epoch history, test predictions and the provenance (seed, device,
versions). The comparison notebook reads both files, so it never has to import
TensorFlow and PyTorch into one process.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from mlpkit.settings import Settings, load_settings

FRAMEWORK_LABELS = {"tensorflow": "TensorFlow", "pytorch": "PyTorch"}
METRIC_LABELS = {
    "train_accuracy": "training accuracy",
    "val_accuracy": "validation accuracy",
    "train_loss": "training loss",
    "val_loss": "validation loss",
    "test_accuracy": "test accuracy",
}
ORIGINAL_RESULTS = {
    "tensorflow": {
        "train_accuracy": 0.9214,
        "val_accuracy": 0.8946,
        "train_loss": 0.2157,
        "val_loss": 0.3066,
        "test_accuracy": 0.8867,
    },
    "pytorch": {
        "train_accuracy": 0.8913,
        "val_accuracy": 0.8858,
        "train_loss": 0.2997,
        "val_loss": 0.3197,
        "test_accuracy": 0.8759,
    },
}
"""The original exercise's final Adam models (Kaggle, Tesla P100), from SEED_FACTS."""

PROVENANCE_PACKAGES = ("numpy", "scikit-learn", "torch", "tensorflow", "tensorflow-cpu", "keras")


def _check_framework(framework: str) -> None:
    if framework not in FRAMEWORK_LABELS:
        raise ValueError(
            f"Unknown framework {framework!r}. Use one of {', '.join(FRAMEWORK_LABELS)}."
        )


def package_versions(names: Sequence[str] = PROVENANCE_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that decide a result (absent ones are left out)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def results_path(framework: str, profile: str, results_dir: Path | None = None) -> Path:
    """Where a framework's results of one profile are kept."""
    _check_framework(framework)
    results_dir = load_settings().results_dir if results_dir is None else Path(results_dir)
    return results_dir / profile / f"{framework}.json"


def save_results(
    framework: str,
    *,
    history: Mapping[str, Sequence[float]],
    test_loss: float,
    y_true: Sequence[int],
    y_pred: Sequence[int],
    config: Mapping[str, object],
    device: str,
    seed: int,
    settings: Settings | None = None,
) -> Path:
    """Write one framework's final metrics, history, predictions and provenance as JSON.

    Accuracy is recomputed here from the predictions (scikit-learn), so the
    saved test accuracy and the confusion matrix always agree.
    """
    from sklearn.metrics import accuracy_score

    _check_framework(framework)
    settings = load_settings() if settings is None else settings
    y_true_array = np.asarray(y_true, dtype=int)
    y_pred_array = np.asarray(y_pred, dtype=int)
    if y_true_array.shape != y_pred_array.shape:
        raise ValueError(f"{len(y_true_array)} labels but {len(y_pred_array)} predictions.")
    curves = {key: [float(value) for value in history[key]] for key in _history_keys(history)}
    metrics = {
        "train_accuracy": curves["accuracy"][-1],
        "val_accuracy": curves["val_accuracy"][-1],
        "train_loss": curves["loss"][-1],
        "val_loss": curves["val_loss"][-1],
        "test_accuracy": float(accuracy_score(y_true_array, y_pred_array)),
        "test_loss": float(test_loss),
    }
    document = {
        "framework": framework,
        "profile": settings.profile,
        "metrics": metrics,
        "history": curves,
        "config": dict(config),
        "seed": int(seed),
        "device": device,
        "versions": package_versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "command": " ".join(sys.argv[:1]),
        "y_true": y_true_array.tolist(),
        "y_pred": y_pred_array.tolist(),
    }
    path = results_path(framework, settings.profile, settings.results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1))
    return path


def _history_keys(history: Mapping[str, Sequence[float]]) -> tuple[str, ...]:
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    missing = [key for key in keys if key not in history or len(history[key]) == 0]
    if missing:
        raise ValueError(
            f"The history has no {', '.join(missing)}. Train with a validation split "
            "and the accuracy metric before saving results."
        )
    return keys


def load_results(
    framework: str, profile: str | None = None, results_dir: Path | None = None
) -> dict:
    """Read a framework's saved results; the message says which notebook produces them."""
    settings = load_settings()
    profile = settings.profile if profile is None else profile
    path = results_path(framework, profile, results_dir or settings.results_dir)
    notebook = {"tensorflow": "02-tensorflow-mlp", "pytorch": "03-pytorch-mlp"}[framework]
    if not path.is_file():
        raise ValueError(
            f"No {FRAMEWORK_LABELS[framework]} results at {path}. Run {notebook}.ipynb "
            f"to the end in the '{profile}' profile first (it saves them there)."
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}). Re-run {notebook}.ipynb.") from None


def results_table(results: Mapping[str, Mapping], *, with_original: bool = True) -> str:
    """A plain-text table of the final metrics, each framework beside the original's figure."""
    frameworks = [name for name in FRAMEWORK_LABELS if name in results]
    header = ["metric"]
    for framework in frameworks:
        header.append(f"{FRAMEWORK_LABELS[framework]} (kit)")
        if with_original:
            header.append(f"{FRAMEWORK_LABELS[framework]} (original)")
    rows = [header]
    for key, label in METRIC_LABELS.items():
        row = [label]
        for framework in frameworks:
            row.append(f"{results[framework]['metrics'][key]:.4f}")
            if with_original:
                row.append(f"{ORIGINAL_RESULTS[framework][key]:.4f}")
        rows.append(row)
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
