"""Evaluation metrics for the 10 Fashion-MNIST classes, through scikit-learn.

Both frameworks hand back integer labels; these helpers turn them into the
same report, accuracy and confusion matrix, so that the Keras and PyTorch
notebooks (and the comparison) print identical tables. The labels are always
0..9, so a class that never occurs in a small sample still gets its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

NUMBER_OF_CLASSES = 10


def resolve_class_names(class_names: Sequence[str] | None = None) -> list[str]:
    """The given names, or the 10 Fashion-MNIST names from :mod:`mlpkit.data`.

    Imported lazily so this module works before (and without) the data module.
    """
    if class_names is None:
        from mlpkit.data import CLASS_NAMES

        class_names = CLASS_NAMES
    names = [str(name) for name in class_names]
    if len(names) != NUMBER_OF_CLASSES:
        raise ValueError(
            f"Expected {NUMBER_OF_CLASSES} class names (one per label 0..9), got {len(names)}."
        )
    return names


def as_label_array(name: str, values: Any) -> np.ndarray:
    """Integer labels as a 1-D array; one-hot rows or probabilities are reduced by argmax.

    Accepting both spares students the classic "passed the softmax output
    instead of the labels" error, while still rejecting labels outside 0..9.
    """
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == NUMBER_OF_CLASSES:
        array = array.argmax(axis=1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {array.shape}.")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.equal(np.mod(array, 1), 0)):
            raise ValueError(f"{name} must hold whole-number labels 0..9.")
        array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= NUMBER_OF_CLASSES):
        raise ValueError(
            f"{name} holds labels outside 0..{NUMBER_OF_CLASSES - 1} "
            f"(min {array.min()}, max {array.max()})."
        )
    return array


def check_label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both label arrays, checked to be non-empty and of equal length.

    scikit-learn's own message for a length mismatch names neither argument.
    """
    true_labels = as_label_array("y_true", y_true)
    predicted_labels = as_label_array("y_pred", y_pred)
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(
            f"y_true has {true_labels.size} labels but y_pred has {predicted_labels.size}."
        )
    if not true_labels.size:
        raise ValueError("y_true and y_pred are empty.")
    return true_labels, predicted_labels


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of correct predictions (``sklearn.metrics.accuracy_score``)."""
    from sklearn.metrics import accuracy_score

    true_labels, predicted_labels = check_label_pair(y_true, y_pred)
    return float(accuracy_score(true_labels, predicted_labels))


def confusion_matrix(y_true: Any, y_pred: Any) -> np.ndarray:
    """The 10x10 count matrix: row = true class, column = predicted class."""
    from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

    true_labels, predicted_labels = check_label_pair(y_true, y_pred)
    return sklearn_confusion_matrix(
        true_labels, predicted_labels, labels=list(range(NUMBER_OF_CLASSES))
    )


def classification_report(
    y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None
) -> str:
    """Per-class precision, recall and F1 as the text table scikit-learn prints."""
    from sklearn.metrics import classification_report as sklearn_report

    true_labels, predicted_labels = check_label_pair(y_true, y_pred)
    return sklearn_report(
        true_labels,
        predicted_labels,
        labels=list(range(NUMBER_OF_CLASSES)),
        target_names=resolve_class_names(class_names),
        digits=4,
        zero_division=0,
    )


def report_dict(
    y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None
) -> dict[str, Any]:
    """The same report as a dict (per class name, plus 'accuracy', 'macro avg', ...).

    Handy for saving to JSON or logging to W&B next to the history.
    """
    from sklearn.metrics import classification_report as sklearn_report

    true_labels, predicted_labels = check_label_pair(y_true, y_pred)
    report = sklearn_report(
        true_labels,
        predicted_labels,
        labels=list(range(NUMBER_OF_CLASSES)),
        target_names=resolve_class_names(class_names),
        output_dict=True,
        zero_division=0,
    )
    if "accuracy" not in report:
        # scikit-learn folds accuracy into "micro avg" when some label never occurs.
        report["accuracy"] = accuracy(true_labels, predicted_labels)
    return report


def most_confused_pairs(
    y_true: Any, y_pred: Any, top: int = 5, class_names: Sequence[str] | None = None
) -> list[tuple[str, str, int]]:
    """The ``top`` most frequent mistakes as (true name, predicted name, count).

    Only off-diagonal cells with at least one mistake are listed, largest first
    (ties in label order), so a perfect classifier yields an empty list.
    """
    if top < 0:
        raise ValueError(f"top must be zero or positive, got {top}.")
    names = resolve_class_names(class_names)
    matrix = confusion_matrix(y_true, y_pred)
    pairs = [
        (int(matrix[true_label, predicted_label]), true_label, predicted_label)
        for true_label in range(NUMBER_OF_CLASSES)
        for predicted_label in range(NUMBER_OF_CLASSES)
        if true_label != predicted_label and matrix[true_label, predicted_label] > 0
    ]
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    return [(names[true_label], names[predicted], count) for count, true_label, predicted in pairs][
        :top
    ]
