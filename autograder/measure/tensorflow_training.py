"""Measurement of ``train_model``: which images it trained on, for how many epochs, in what batches.

The host gives ``train_model`` the grader's own model: Flatten → Dense(10) with
zero weights and no bias, compiled with plain SGD (rate η) and a loss that is,
per example, the output of its label's unit. That loss's gradient does not
depend on the weights, so training is linear and order-free: after training,
the weight from example i's pixel to its label's unit is -η · 255 · (sum over
the steps that contained i of 1 / batch size). Each image lights one pixel of
its own, so this one number per example reads off the training exactly:

- examples with a zero were held out (which, and how many: the split);
- the others show E / B when never in a short last batch, and E / B + k (1/r -
  1/B) after k epochs in a short batch of r images, so E and B follow;
- values 255 times too small mean train_model rescaled the images itself.

``fit`` with ``steps_per_execution``, ``jit_compile`` or a ``tf.data`` pipeline
of the same batches reads the same; nothing a student function reports is used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograder.measure.session import Session
from autograder.sandbox.protocol import ProtocolError

LEARNING_RATE = 0.01
PIXEL = 255
TOLERANCE = 1e-4


def _challenge(session: Session, examples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    generator = session.generator
    pixels = generator.permutation(784)[:examples]
    images = np.zeros((examples, 784), dtype=np.uint8)
    images[np.arange(examples), pixels] = PIXEL
    labels = generator.integers(0, 10, size=examples).astype(np.int64)
    return images.reshape(examples, 28, 28), labels, pixels


def fit_shape(
    values: np.ndarray, *, max_epochs: int = 200, preferred: tuple[int, int] | None = None
) -> tuple[int, int, float] | None:
    """(epochs, batch size, input scale) that explain the per-example step sums, or None.

    With a short last batch the answer is unique. Without one only epochs / batch
    size shows, so ``preferred`` (the config's) is taken when it explains the sums.
    """
    count = len(values)
    if count == 0:
        return None
    if preferred is not None:
        epochs, batch = preferred
        for scale in (1.0, 1.0 / PIXEL):
            if count % batch == 0 and np.allclose(values / scale, epochs / batch, rtol=TOLERANCE):
                return epochs, batch, scale
    for scale in (1.0, 1.0 / PIXEL):
        scaled = values / scale
        smallest = float(scaled.min())
        for batch in range(1, count + 1):
            epochs = smallest * batch
            if (
                abs(epochs - round(epochs)) > 1e-3 * max(1.0, epochs)
                or not 1 <= round(epochs) <= max_epochs
            ):
                continue
            epochs = round(epochs)
            short = count % batch
            allowed = np.array(
                [
                    (epochs - k) / batch + (k / short if short else 0.0)
                    for k in range(epochs + 1 if short else 1)
                ]
            )
            nearest = np.abs(scaled[:, None] - allowed[None, :]).min(axis=1)
            total = epochs * math.ceil(count / batch)
            if (
                np.all(nearest <= TOLERANCE * max(1.0, allowed.max()))
                and abs(scaled.sum() - total) <= 1e-3 * total
            ):
                return epochs, batch, scale
    return None


def measure_training(session: Session, config: dict[str, Any], examples: int) -> dict[str, Any]:
    """Run ``train_model`` once on the linear challenge; read off what it did."""
    images, labels, pixels = _challenge(session, examples)
    answer = session.ask(
        "train_model", {"config": config, "learning_rate": LEARNING_RATE}, [images, labels]
    )
    if len(answer.arrays) != 1 or answer.arrays[0].shape != (784, 10):
        raise ProtocolError("the train_model answer does not hold the grader model's weights")
    kernel = answer.arrays[0].astype(np.float64)
    sums = -kernel[pixels, labels] / (LEARNING_RATE * PIXEL)
    expected_mask = np.zeros((784, 10), dtype=bool)
    expected_mask[pixels, labels] = True
    stray = float(np.abs(kernel[~expected_mask]).max()) if (~expected_mask).any() else 0.0
    trained = sums > TOLERANCE * 1e-2
    keras_split = int(examples * (1.0 - 0.2))
    preferred = (int(config["epochs"]), int(config["batch_size"]))
    usable = stray < 1e-6 and np.all(sums >= -1e-9)
    shape = fit_shape(sums[trained], preferred=preferred) if usable else None
    keys = answer.value.raw("keys") if answer.value.has("keys") else None
    return {
        "config": {"epochs": config["epochs"], "batch_size": config["batch_size"]},
        "examples": examples,
        "trained_examples": int(trained.sum()),
        "expected_trained": keras_split,
        "holds_out_last": bool(
            np.array_equal(np.flatnonzero(~trained), np.arange(keras_split, examples))
        ),
        "epochs": shape[0] if shape else None,
        "batch_size": shape[1] if shape else None,
        "input_scale": shape[2] if shape else None,
        "untouched_by_loss": stray < 1e-6,
        "returned_type": answer.value.text("type", limit=100),
        "history_keys": keys if isinstance(keys, list) else None,
    }


def _examples_for(session: Session, batch: int) -> int:
    """A dataset size whose 80% leaves a short last batch (so epochs and batch size separate)."""
    for _ in range(100):
        examples = int(session.generator.integers(max(3 * batch, 200), 785))
        if int(examples * 0.8) % batch:
            return examples
    return 700


def train_model(session: Session) -> dict[str, Any]:
    generator = session.generator
    config = {**session.context.best_config("adam")}
    config.update(epochs=int(generator.integers(2, 4)), batch_size=int(generator.integers(17, 41)))
    check = measure_training(session, config, _examples_for(session, config["batch_size"]))
    accuracy_config = {
        **session.context.best_config("adam"),
        "epochs": session.context.accuracy_epochs("tensorflow"),
    }
    accuracy = measure_training(
        session, accuracy_config, _examples_for(session, accuracy_config["batch_size"])
    )
    session.shared["fit"] = accuracy
    return {"check": check, "accuracy_config": accuracy}
