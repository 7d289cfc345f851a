"""Figures for the notebooks: learning curves, confusion matrices and image grids.

Every function builds a ``matplotlib.figure.Figure`` directly instead of going
through pyplot: nothing is registered in pyplot's global list (no leak in a
loop, no figure shown twice in Jupyter), and it works on a headless hub or CI
runner with any backend. Nothing here calls ``plt.show``: a figure that ends a
notebook cell shows itself (:class:`NotebookFigure`), ``display(figure)`` shows
one inside a loop, and :func:`save_figure` writes one to disk.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mlpkit.history import TrainingHistory
from mlpkit.metrics import as_label_array, check_label_pair, resolve_class_names

IMAGE_SIDE = 28
WRONG_COLOR = "tab:red"
RIGHT_COLOR = "black"


class NotebookFigure(Figure):
    """A Figure that Jupyter renders as a PNG when it is a cell's result.

    A Figure made without pyplot has no display hook of its own; this one gives
    IPython the PNG it asks for through the standard ``_repr_png_`` protocol.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _as_images(images: Any) -> np.ndarray:
    """Reshape a batch into (N, 28, 28): accepts flat rows, channel-last and channel-first.

    Keras notebooks keep (N, 28, 28) or flattened (N, 784) arrays and PyTorch
    ones (N, 1, 28, 28) tensors; a ``.numpy()``/``.cpu()`` call is done here so
    the notebooks can pass what they have.
    """
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 2 and array.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        return array.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if array.ndim == 4 and array.shape[1] == 1:
        return array[:, 0]
    if array.ndim == 4 and array.shape[-1] == 1:
        return array[..., 0]
    if array.ndim == 3:
        return array
    raise ValueError(
        f"Expected images shaped (N, 28, 28), (N, 784), (N, 1, 28, 28) or (N, 28, 28, 1), "
        f"got {array.shape}."
    )


def _draw_curves(
    axes: Any,
    epochs: np.ndarray,
    train: list[float],
    validation: list[float],
    label: str = "",
    color: str | None = None,
) -> None:
    prefix = f"{label} " if label else ""
    axes.plot(
        epochs, train, linestyle="--", marker="o", markersize=3, color=color, label=f"{prefix}train"
    )
    axes.plot(
        epochs,
        validation,
        linestyle="-",
        marker="o",
        markersize=3,
        color=color,
        label=f"{prefix}validation",
    )


