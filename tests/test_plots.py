"""Tests of mlpkit.plots: each figure has the expected panels and saves to a PNG."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from mlpkit.history import TrainingHistory
from mlpkit.plots import (
    WRONG_COLOR,
    plot_confusion_matrix,
    plot_histories,
    plot_most_confused,
    plot_sample_grid,
    plot_training,
    save_figure,
)

NAMES = [f"class{label}" for label in range(10)]


def _history(framework: str, offset: float = 0.0) -> TrainingHistory:
    history = TrainingHistory(framework=framework)
    for epoch in range(4):
        history.append(
            loss=1.0 / (epoch + 1) + offset,
            accuracy=0.6 + 0.05 * epoch,
            val_loss=1.1 / (epoch + 1) + offset,
            val_accuracy=0.58 + 0.05 * epoch,
        )
    return history


@pytest.fixture
def images_and_labels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    generator = np.random.default_rng(0)
    images = generator.random((40, 28, 28), dtype=np.float32)
    y_true = np.arange(40) % 10
    y_pred = y_true.copy()
    y_pred[[1, 5, 7]] = [2, 6, 0]
    return images, y_true, y_pred


def _assert_saves(figure: Figure, path) -> None:
    saved = save_figure(figure, path)
    assert saved.is_file()
    assert saved.stat().st_size > 1000
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_training_has_loss_and_accuracy_panels(tmp_path) -> None:
    figure = plot_training(_history("keras"), title="Adam run")
    assert isinstance(figure, Figure)
    loss_axes, accuracy_axes = figure.axes
    assert loss_axes.get_title() == "Loss"
    assert accuracy_axes.get_title() == "Accuracy"
    assert figure.get_suptitle() == "Adam run"
    for axes in (loss_axes, accuracy_axes):
        assert len(axes.get_lines()) == 2
        assert [text.get_text() for text in axes.get_legend().get_texts()] == [
            "train",
            "validation",
        ]
    assert list(loss_axes.get_lines()[1].get_xdata()) == [1, 2, 3, 4]
    assert list(accuracy_axes.get_lines()[1].get_ydata()) == pytest.approx(
        _history("keras").val_accuracy
    )
    _assert_saves(figure, tmp_path / "plots" / "training.png")


def test_plot_training_default_title_names_the_framework() -> None:
    assert "torch" in plot_training(_history("torch")).get_suptitle()
    with pytest.raises(ValueError, match="empty"):
        plot_training(TrainingHistory())


def test_plot_histories_overlays_each_run(tmp_path) -> None:
    figure = plot_histories({"keras": _history("keras"), "torch": _history("torch", 0.1)})
    loss_axes, accuracy_axes = figure.axes
    assert len(loss_axes.get_lines()) == 4
    labels = [text.get_text() for text in accuracy_axes.get_legend().get_texts()]
    assert labels == ["keras train", "keras validation", "torch train", "torch validation"]
    keras_color = loss_axes.get_lines()[0].get_color()
    torch_color = loss_axes.get_lines()[2].get_color()
    assert keras_color != torch_color
    _assert_saves(figure, tmp_path / "histories.png")
    with pytest.raises(ValueError, match="at least one"):
        plot_histories({})


def test_plot_confusion_matrix_labels_and_normalization(tmp_path, images_and_labels) -> None:
    _, y_true, y_pred = images_and_labels
    figure = plot_confusion_matrix(y_true, y_pred, class_names=NAMES)
    axes = figure.axes[0]
    assert [label.get_text() for label in axes.get_xticklabels()] == NAMES
    assert axes.get_xticklabels()[0].get_rotation() == 45
    assert len(figure.axes) == 2  # the matrix and its colour bar
    assert axes.get_title() == "Confusion matrix"
    _assert_saves(figure, tmp_path / "confusion.png")
    normalized = plot_confusion_matrix(y_true, y_pred, class_names=NAMES, normalize="true")
    cell_texts = [text.get_text() for text in normalized.axes[0].texts]
    assert "1.00" in cell_texts and "0.75" in cell_texts
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(y_true, y_pred, class_names=NAMES, normalize="rows")


def test_plot_sample_grid_titles_and_wrong_predictions_in_red(tmp_path, images_and_labels) -> None:
    images, y_true, y_pred = images_and_labels
    plain = plot_sample_grid(images, y_true, class_names=NAMES, rows=2, columns=5)
    assert len(plain.axes) == 10
    assert [axes.get_title() for axes in plain.axes[:3]] == ["class0", "class1", "class2"]
    compared = plot_sample_grid(images, y_true, class_names=NAMES, predictions=y_pred)
    assert len(compared.axes) == 32
    wrong_title = compared.axes[1].get_title()
    assert "class1" in wrong_title and "class2" in wrong_title
    assert to_rgba(compared.axes[1].title.get_color()) == to_rgba(WRONG_COLOR)
    assert to_rgba(compared.axes[0].title.get_color()) != to_rgba(WRONG_COLOR)
    _assert_saves(compared, tmp_path / "grid.png")


def test_plot_sample_grid_accepts_flat_and_channel_first_images(images_and_labels) -> None:
    images, y_true, _ = images_and_labels
    flat = plot_sample_grid(images.reshape(40, 784), y_true, class_names=NAMES, rows=1, columns=2)
    assert flat.axes[0].get_images()[0].get_array().shape == (28, 28)
    channel_first = plot_sample_grid(images[:, None], y_true, class_names=NAMES, rows=1, columns=2)
    assert channel_first.axes[1].get_images()[0].get_array().shape == (28, 28)
    with pytest.raises(ValueError, match="images but"):
        plot_sample_grid(images, y_true[:5], class_names=NAMES)


def test_plot_most_confused_orders_by_confidence(tmp_path, images_and_labels) -> None:
    images, y_true, y_pred = images_and_labels
    probabilities = np.full((40, 10), 0.05)
    probabilities[np.arange(40), y_pred] = 0.5
    probabilities[7, y_pred[7]] = 0.9  # the most confident mistake
    figure = plot_most_confused(
        images, y_true, y_pred, probabilities=probabilities, class_names=NAMES
    )
    shown = [axes for axes in figure.axes if axes.get_images()]
    assert len(shown) == 3
    assert shown[0].get_title() == "true: class7\npred: class0 (90%)"
    assert "misclassified" in figure.get_suptitle().lower()
    _assert_saves(figure, tmp_path / "confused.png")
    in_order = plot_most_confused(images, y_true, y_pred, class_names=NAMES, count=2)
    titles = [axes.get_title() for axes in in_order.axes if axes.get_images()]
    assert titles == ["true: class1\npred: class2", "true: class5\npred: class6"]


def test_plot_most_confused_without_mistakes(images_and_labels) -> None:
    images, y_true, _ = images_and_labels
    figure = plot_most_confused(images, y_true, y_true, class_names=NAMES)
    assert figure.axes[0].texts[0].get_text() == "No misclassified examples"
