"""Tests of mlpkit.metrics: scikit-learn reports with the 10 Fashion-MNIST labels."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    most_confused_pairs,
    report_dict,
    resolve_class_names,
)

NAMES = [f"class{label}" for label in range(10)]


@pytest.fixture
def labels() -> tuple[np.ndarray, np.ndarray]:
    """Every class twice plus one more 6: all three 6s predicted as 0, one 4 as 3."""
    y_true = np.repeat(np.arange(10), 2)
    y_pred = y_true.copy()
    y_pred[[12, 13]] = 0  # both class-6 examples predicted as 0
    y_true = np.append(y_true, 6)
    y_pred = np.append(y_pred, 0)  # a third 6 -> 0 mistake
    y_pred[8] = 3  # one class-4 example predicted as 3
    return y_true, y_pred


def test_accuracy_matches_the_fraction_correct(labels) -> None:
    y_true, y_pred = labels
    assert accuracy(y_true, y_pred) == pytest.approx(np.mean(y_true == y_pred))
    assert accuracy([1, 2, 3], [1, 2, 3]) == 1.0


def test_labels_may_be_one_hot_or_probabilities(labels) -> None:
    y_true, y_pred = labels
    one_hot = np.eye(10)[y_pred]
    assert accuracy(y_true, one_hot) == accuracy(y_true, y_pred)


def test_confusion_matrix_is_ten_by_ten_even_for_missing_classes() -> None:
    matrix = confusion_matrix([0, 1, 1], [0, 1, 0])
    assert matrix.shape == (10, 10)
    assert matrix[1, 0] == 1
    assert matrix.sum() == 3


def test_invalid_labels_raise_value_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        accuracy([0, 10], [0, 1])
    with pytest.raises(ValueError, match="labels but y_pred"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])
    with pytest.raises(ValueError, match="whole-number"):
        accuracy([0.5], [0])


def test_classification_report_lists_every_class_name(labels) -> None:
    y_true, y_pred = labels
    text = classification_report(y_true, y_pred, class_names=NAMES)
    for name in NAMES:
        assert name in text
    assert "precision" in text and "accuracy" in text


def test_report_dict_has_per_class_scores_and_accuracy(labels) -> None:
    y_true, y_pred = labels
    report = report_dict(y_true, y_pred, class_names=NAMES)
    assert report["class6"]["recall"] == 0.0
    assert report["class0"]["recall"] == 1.0
    assert report["accuracy"] == pytest.approx(accuracy(y_true, y_pred))
    partial = report_dict([0, 1], [0, 0], class_names=NAMES)
    assert partial["accuracy"] == 0.5


def test_class_names_default_to_fashion_mnist() -> None:
    names = resolve_class_names()
    assert len(names) == 10
    assert names[9] == "Ankle boot"
    with pytest.raises(ValueError, match="10 class names"):
        resolve_class_names(["a", "b"])


def test_most_confused_pairs_sorted_by_count(labels) -> None:
    y_true, y_pred = labels
    pairs = most_confused_pairs(y_true, y_pred, class_names=NAMES)
    assert pairs == [("class6", "class0", 3), ("class4", "class3", 1)]
    assert most_confused_pairs(y_true, y_pred, top=1, class_names=NAMES) == [
        ("class6", "class0", 3)
    ]
    assert most_confused_pairs(y_true, y_true, class_names=NAMES) == []
