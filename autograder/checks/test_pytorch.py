"""Hidden checks of the PyTorch notebook: judge the probe's observations.

Each test guards one nbgrader test cell (``@pytest.mark.cell``). The probe only
records; every verdict is taken here, in the trusted process: expected values come
from this module and the probe's constants, never from the observations, and test
accuracy is computed here from the returned weights. Messages say what is wrong and
in which function, never how to write it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograder.checks.pytorch_model import cross_entropy, forward, output_kind, predict, softmax
from autograder.sandbox.probe_pytorch import (
    MODEL_PROBES,
    OPTIMIZER_PROBES,
    loss_probe_inputs,
    probe_images,
)

OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}
# (torch name, config key) of every hyperparameter that must come from the config.
OPTIMIZER_HYPERPARAMETERS = {
    "sgd": (("lr", "learning_rate"), ("momentum", "momentum")),
    "adam": (("lr", "learning_rate"), ("betas", ("beta_1", "beta_2"))),
    "rmsprop": (("lr", "learning_rate"), ("alpha", "rho"), ("momentum", "momentum")),
}
OUTPUT_LAYERS = ("Softmax", "LogSoftmax")
NEUTRAL_LAYERS = ("Flatten", "Identity")
FLOAT_TYPES = ("float", "float64", "float32")
GRADIENT_TOLERANCE = 1e-4
FIDELITY_TOLERANCE = 1e-3


def part(observations: dict, name: str) -> Any:
    """One probe part, or a failure saying which function raised what, or why it is missing."""
    if name not in observations:
        reason = observations.get("error") or "the run stopped early (time or memory limit?)"
        pytest.fail(f"No observations of {name} were recorded: {reason}")
    record = observations[name]
    message = raised(record, name)
    if message:
        pytest.fail(message)
    return record


def raised(record: Any, name: str) -> str | None:
    """A feedback sentence when a probe record holds an error, else ``None``."""
    if not isinstance(record, dict) or "error" not in record:
        return None
    where = f" ({record['where']})" if record.get("where") else ""
    if record.get("function"):
        return (
            f"{record['function']} raised {record['error']}{where}. Run its cell and the "
            "quick checks below it to see the full traceback."
        )
    return f"The grader could not examine what {name} returned: {record['error']}{where}."


def close(value: Any, expected: float, tolerance: float = 1e-4) -> bool:
    return isinstance(value, (int, float)) and math.isclose(
        value, expected, rel_tol=tolerance, abs_tol=tolerance
    )


def expected_linear_sizes(units: dict[str, int]) -> list[tuple[int, int]]:
    sizes = [28 * 28, units["dense_1"], units["dense_2"], units["dense_3"], units["dense_4"], 10]
    return list(zip(sizes, sizes[1:], strict=False))


def model_records(observations: dict) -> dict[str, dict]:
    records = part(observations, "create_model")
    return {label: records[label] for label in MODEL_PROBES}


# ---------------------------------------------------------------- split_data


@pytest.mark.cell("check_split_data")
def test_split_data_sizes(observations: dict) -> None:
    train_size, val_size = part(observations, "split_data")["sizes"]
    assert (train_size, val_size) != (12_000, 48_000), (
        "split_data returned a 12,000-example part first and a 48,000-example part second: "
        "return (train, val), with val holding val_fraction of the examples."
    )
    assert (train_size, val_size) == (48_000, 12_000), (
        f"split_data(60,000 examples, val_fraction=0.2) returned parts of {train_size:,} and "
        f"{val_size:,} examples; expected (train, val) = (48,000, 12,000)."
    )


@pytest.mark.cell("check_split_data")
def test_split_data_follows_val_fraction(observations: dict) -> None:
    train_size, val_size = part(observations, "split_data")["sizes_at_quarter_of_1000"]
    assert abs(val_size - 250) <= 1 and train_size + val_size == 1000, (
        f"split_data(1,000 examples, val_fraction=0.25) returned parts of {train_size} and "
        f"{val_size}; the validation part (the second) must hold val_fraction of the examples."
    )


@pytest.mark.cell("check_split_data")
def test_split_data_is_disjoint(observations: dict) -> None:
    record = part(observations, "split_data")
    assert record["overlap"] == 0 and record["distinct"] == sum(record["sizes"]), (
        f"split_data: {record['overlap']:,} examples are in both parts (or repeated within "
        "one): every example must land in exactly one part."
    )


@pytest.mark.cell("check_split_data")
def test_split_data_is_random(observations: dict) -> None:
    record = part(observations, "split_data")
    assert not record["val_is_last_part"], (
        "split_data: the validation part is the last 20% of the dataset; draw it at random."
    )
    assert not record["val_is_evenly_spaced"], (
        "split_data: the validation examples are evenly spaced (a fixed slice or stride); "
        "draw them at random."
    )


@pytest.mark.cell("check_split_data")
def test_split_data_is_reproducible_from_the_seed(observations: dict) -> None:
    record = part(observations, "split_data")
    assert record["same_seed_same_split"], (
        "split_data: two calls with the same seed gave different splits. The random draw "
        "must depend on `seed` only, not on the global random state."
    )
    assert record["other_seed_other_split"], (
        "split_data: seed=1 and seed=2 gave the same split, so the seed argument is ignored."
    )


# ---------------------------------------------------------------- create_model


@pytest.mark.cell("check_create_model")
def test_create_model_maps_images_to_ten_outputs(observations: dict) -> None:
    for label, record in model_records(observations).items():
        assert record["output_shape"] == [2, 10], (
            f"create_model: two 28×28 images gave outputs of shape {tuple(record['output_shape'])} "
            f"(probe config {label}); expected (2, 10). Check the flattening and the last layer."
        )


@pytest.mark.cell("check_create_model")
def test_create_model_linear_layers_follow_the_config(observations: dict) -> None:
    for label, record in model_records(observations).items():
        linear = [
            (layer.get("in_features"), layer.get("out_features"))
            for layer in record["layers"]
            if layer["type"] == "Linear"
        ]
        expected = expected_linear_sizes(MODEL_PROBES[label])
        assert len(linear) == 5, (
            f"create_model runs {len(linear)} Linear layers; the network has four hidden "
            "Linear layers and one output layer."
        )
        assert linear[0][0] == 784, (
            f"create_model: the first Linear layer takes {linear[0][0]} inputs; a flattened "
            "28×28 image has 784."
        )
        assert linear[-1][1] == 10, (
            f"create_model: the last Linear layer has {linear[-1][1]} outputs; "
            "there are 10 classes."
        )
        hidden = [size for _, size in linear[:4]]
        wanted = [size for _, size in expected[:4]]
        assert hidden == wanted, (
            f"create_model: the hidden layer sizes {hidden} do not follow "
            f"config['dense_1'..'dense_4'] = {wanted}."
        )


@pytest.mark.cell("check_create_model")
def test_create_model_uses_relu_after_each_hidden_layer(observations: dict) -> None:
    for record in model_records(observations).values():
        order = [layer["type"] for layer in record["layers"] if layer["type"] not in NEUTRAL_LAYERS]
        unexpected = sorted(set(order) - {"Linear", "ReLU", *OUTPUT_LAYERS})
        assert not unexpected, (
            f"create_model: the model runs layers the architecture does not have: "
            f"{', '.join(unexpected)}. Hidden layers use ReLU; nothing else is added."
        )
        relu_count = order.count("ReLU")
        assert relu_count == 4, (
            f"create_model: the forward pass runs {relu_count} ReLU activation modules; each of "
            "the four hidden Linear layers needs one (as an nn.ReLU module)."
        )
        body = order[:-1] if order and order[-1] in OUTPUT_LAYERS else order
        assert body == ["Linear", "ReLU"] * 4 + ["Linear"], (
            f"create_model: the layers run in the order {' → '.join(order)}; each hidden Linear "
            "layer must be followed by its ReLU, and the output layer comes last."
        )
        for layer in record["layers"]:
            if layer["type"] in OUTPUT_LAYERS:
                assert layer.get("dim") in (1, -1), (
                    f"create_model: {layer['type']} normalises over dim={layer.get('dim')}; "
                    "it must normalise over the 10 classes of each image (dim=1)."
                )


@pytest.mark.cell("check_create_model")
def test_create_model_parameter_count(observations: dict) -> None:
    for label, record in model_records(observations).items():
        expected = sum(
            (inputs + 1) * outputs for inputs, outputs in expected_linear_sizes(MODEL_PROBES[label])
        )
        assert record["parameter_count"] == expected, (
            f"create_model: the model has {record['parameter_count']:,} parameters where the "
            f"architecture has {expected:,} (probe config {label}). Look for extra layers or "
            "parameters, or Linear layers without a bias."
        )


# ---------------------------------------------------------------- loss_fn


def loss_mismatch(kind: str, value: float, logits: np.ndarray, labels: np.ndarray) -> str:
    """Name the mistake a wrong loss value points to."""
    rows = np.arange(len(labels))
    probabilities = softmax(logits.astype(np.float64))
    if kind == "probabilities" and close(value, -float(np.mean(probabilities[rows, labels]))):
        return (
            "loss_fn treats the model's outputs as log-probabilities, but the model ends in "
            "a softmax, so they are probabilities: the loss becomes -p instead of -log p "
            "(bounded, with vanishing gradients)."
        )
    if kind == "probabilities" and close(value, cross_entropy(probabilities, labels)):
        return (
            "loss_fn applies a softmax of its own to outputs that already are probabilities "
            "(the model ends in a softmax): a double softmax."
        )
    if kind == "logits" and close(value, -float(np.mean(logits[rows, labels]))):
        return "the model outputs raw logits, but loss_fn treats them as log-probabilities."
    if close(value, cross_entropy(logits, labels) * len(labels)):
        return "loss_fn sums over the batch; the loss is the mean over the batch."
    return (
        f"loss_fn gives {value:.4f} on the model's {kind}, where their cross-entropy is "
        f"{cross_entropy(logits, labels):.4f}. Does the loss match what the model outputs?"
    )


@pytest.mark.cell("check_loss_fn")
def test_loss_matches_the_model_output(observations: dict) -> None:
    record = part(observations, "loss_fn")
    logits, labels = loss_probe_inputs()
    reference = cross_entropy(logits, labels)
    forms = {"logits": "logits", "log-probabilities": "log_probabilities"}
    forms["probabilities"] = "probabilities"
    model = observations.get("create_model", {})
    if raised(model, "create_model") or "first" not in model:
        # The output is unknown: accept the two pairings the notebook teaches.
        accepted = [record.get(form) for form in ("logits", "log_probabilities")]
        errors = [raised(value, "loss_fn") for value in accepted if raised(value, "loss_fn")]
        assert any(close(value, reference) for value in accepted), (
            errors[0]
            if errors
            else "loss_fn is neither the cross-entropy of logits nor the negative "
            "log-likelihood of log-probabilities (and create_model could not be run to tell "
            "which it should be)."
        )
        return
    kind = output_kind(model["first"]["outputs"])
    value = record.get(forms[kind])
    message = raised(value, "loss_fn")
    assert message is None, f"On the model's {kind}, {message}"
    assert close(value, reference), loss_mismatch(kind, value, logits, labels)


# ---------------------------------------------------------------- make_optimizer


def optimizer_record(observations: dict, name: str) -> dict:
    record = part(observations, "make_optimizer").get(name)
    message = raised(record, "make_optimizer")
    if message:
        pytest.fail(f"With config['optimizer'] = {name!r}: {message}")
    return record


@pytest.mark.cell("check_make_optimizer")
@pytest.mark.parametrize("name", sorted(OPTIMIZER_PROBES))
def test_make_optimizer_type(observations: dict, name: str) -> None:
    record = optimizer_record(observations, name)
    expected = OPTIMIZER_CLASSES[name]
    assert expected in record["classes"], (
        f"make_optimizer: config['optimizer'] = {name!r} gave a {record['classes'][0]}, "
        f"not a torch.optim.{expected}."
    )


@pytest.mark.cell("check_make_optimizer")
@pytest.mark.parametrize("name", sorted(OPTIMIZER_PROBES))
def test_make_optimizer_hyperparameters(observations: dict, name: str) -> None:
    record = optimizer_record(observations, name)
    config = OPTIMIZER_PROBES[name]
    assert record["groups"], f"make_optimizer ({name}): the optimizer has no parameter groups."
    for torch_name, config_key in OPTIMIZER_HYPERPARAMETERS[name]:
        keys = config_key if isinstance(config_key, tuple) else (config_key,)
        wanted = [config[key] for key in keys]
        for group in record["groups"]:
            found = group.get(torch_name)
            values = list(found) if isinstance(found, (list, tuple)) else [found]
            assert len(values) == len(wanted) and all(
                close(value, target, 1e-9) for value, target in zip(values, wanted, strict=True)
            ), (
                f"make_optimizer ({name}): {torch_name} is {found!r}, but the config asks for "
                f"{' and '.join(f'config[{key!r}] = {config[key]}' for key in keys)}."
            )


@pytest.mark.cell("check_make_optimizer")
@pytest.mark.parametrize("name", sorted(OPTIMIZER_PROBES))
def test_make_optimizer_covers_every_parameter(observations: dict, name: str) -> None:
    assert optimizer_record(observations, name)["covers_all_parameters"], (
        f"make_optimizer ({name}): the optimizer does not update every parameter of the model "
        "it is given."
    )


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
    assert close(accuracy, reference["accuracy"], 1e-6), (
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
        pytest.fail(f"The model was {record['skipped']}.")
    epochs, batches = record["epochs"], record["expected_steps"] // max(record["epochs"], 1)
    assert record["optimizer_steps"] <= record["expected_steps"], (
        f"fit took {record['optimizer_steps']} optimizer steps where {epochs} epochs of "
        f"{batches} batches take {record['expected_steps']}: it must train `epochs` epochs."
    )
    try:
        outputs = forward(record["manifest"], weights, probe_images())
    except ValueError as error:
        pytest.fail(
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
