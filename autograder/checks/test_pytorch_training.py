"""Hidden checks of the PyTorch training loop and the retrained accuracy.

They judge ``autograder/measure/pytorch_loop.py``'s recomputations (weights and
values after the student's loop on the grader's model and batches) and
``measure/accuracy.py``'s retrain of the identified spec. ``no_grad`` in
evaluate is read from the cell's source.
"""

from __future__ import annotations

import pytest

from autograder.checks.feedback import close, fail, part, require

LOOP_MISTAKES = {
    "no_zero_grad": (
        "train_epoch: from the second batch on, the optimizer steps on the sum of this batch's "
        "gradients and those of earlier batches. PyTorch adds new gradients to old ones until "
        "they are reset: reset them for every batch."
    ),
    "no_step": (
        "train_epoch did not change the weights: the optimizer must take a step for every batch."
    ),
    "evaluation_mode": (
        "train_epoch ran the model in evaluation mode; it must put the model in training mode "
        "itself (evaluate leaves it in evaluation mode)."
    ),
}


def check_pair(record: dict, function: str) -> None:
    """The (loss, accuracy) pair: two Python floats equal to what the grader recomputed."""
    values, expected = record["values"], record["expected"]
    require(
        values is not None,
        f"{function} returned {record['returned']}; expected (mean loss, accuracy).",
    )
    require(
        record["floats"],
        f"{function} returned ({', '.join(record.get('item_types', []))}); return plain Python "
        "floats (a tensor's .item()).",
    )
    loss, accuracy = values
    require(
        close(loss, expected["loss"]),
        f"{function} returned a loss of {loss}, but the mean loss per example over the batches "
        f"was {expected['loss']:.5f} (weight each batch's mean by its size).",
    )
    require(
        close(accuracy, expected["accuracy"], relative=1e-6, absolute=1e-6),
        f"{function} returned an accuracy of {accuracy}, but the fraction of examples predicted "
        f"correctly was {expected['accuracy']:.5f}.",
    )


@pytest.mark.cell("check_train_epoch")
def test_train_epoch_takes_one_correct_step_per_batch(measurements: dict) -> None:
    record = part(measurements, "train_epoch")
    variant = record["variant"]
    if variant in LOOP_MISTAKES:
        fail(LOOP_MISTAKES[variant])
    require(
        variant == "correct",
        f"train_epoch changed the weights in a way that matches neither one optimizer step per "
        f"batch on that batch's loss ({record['batches']} batches) nor a known mistake. Check "
        "the order: reset the gradients, forward, loss, backward, step.",
    )


@pytest.mark.cell("check_train_epoch")
def test_train_epoch_returns_mean_loss_and_accuracy(measurements: dict) -> None:
    check_pair(part(measurements, "train_epoch"), "train_epoch")


@pytest.mark.cell("check_evaluate")
def test_evaluate_leaves_the_model_unchanged(measurements: dict) -> None:
    record = part(measurements, "evaluate")
    require(
        record["weights_unchanged"],
        "evaluate changed the model's weights: it must only measure the model, never update it.",
    )
    require(
        not record["gradients_left"],
        "evaluate computed gradients (backward) on the model: evaluation needs none.",
    )


@pytest.mark.cell("check_evaluate")
def test_evaluate_uses_evaluation_mode(measurements: dict) -> None:
    record = part(measurements, "evaluate")
    values = record["values"]
    if (
        values
        and close(values[0], record["training_mode"]["loss"])
        and not close(values[0], record["expected"]["loss"])
    ):
        fail(
            "evaluate ran the model in training mode; it must put the model in evaluation mode "
            "itself (train_epoch leaves it in training mode)."
        )
    check_pair(record, "evaluate")


@pytest.mark.cell("check_evaluate")
def test_evaluate_tracks_no_gradients(measurements: dict) -> None:
    found = part(measurements, "evaluate")["no_grad"]
    require(
        found["found"],
        "evaluate runs the model with gradient tracking on: evaluation needs no autograd graph, "
        "which costs memory and time. Turn gradient tracking off around the forward pass.",
    )


@pytest.mark.cell("check_fit")
def test_fit_trains_for_the_epochs_asked(measurements: dict) -> None:
    record = part(measurements, "fit")
    epochs, trained = record["epochs"], record["trained"]
    require(
        trained != "0_epochs", "fit did not change the model's weights: it must train the model."
    )
    if trained and trained != f"{epochs}_epochs":
        fail(f"fit was asked for {epochs} epochs and trained {trained.split('_')[0]}.")
    require(
        trained == f"{epochs}_epochs",
        f"fit's training does not match {epochs} epochs of train_epoch on the training loader.",
    )


@pytest.mark.cell("check_fit")
def test_fit_returns_one_history_entry_per_epoch(measurements: dict) -> None:
    record = part(measurements, "fit")
    require(
        record["is_training_history"],
        f"fit returned a {record['type']}, not an mlpkit.TrainingHistory.",
    )
    epochs, lengths = record["epochs"], record["history_lengths"] or {}
    require(
        set(lengths.values()) == {epochs},
        f"fit was asked for {epochs} epochs and recorded {lengths}: one entry per epoch in each "
        "of loss, accuracy, val_loss and val_accuracy.",
    )
    require(
        not record["history_swapped"],
        "fit's history has the training and validation values swapped.",
    )
    for key, error in record["history_errors"].items():
        require(
            error is not None and error < 1e-4,
            f"fit: history.{key} does not hold the epoch's values (loss and accuracy from "
            "train_epoch, val_loss and val_accuracy from evaluate on the validation loader).",
        )


@pytest.mark.cell("check_pytorch_accuracy")
def test_pytorch_accuracy(measurements: dict) -> None:
    record = part(measurements, "accuracy")
    if not record["retrained"]:
        if record.get("grader_error"):
            fail(
                f"The grader's own training failed (not your code): {record['grader_error'][:300]}"
            )
        fail(
            f"Not retrained: {', '.join(record['missing'])} could not be verified (see "
            "their cells), so the grader has no training of your code it can vouch for."
        )
    accuracy, floor = record["accuracy"], record["floor"]
    require(
        accuracy >= floor,
        f"Retrained by the grader ({record['epochs']} epochs of the best Adam config on the "
        f"training images, with your model, loss, optimizer and loop), your model reaches "
        f"{accuracy:.4f} test accuracy; the floor is {floor:.3f}. Check the loss pairing, the "
        "optimizer's hyperparameters and the training loop.",
    )