def _curve_figure(title: str | None) -> tuple[Figure, Any, Any]:
    figure = NotebookFigure(figsize=(11, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, name in ((loss_axes, "Loss"), (accuracy_axes, "Accuracy")):
        axes.set_title(name)
        axes.set_xlabel("Epoch")
        axes.set_ylabel(name.lower())
        axes.grid(True, alpha=0.3)
    if title:
        figure.suptitle(title)
    return figure, loss_axes, accuracy_axes


def plot_training(history: TrainingHistory, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training dashed and validation solid.

    The gap between the two curves is what the notebooks discuss (overfitting),
    so they share a panel; epochs are numbered from 1 as Keras prints them.
    """
    if not len(history):
        raise ValueError("The history is empty: train for at least one epoch before plotting.")
    if title is None and history.framework:
        title = f"Training history ({history.framework})"
    figure, loss_axes, accuracy_axes = _curve_figure(title)
    epochs = np.arange(1, len(history) + 1)
    _draw_curves(loss_axes, epochs, history.loss, history.val_loss)
    _draw_curves(accuracy_axes, epochs, history.accuracy, history.val_accuracy)
    for axes in (loss_axes, accuracy_axes):
        axes.legend()
    return figure


def plot_histories(histories: Mapping[str, TrainingHistory], title: str | None = None) -> Figure:
    """Overlay several runs (e.g. Keras against PyTorch), one colour per run."""
    if not histories:
        raise ValueError("Pass at least one history, e.g. {'keras': history}.")
    figure, loss_axes, accuracy_axes = _curve_figure(title or "Comparison of runs")
    colors = [f"C{index % 10}" for index in range(len(histories))]
    for (name, history), color in zip(histories.items(), colors, strict=True):
        if not len(history):
            raise ValueError(f"The history {name!r} is empty.")
        epochs = np.arange(1, len(history) + 1)
        _draw_curves(loss_axes, epochs, history.loss, history.val_loss, name, color)
        _draw_curves(accuracy_axes, epochs, history.accuracy, history.val_accuracy, name, color)
    for axes in (loss_axes, accuracy_axes):
        axes.legend(fontsize="small")
    return figure


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
) -> Figure:
    """The 10x10 confusion matrix (``ConfusionMatrixDisplay.from_predictions``).

    ``normalize`` is scikit-learn's: None (counts), 'true' (rows sum to 1,
    i.e. per-class recall), 'pred' or 'all'.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}.")
    true_labels, predicted_labels = check_label_pair(y_true, y_pred)
    names = resolve_class_names(class_names)
    figure = NotebookFigure(figsize=(8, 7), layout="constrained")
    axes = figure.subplots()
    ConfusionMatrixDisplay.from_predictions(
        true_labels,
        predicted_labels,
        labels=list(range(len(names))),
        display_labels=names,
        normalize=normalize,
        values_format=".2f" if normalize else "d",
        cmap="Blues",
        colorbar=True,
        ax=axes,
        xticks_rotation=45,
    )
    for label in axes.get_xticklabels():
        label.set_horizontalalignment("right")
    suffix = f" (normalized over {normalize})" if normalize else ""
    axes.set_title(f"Confusion matrix{suffix}")
    return figure


def _image_grid(count: int, rows: int, columns: int, cell_size: float = 1.4) -> tuple[Figure, Any]:
    if rows < 1 or columns < 1:
        raise ValueError(f"rows and columns must be positive, got {rows}x{columns}.")
    figure = NotebookFigure(
        figsize=(columns * cell_size, rows * (cell_size + 0.3)), layout="constrained"
    )
    grid = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for axes in grid:
        axes.set_axis_off()
    return figure, grid[:count]


def plot_sample_grid(
    images: Any,
    labels: Any,
    class_names: Sequence[str] | None = None,
    rows: int = 4,
    columns: int = 8,
    predictions: Any = None,
) -> Figure:
    """The first ``rows * columns`` images with their class names.

    With ``predictions`` each title reads "true / predicted", in red when the
    model was wrong, so mistakes stand out in a grid of mostly right answers.
    """
    pictures = _as_images(images)
    true_labels = as_label_array("labels", labels)
    if len(true_labels) != len(pictures):
        raise ValueError(f"{len(pictures)} images but {len(true_labels)} labels.")
    predicted_labels = None
    if predictions is not None:
        predicted_labels = as_label_array("predictions", predictions)
        if len(predicted_labels) != len(pictures):
            raise ValueError(f"{len(pictures)} images but {len(predicted_labels)} predictions.")
    names = resolve_class_names(class_names)
    count = min(len(pictures), rows * columns)
    figure, grid = _image_grid(count, rows, columns)
    for index, axes in enumerate(grid):
        axes.imshow(pictures[index], cmap="gray_r")
        true_name = names[true_labels[index]]
        if predicted_labels is None:
            axes.set_title(true_name, fontsize=8)
            continue
        predicted_name = names[predicted_labels[index]]
        wrong = predicted_labels[index] != true_labels[index]
        axes.set_title(
            f"{true_name}\n/ {predicted_name}",
            fontsize=7,
            color=WRONG_COLOR if wrong else RIGHT_COLOR,
        )
    if predicted_labels is not None:
        figure.suptitle("true / predicted (red: wrong)")
    return figure


def plot_most_confused(
    images: Any,
    y_true: Any,
    y_pred: Any,
    probabilities: Any = None,
    class_names: Sequence[str] | None = None,
    count: int = 16,
) -> Figure:
    """Up to ``count`` misclassified images; the most confident mistakes first.

    Without ``probabilities`` the mistakes appear in dataset order. With them
    (an (N, 10) softmax output), they are sorted by the probability the model
    gave its wrong answer: confident mistakes are the instructive ones.
    """
    if count < 1:
        raise ValueError(f"count must be positive, got {count}.")
    pictures = _as_images(images)
    true_labels, predicted_labels = check_label_pair(y_true, y_pred)
    if len(true_labels) != len(pictures):
        raise ValueError(f"{len(pictures)} images but {len(true_labels)} labels.")
    names = resolve_class_names(class_names)
    wrong = np.flatnonzero(true_labels != predicted_labels)
    confidence = None
    if probabilities is not None:
        if hasattr(probabilities, "detach"):
            probabilities = probabilities.detach().cpu().numpy()
        scores = np.asarray(probabilities, dtype=np.float64)
        if scores.shape != (len(pictures), len(names)):
            raise ValueError(
                f"probabilities must be shaped ({len(pictures)}, {len(names)}), got {scores.shape}."
            )
        confidence = scores[np.arange(len(pictures)), predicted_labels]
        wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
    wrong = wrong[:count]
    if not len(wrong):
        figure = NotebookFigure(figsize=(4, 2), layout="constrained")
        axes = figure.subplots()
        axes.set_axis_off()
        axes.text(0.5, 0.5, "No misclassified examples", ha="center", va="center")
        return figure
    columns = min(8, len(wrong))
    rows = int(np.ceil(len(wrong) / columns))
    figure, grid = _image_grid(len(wrong), rows, columns, cell_size=1.6)
    for index, axes in zip(wrong, grid, strict=True):
        axes.imshow(pictures[index], cmap="gray_r")
        title = f"true: {names[true_labels[index]]}\npred: {names[predicted_labels[index]]}"
        if confidence is not None:
            title += f" ({confidence[index]:.0%})"
        axes.set_title(title, fontsize=7, color=WRONG_COLOR)
    figure.suptitle(f"Misclassified examples ({len(wrong)} shown)")
    return figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save ``figure`` to ``path`` (format from the suffix), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
