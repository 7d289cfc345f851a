"""Measurements of the PyTorch training loop: ``train_epoch``, ``evaluate`` and ``fit``.

The host runs each function on the grader's small model (Flatten → Linear →
a layer that halves its input in evaluation mode → ReLU → Linear) with weights,
batches and an SGD learning rate chosen here, fresh each run. This module
recomputes, in NumPy, what the contract's loop gives from those same weights
and batches, and compares: a missing ``zero_grad`` (gradients add up), a missing
``step``, the wrong mode, or a wrong mean all change the numbers. When they
differ, the closest of those known mistakes is named. ``no_grad`` in
``evaluate`` changes no number, so it is read from the cell's source
(``source.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograder.measure import challenges
from autograder.measure.maths import cross_entropy, cross_entropy_gradient, relative_error
from autograder.measure.session import Session
from autograder.measure.source import no_grad_forward
from autograder.measure.values import describe, number_value
from autograder.sandbox.protocol import ProtocolError

WEIGHT_TOLERANCE = 1e-3
VALUE_TOLERANCE = 1e-4
EVALUATION_FACTOR = 0.5
VARIANTS = ("correct", "no_zero_grad", "no_step", "evaluation_mode")


def forward(
    weights: Sequence[np.ndarray], images: np.ndarray, factor: float
) -> dict[str, np.ndarray]:
    first, first_bias, second, second_bias = (np.asarray(array, np.float64) for array in weights)
    inputs = images.reshape(len(images), -1).astype(np.float64)
    hidden = (inputs @ first.T + first_bias) * factor
    active = np.maximum(hidden, 0.0)
    return {
        "inputs": inputs,
        "hidden": hidden,
        "active": active,
        "outputs": active @ second.T + second_bias,
    }


def gradients(weights: Sequence[np.ndarray], images: np.ndarray, labels: np.ndarray, factor: float):
    """Mean cross-entropy, correct count and parameter gradients of one batch."""
    values = forward(weights, images, factor)
    outputs = values["outputs"]
    upstream = cross_entropy_gradient(outputs, labels)
    second = np.asarray(weights[2], np.float64)
    hidden_gradient = (upstream @ second) * (values["hidden"] > 0) * factor
    grads = [
        hidden_gradient.T @ values["inputs"],
        hidden_gradient.sum(axis=0),
        upstream.T @ values["active"],
        upstream.sum(axis=0),
    ]
    correct = int((outputs.argmax(axis=1) == labels).sum())
    return cross_entropy(outputs, labels), correct, grads


def batches(images: np.ndarray, labels: np.ndarray, size: int):
    for start in range(0, len(images), size):
        yield images[start : start + size], labels[start : start + size]


def epoch(weights, images, labels, *, size: int, rate: float, variant: str):
    """One epoch of plain SGD under ``variant``: (weights after, mean loss, accuracy)."""
    weights = [np.asarray(array, np.float64).copy() for array in weights]
    factor = EVALUATION_FACTOR if variant == "evaluation_mode" else 1.0
    accumulated = [np.zeros_like(array) for array in weights]
    total = correct = 0.0
    for batch_images, batch_labels in batches(images, labels, size):
        loss, hits, grads = gradients(weights, batch_images, batch_labels, factor)
        total += loss * len(batch_labels)
        correct += hits
        if variant == "no_zero_grad":
            accumulated = [held + new for held, new in zip(accumulated, grads, strict=True)]
            grads = accumulated
        if variant != "no_step":
            weights = [array - rate * grad for array, grad in zip(weights, grads, strict=True)]
    return weights, total / len(labels), correct / len(labels)


def evaluation(weights, images, labels, *, size: int, factor: float = EVALUATION_FACTOR):
    total = correct = 0.0
    for batch_images, batch_labels in batches(images, labels, size):
        outputs = forward(weights, batch_images, factor)["outputs"]
        total += cross_entropy(outputs, batch_labels) * len(batch_labels)
        correct += int((outputs.argmax(axis=1) == batch_labels).sum())
    return total / len(labels), correct / len(labels)


def _setup(session: Session, batches_count: int) -> dict[str, Any]:
    generator = session.generator
    size = int(generator.integers(6, 13))
    count = batches_count * size + int(generator.integers(1, size))
    hidden = int(generator.integers(16, 41))
    training = session.context.training_images()
    rows = generator.choice(len(training), size=count, replace=False)
    images = (training[rows] / 255.0).astype(np.float32)
    labels = session.context.training_labels()[rows].astype(np.int64)
    weights = [
        challenges.glorot(generator, 784, hidden),
        generator.normal(0, 0.05, hidden).astype(np.float32),
        challenges.glorot(generator, hidden, 10),
        generator.normal(0, 0.05, 10).astype(np.float32),
    ]
    return {
        "size": size,
        "images": images,
        "labels": labels,
        "weights": weights,
        "rate": float(generator.uniform(0.05, 0.3)),
        "loader": str(generator.choice(["dataloader", "tensorbatches"])),
    }


def _returned_pair(answer_value: Any, arrays: Sequence[np.ndarray]) -> dict[str, Any]:
    """What a (loss, accuracy) function returned: the two floats, or a description."""
    record: dict[str, Any] = {"returned": describe(answer_value), "floats": False, "values": None}
    if isinstance(answer_value, dict) and answer_value.get("t") in ("tuple", "list"):
        items = answer_value.get("v", [])
        if len(items) == 2:
            floats = [number_value(item, arrays, kinds=("float",)) for item in items]
            numbers = [
                number_value(item, arrays, kinds=("float", "int", "tensor")) for item in items
            ]
            record.update(floats=all(value is not None for value in floats), values=numbers)
            record["item_types"] = [describe(item) for item in items]
    return record


def _final_weights(answer, count: int) -> list[np.ndarray]:
    arrays = answer.arrays[count:]
    if len(arrays) != 4:
        raise ProtocolError("the loop answer holds the wrong number of weight arrays")
    return arrays


def _closest(
    observed, start, candidates: dict[str, list[np.ndarray]]
) -> tuple[str | None, dict[str, float]]:
    errors = {}
    for name, weights in candidates.items():
        changes = [
            relative_error(np.asarray(got) - first, want - first)
            if np.any(want != first)
            else (0.0 if np.array_equal(got, first) else float("inf"))
            for got, want, first in zip(observed, weights, start, strict=True)
        ]
        errors[name] = max(changes)
    name = min(errors, key=errors.get)
    return (name if errors[name] <= WEIGHT_TOLERANCE else None), errors


def train_epoch(session: Session) -> dict[str, Any]:
    setup = _setup(session, batches_count=5)
    arrays = [*setup["weights"], setup["images"], setup["labels"]]
    args = {"loader": setup["loader"], "batch_size": setup["size"], "learning_rate": setup["rate"]}
    answer = session.ask("train_epoch", args, arrays)
    returned = answer.value.integer("parameters", low=0, high=64)
    observed = _final_weights(answer, returned)
    start = [np.asarray(array, np.float64) for array in setup["weights"]]
    candidates, values = {}, {}
    for variant in VARIANTS:
        weights, loss, accuracy = epoch(
            start,
            setup["images"],
            setup["labels"],
            size=setup["size"],
            rate=setup["rate"],
            variant=variant,
        )
        candidates[variant], values[variant] = weights, (loss, accuracy)
    variant, errors = _closest(observed, start, candidates)
    pair = _returned_pair(answer.value.raw("returned"), answer.arrays)
    session.shared["loop_variant"] = variant
    return {
        "loader": setup["loader"],
        "batches": -(-len(setup["labels"]) // setup["size"]),
        "variant": variant,
        "errors": {name: (error if np.isfinite(error) else None) for name, error in errors.items()},
        **pair,
        "expected": {"loss": values["correct"][0], "accuracy": values["correct"][1]},
        "expected_by_variant": {
            name: {"loss": value[0], "accuracy": value[1]} for name, value in values.items()
        },
    }


def evaluate(session: Session) -> dict[str, Any]:
    setup = _setup(session, batches_count=4)
    arrays = [*setup["weights"], setup["images"], setup["labels"]]
    answer = session.ask(
        "evaluate", {"loader": setup["loader"], "batch_size": setup["size"]}, arrays
    )
    returned = answer.value.integer("parameters", low=0, high=64)
    observed = _final_weights(answer, returned)
    pair = _returned_pair(answer.value.raw("returned"), answer.arrays)
    expected = evaluation(setup["weights"], setup["images"], setup["labels"], size=setup["size"])
    training_mode = evaluation(
        setup["weights"], setup["images"], setup["labels"], size=setup["size"], factor=1.0
    )
    source = dict(session.cells).get("evaluate", "")
    return {
        "loader": setup["loader"],
        "weights_unchanged": all(
            np.array_equal(got, want) for got, want in zip(observed, setup["weights"], strict=True)
        ),
        "gradients_left": answer.value.boolean("gradients"),
        **pair,
        "expected": {"loss": expected[0], "accuracy": expected[1]},
        "training_mode": {"loss": training_mode[0], "accuracy": training_mode[1]},
        "no_grad": no_grad_forward(source, "evaluate"),
    }


def fit(session: Session) -> dict[str, Any]:
    generator = session.generator
    setup = _setup(session, batches_count=4)
    val = _setup(session, batches_count=2)
    epochs = int(generator.integers(2, 5))
    arrays = [*setup["weights"], setup["images"], setup["labels"], val["images"], val["labels"]]
    args = {
        "loader": setup["loader"],
        "batch_size": setup["size"],
        "learning_rate": setup["rate"],
        "epochs": epochs,
    }
    answer = session.ask("fit", args, arrays)
    observed = list(answer.arrays)
    if len(observed) != 4:
        raise ProtocolError("the fit answer holds the wrong number of weight arrays")
    weights = [np.asarray(array, np.float64) for array in setup["weights"]]
    trajectory, curves = [weights], {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    for _ in range(epochs + 1):
        weights, loss, accuracy = epoch(
            weights,
            setup["images"],
            setup["labels"],
            size=setup["size"],
            rate=setup["rate"],
            variant="correct",
        )
        val_loss, val_accuracy = evaluation(
            weights, val["images"], val["labels"], size=setup["size"]
        )
        trajectory.append(weights)
        for key, value in zip(curves, (loss, accuracy, val_loss, val_accuracy), strict=True):
            curves[key].append(value)
    trained = {f"{count}_epochs": trajectory[count] for count in range(len(trajectory))}
    start = [np.asarray(array, np.float64) for array in setup["weights"]]
    matched, errors = _closest(observed, start, trained)
    history = answer.value.raw("history") if answer.value.has("history") else None
    recorded = _history_curves(history)
    expected = {key: values[:epochs] for key, values in curves.items()}
    return {
        "epochs": epochs,
        "type": answer.value.text("type", limit=100),
        "is_training_history": history is not None,
        "trained": matched,
        "history_lengths": {key: len(values) for key, values in recorded.items()}
        if recorded
        else None,
        "history_errors": {
            key: (
                relative_error(np.asarray(recorded[key]), np.asarray(expected[key]))
                if recorded and len(recorded[key]) == epochs
                else None
            )
            for key in expected
        },
        "history_swapped": bool(recorded)
        and all(len(recorded[key]) == epochs for key in expected)
        and relative_error(np.asarray(recorded["loss"]), np.asarray(expected["val_loss"]))
        < VALUE_TOLERANCE,
    }


def _history_curves(history: Any) -> dict[str, list[float]] | None:
    """The four curves of a ``TrainingHistory.to_dict()`` answer, as floats (None if unusable)."""
    if not isinstance(history, dict):
        return None
    curves = {}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = history.get(key)
        if not isinstance(values, list) or len(values) > 10_000:
            return None
        curves[key] = [
            float(value) if type(value) in (int, float) else float("nan") for value in values
        ]
    return curves
