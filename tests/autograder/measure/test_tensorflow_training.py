"""train_model's epochs, batch size and split are read off the grader's linear model exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder.measure.tensorflow_training import fit_shape


def step_sums(
    count: int, epochs: int, batch: int, *, shuffle: bool = True, seed: int = 0
) -> np.ndarray:
    """Per example, the sum of 1 / batch size over the steps that held it (what Keras does)."""
    generator = np.random.default_rng(seed)
    sums = np.zeros(count)
    for _ in range(epochs):
        order = generator.permutation(count) if shuffle else np.arange(count)
        for start in range(0, count, batch):
            rows = order[start : start + batch]
            sums[rows] += 1 / len(rows)
    return sums


@pytest.mark.parametrize(("count", "epochs", "batch"), [(407, 2, 25), (560, 3, 128), (333, 5, 32)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_epochs_and_batch_size_are_recovered(count, epochs, batch, shuffle) -> None:
    assert fit_shape(step_sums(count, epochs, batch, shuffle=shuffle)) == (epochs, batch, 1.0)


def test_without_a_short_batch_the_config_explains_the_sums() -> None:
    sums = step_sums(400, 2, 40)
    assert fit_shape(sums, preferred=(2, 40)) == (2, 40, 1.0)
    assert fit_shape(sums, preferred=(3, 40)) is not None  # some other shape, never (3, 40)
    assert fit_shape(sums, preferred=(3, 40))[:2] != (3, 40)


def test_images_rescaled_before_fit_are_noticed() -> None:
    epochs, batch, scale = fit_shape(step_sums(407, 2, 25) / 255)
    assert (epochs, batch) == (2, 25) and math.isclose(scale, 1 / 255)


def test_skipped_examples_fit_no_shape() -> None:
    sums = step_sums(407, 2, 25)
    sums[:7] = sums[:7] / 2  # some examples seen in one epoch only
    assert fit_shape(sums) is None
