"""Hidden checks of the PyTorch notebook's training loop: train_epoch, evaluate, fit, accuracy.

The probe (``autograder/sandbox/probe_pytorch_training.py``) ran the student's loop
on fixed batches and recorded what every optimizer step saw; these checks judge
those records. Expected values come from the probe's constants, never from the
observations themselves. The architecture, loss and optimizer checks live in
``test_pytorch.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.feedback import close, fail, part
from autograder.checks.pytorch_model import forward, predict
from autograder.sandbox.probe_pytorch import probe_images

FLOAT_TYPES = ("float", "float64", "float32")
GRADIENT_TOLERANCE = 1e-4
FIDELITY_TOLERANCE = 1e-3

# ---------------------------------------------------------------- train_epoch / evaluate


def check_returned(record: dict, function: str) -> None:
    """The (loss, accuracy) pair: two floats equal to what the grader measured."""
    returned, reference = record["returned"], record["reference"]
    assert len(returned["types"]) == 2, (
        f"{function} returns {len(returned['types'])} value(s); expected (mean loss, accuracy)."
    )
    assert all(kind in FLOAT_TYPES for kind in returned["types"]), (
        f"{function} returns ({', '.join(returned['types'])}); return plain Python floats "
        "(a tensor's .item())."
    )
    loss, accuracy = returned["values"]
    assert close(loss, reference["loss"]), (
        f"{function} returns a loss of {loss}, but the mean loss per example over the epoch "
        f"was {reference['loss']:.5f}."
    )
    assert close(accuracy, reference["accuracy"], relative=1e-6, absolute=1e-6), (
        f"{function} returns an accuracy of {accuracy}, but the fraction of examples "
        f"predicted correctly was {reference['accuracy']:.5f}."
    )


@pytest.mark.cell("check_train_epoch")
def test_train_epoch_uses_training_mode(observations: dict) -> None:
    modes = part(observations, "train_epoch")["forward_modes"]
    assert modes and all(modes), (
        "train_epoch ran the model in evaluation mode; it must put the model in training "
        "mode itself (evaluate leaves it in evaluation mode)."
    )


@pytest.mark.cell("check_train_epoch")
def test_train_epoch_steps_once_per_batch(observations: dict) -> None:
    record = part(observations, "train_epoch")
    assert len(record["steps"]) == record["batches"], (
        f"train_epoch took {len(record['steps'])} optimizer steps on a loader of "
        f"{record['batches']} batches; it must take one step per batch."
    )


@pytest.mark.cell("check_train_epoch")
def test_train_epoch_resets_gradients_every_step(observations: dict) -> None:
    for index, step in enumerate(part(observations, "train_epoch")["steps"], start=1):
        error, accumulated = step["gradient_error"], step["accumulated_error"]
        assert error is not None, (
            f"train_epoch: at step {index} the optimizer found no gradients. Compute them from "
            "the batch's loss before the step (and reset them before, not after, that)."
        )
        if error > GRADIENT_TOLERANCE and accumulated is not None:
            assert accumulated > GRADIENT_TOLERANCE, (
                f"train_epoch: from step {index} on, the optimizer steps on the sum of this "
                "batch's gradients and those of earlier batches. PyTorch adds new gradients to "
                "old ones until they are reset: reset them for every batch."
            )
        assert error <= GRADIENT_TOLERANCE, (
            f"train_epoch: at step {index} the gradients the optimizer steps on are not those "
            "of the current batch's loss."
        )


@pytest.mark.cell("check_train_epoch")
def test_train_epoch_returns_mean_loss_and_accuracy(observations: dict) -> None:
    check_returned(part(observations, "train_epoch"), "train_epoch")


@pytest.mark.cell("check_evaluate")
def test_evaluate_leaves_the_weights_unchanged(observations: dict) -> None:
    assert part(observations, "evaluate")["weights_unchanged"], (
        "evaluate changed the model's weights: it must only measure the model, never update it."
    )


@pytest.mark.cell("check_evaluate")
def test_evaluate_tracks_no_gradients(observations: dict) -> None:
    record = part(observations, "evaluate")
    assert not any(record["forward_grad_enabled"]) and not record["gradients_after"], (
        "evaluate runs the model with gradient tracking on (or computes gradients): "
        "evaluation needs no autograd graph, which costs memory and time."
    )


@pytest.mark.cell("check_evaluate")
def test_evaluate_uses_evaluation_mode(observations: dict) -> None:
    modes = part(observations, "evaluate")["forward_modes"]
    assert modes and not any(modes), (
        "evaluate ran the model in training mode; it must put the model in evaluation mode "
        "itself (train_epoch leaves it in training mode)."
    )


@pytest.mark.cell("check_evaluate")
def test_evaluate_returns_mean_loss_and_accuracy(observations: dict) -> None:
    check_returned(part(observations, "evaluate"), "evaluate")


# ---------------------------------------------------------------- fit


@pytest.mark.cell("check_fit")
def test_fit_returns_one_history_entry_per_epoch(observations: dict) -> None:
    record = part(observations, "fit")
    assert record["is_training_history"], (
        f"fit returned a {record['type']}, not an mlpkit.TrainingHistory."
    )
    epochs = record["epochs"]
    lengths = {key: len(values) for key, values in record["curves"].items()}
    assert record["length"] == epochs and set(lengths.values()) == {epochs}, (
        f"fit was asked for {epochs} epochs and recorded {lengths}: one entry per epoch in "
        "each of loss, accuracy, val_loss and val_accuracy."
    )
    for key in ("accuracy", "val_accuracy"):
        assert all(0.0 <= value <= 1.0 for value in record["curves"][key]), (
            f"fit: history.{key} holds values outside [0, 1]: {record['curves'][key]}."
        )


@pytest.mark.cell("check_fit")
def test_fit_trains_the_model(observations: dict) -> None:
    assert part(observations, "fit")["weights_changed"], (
        "fit did not change the model's weights: it must train the model every epoch."
    )


# ---------------------------------------------------------------- accuracy


@pytest.mark.cell("check_pytorch_accuracy")
def test_pytorch_accuracy(observations, weights, accuracy_threshold, request) -> None:
    record = part(observations, "accuracy")
    if "skipped" in record:
        fail(f"The model was {record['skipped']}.")
    epochs, batches = record["epochs"], record["expected_steps"] // max(record["epochs"], 1)
    assert record["optimizer_steps"] <= record["expected_steps"], (
        f"fit took {record['optimizer_steps']} optimizer steps where {epochs} epochs of "
        f"{batches} batches take {record['expected_steps']}: it must train `epochs` epochs."
    )
    try:
        outputs = forward(record["manifest"], weights, probe_images())
    except ValueError as error:
        fail(
            f"The trained model could not be rebuilt from its layers ({error}). Build the "
            "model from the layer modules the notebook names."
        )
    assert np.allclose(outputs, record["fidelity_outputs"], atol=FIDELITY_TOLERANCE), (
        "The trained model computes something its layer modules do not show (operations "
        "written in forward instead of as modules?), so the grader cannot rebuild it."
    )
    x_test, y_test = request.getfixturevalue("test_data")  # read only when it is needed
    accuracy = float(np.mean(predict(record["manifest"], weights, x_test) == y_test))
    floor = accuracy_threshold("pytorch")
    assert accuracy >= floor, (
        f"Retrained by the grader ({epochs} epochs of the best Adam config on the training "
        f"images), your model reaches {accuracy:.4f} test accuracy; the floor is {floor:.3f}. "
        "Check the loss pairing, the optimizer's hyperparameters and the training loop."
    )
