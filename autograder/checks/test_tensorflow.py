"""Hidden checks of the TensorFlow notebook: judge the probe's observations.

Each test guards one nbgrader test cell (``@pytest.mark.cell``). The probe only
records; every verdict is taken here, in the trusted process, and test accuracy
is computed here from the returned weights. Messages say what is wrong and in
which function, never how to write it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograder.checks.feedback import close, fail, part, raised, require
from autograder.checks.tensorflow_model import dense_blocks, predict
from mlpkit.data import load_fashion_mnist

ORIGINAL_RANGES = {
    "dense_1": (256, 512),
    "dense_2": (128, 256),
    "dense_3": (128, 256),
    "dense_4": (32, 128),
}
DENSE_KEYS = ("dense_1", "dense_2", "dense_3", "dense_4")
OPTIMIZER_HYPERPARAMETERS = {
    "sgd": ("learning_rate", "momentum"),
    "adam": ("learning_rate", "beta_1", "beta_2"),
    "rmsprop": ("learning_rate", "rho", "momentum"),
}
VALIDATION_FRACTION = 0.2
FIDELITY_AGREEMENT = 0.98


def probe_records(observations: dict, name: str) -> dict[str, dict]:
    """The per-config records of a part, failing on the first one that raised."""
    records = part(observations, name)
    selected = {key: value for key, value in records.items() if key != "loss_arrays"}
    for record in selected.values():
        message = raised(record)
        if message:
            fail(message)
    return selected


def is_probabilities(outputs: Any) -> bool:
    """Whether model outputs look like probabilities: non-negative rows summing to 1."""
    values = np.asarray(outputs, dtype=np.float64)
    return bool(values.min() >= -1e-6 and np.allclose(values.sum(axis=-1), 1.0, atol=1e-3))


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean sparse categorical cross-entropy of outputs read as probabilities.

    Computed as Keras does with ``from_logits=False`` (clip to [1e-7, 1 - 1e-7],
    renormalise), so the same formula also predicts what Keras makes of logits
    mistaken for probabilities.
    """
    clipped = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-7, 1 - 1e-7)
    normalised = clipped / clipped.sum(axis=-1, keepdims=True)
    return float(-np.mean(np.log(normalised[np.arange(len(labels)), labels])))


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


# --- check_create_model: architecture ---------------------------------------------------


@pytest.mark.cell("check_create_model")
def test_create_model_returns_ten_outputs_per_image(observations: dict) -> None:
    for record in probe_records(observations, "create_model").values():
        require(
            record["output_shape"] == [2, 10],
            f"create_model's model turns 2 images of 28x28 pixels into outputs of shape "
            f"{tuple(record['output_shape'])}, not (2, 10). Check the Flatten layer and the "
            "size of the output layer.",
        )


@pytest.mark.cell("check_create_model")
def test_create_model_takes_28_by_28_images_and_flattens(observations: dict) -> None:
    for record in probe_records(observations, "create_model").values():
        shape = record.get("input_shape") or [None, 28, 28]
        require(
            shape[1:] == [28, 28],
            f"create_model's model declares inputs of shape {tuple(shape[1:])}; the images are "
            "28x28 arrays. Check the Input layer.",
        )
        classes = [entry["class"] for entry in record["layers"]]
        first_dense = classes.index("Dense") if "Dense" in classes else len(classes)
        flattening = [
            entry
            for entry in record["layers"][:first_dense]
            if entry["class"] == "Flatten"
            or (entry["class"] == "Reshape" and entry.get("target_shape") == [784])
        ]
        require(
            flattening,
            f"create_model's layers are {classes}: no Flatten layer before the first Dense "
            "layer, so each image does not become 784 numbers.",
        )


@pytest.mark.cell("check_create_model")
def test_create_model_follows_the_config(observations: dict) -> None:
    for record in probe_records(observations, "create_model").values():
        config = record["config"]
        for key, (low, high) in ORIGINAL_RANGES.items():
            require(
                low <= config[key] <= high,
                f"grader error: probe {key}={config[key]} out of range",
            )
        blocks = dense_blocks(record["layers"])
        wanted = [config[key] for key in DENSE_KEYS]
        require(
            len(blocks) == 5,
            f"create_model's model has {len(blocks)} Dense layers; it needs four hidden Dense "
            "layers and one output layer.",
        )
        units = [count for count, _ in blocks]
        require(
            units == [*wanted, 10],
            f"For a config with dense_1..dense_4 = {wanted}, create_model's Dense layers "
            f"have {units} units. The hidden sizes must come from the config, in order, then "
            "10 outputs.",
        )
        hidden_activations = [name for _, name in blocks[:4]]
        require(
            hidden_activations == ["relu"] * 4,
            f"The hidden Dense layers use the activations {hidden_activations}; each needs ReLU.",
        )
        require(
            blocks[4][1] in ("softmax", "linear"),
            f"The output layer uses the activation {blocks[4][1]!r}: it must return either "
            "probabilities (softmax) or logits (no activation).",
        )


@pytest.mark.cell("check_create_model")
def test_create_model_parameter_count(observations: dict) -> None:
    for record in probe_records(observations, "create_model").values():
        sizes = [784, *(record["config"][key] for key in DENSE_KEYS), 10]
        expected = sum(
            inputs * outputs + outputs
            for inputs, outputs in zip(sizes[:-1], sizes[1:], strict=True)
        )
        require(
            record["parameter_count"] == expected,
            f"create_model's model has {record['parameter_count']:,} parameters where "
            f"Flatten and five Dense layers (with biases) of the config's sizes have "
            f"{expected:,}. Look for extra trainable layers or a Dense layer without bias.",
        )


# --- check_compile_model: optimizer, loss pairing, metric -------------------------------


@pytest.mark.cell("check_compile_model")
def test_compile_model_uses_the_config_optimizer(observations: dict) -> None:
    for name, record in probe_records(observations, "compile_model").items():
        optimizer = record.get("optimizer")
        require(optimizer, "After compile_model the model has no optimizer: is compile called?")
        actual = optimizer["class"].lower()
        require(
            actual == name,
            f"For config['optimizer'] = {name!r}, compile_model gives the model a "
            f"{optimizer['class']} optimizer.",
        )
        for key in OPTIMIZER_HYPERPARAMETERS[name]:
            value = optimizer["config"].get(key)
            wanted = record["config"][key]
            require(
                isinstance(value, (int, float)) and math.isclose(value, wanted, rel_tol=1e-5),
                f"With optimizer {name!r} the config asks for {key} = {wanted}, but the "
                f"{optimizer['class']} optimizer has {key} = {value}. Pass every "
                f"hyperparameter that {name} uses from the config.",
            )


@pytest.mark.cell("check_compile_model")
def test_compile_model_loss_matches_the_output_layer(observations: dict) -> None:
    records = part(observations, "compile_model")
    arrays = records.get("loss_arrays", {})
    labels = np.asarray(arrays["labels"])
    for record in probe_records(observations, "compile_model").values():
        values = record.get("loss_values")
        message = raised(values)
        require(not message, f"The compiled loss cannot score integer labels: {message}")
        if is_probabilities(record["outputs"]):
            kind, probabilities = "probabilities (softmax)", np.asarray(arrays["probabilities"])
            value = values["probabilities"]
            if close(value, relative=1e-3, expected=cross_entropy(softmax(probabilities), labels)):
                fail(
                    "The model outputs probabilities (softmax), but the loss treats them as "
                    "logits and applies softmax a second time. Make the loss match the output."
                )
        else:
            kind, logits = "logits (no softmax)", np.asarray(arrays["logits"])
            probabilities, value = softmax(logits), values["logits"]
            if close(value, relative=1e-3, expected=cross_entropy(logits, labels)):
                fail(
                    "The model outputs logits (no softmax), but the loss reads them as "
                    "probabilities. Make the loss match the output."
                )
        expected = cross_entropy(probabilities, labels)
        require(
            close(value, expected, relative=1e-3),
            f"The model outputs {kind}; on outputs whose cross-entropy is {expected:.4f} the "
            f"compiled loss gives {value}. The loss must be sparse categorical cross-entropy "
            "configured for what the output layer returns (see the Task 2 instructions).",
        )


@pytest.mark.cell("check_compile_model")
def test_compile_model_tracks_accuracy(observations: dict) -> None:
    for record in probe_records(observations, "compile_model").values():
        evaluation = record.get("evaluate")
        message = raised(evaluation)
        require(not message, f"evaluate() fails on the compiled model: {message}")
        accuracy = {key: value for key, value in evaluation.items() if "acc" in key.lower()}
        require(
            accuracy,
            f"evaluate() reports only {sorted(evaluation)}: compile_model does not ask for the "
            "accuracy metric.",
        )
        require(
            any(
                close(value, record["argmax_accuracy"], relative=1e-3)
                for value in accuracy.values()
            ),
            f"The metric {sorted(accuracy)} reports {list(accuracy.values())} where the "
            f"fraction of correct predictions is {record['argmax_accuracy']}: use the accuracy "
            "metric for integer labels.",
        )


# --- check_train_model: data handling --------------------------------------------------


def train_record(observations: dict) -> dict:
    record = part(observations, "train_model")
    require(
        "params" in record,
        f"train_model returned a {record['history_class']}, not the History that fit gives back.",
    )
    return record


def fit_arguments(record: dict) -> dict:
    calls = record.get("fit_calls", [])
    return calls[-1] if calls else {}


@pytest.mark.cell("check_train_model")
def test_train_model_runs_the_config_epochs(observations: dict) -> None:
    record = train_record(observations)
    wanted = record["config"]["epochs"]
    require(
        record["epochs_run"] == wanted,
        f"For config['epochs'] = {wanted}, train_model trained for {record['epochs_run']} epochs.",
    )


@pytest.mark.cell("check_train_model")
def test_train_model_uses_the_config_batch_size(observations: dict) -> None:
    record = train_record(observations)
    arguments = fit_arguments(record)
    wanted = record["config"]["batch_size"]
    if arguments:
        given = arguments.get("batch_size")
        require(
            given == wanted,
            f"For config['batch_size'] = {wanted}, train_model calls fit with batch_size="
            f"{given} (None means Keras's default of 32).",
        )


@pytest.mark.cell("check_train_model")
def test_train_model_holds_out_20_percent_for_validation(observations: dict) -> None:
    record = train_record(observations)
    validation_keys = [key for key in record["history_keys"] if key.startswith("val_")]
    require(
        validation_keys,
        f"The History records only {record['history_keys']}: train_model trains without "
        "validation data. Hold out 20% of the training images for validation.",
    )
    images, batch_size = record["images"], record["config"]["batch_size"]
    training_images = math.floor(images * (1 - VALIDATION_FRACTION))
    expected = math.ceil(training_images / batch_size)
    steps = record["params"].get("steps")
    detail = ""
    split = fit_arguments(record).get("validation_split")
    if split is not None and not math.isclose(split, VALIDATION_FRACTION):
        detail = f" fit received validation_split={split}."
    require(
        steps == expected,
        f"On {images} images at batch size {batch_size}, train_model ran {steps} batches per "
        f"epoch; holding out 20% for validation leaves {training_images} images, "
        f"{expected} batches.{detail}",
    )


@pytest.mark.cell("check_train_model")
def test_the_model_scales_pixels_to_the_unit_range(observations: dict) -> None:
    for record in probe_records(observations, "create_model").values():
        ranges = record.get("first_dense_input_range", {})
        message = raised(ranges)
        require(not message, f"Could not check how the model scales its inputs: {message}")
        black, white = ranges["black_image"], ranges["white_image"]
        scaled = np.allclose(black, [0.0, 0.0], atol=1e-3) and np.allclose(
            white, [1.0, 1.0], atol=1e-3
        )
        if scaled:
            continue
        advice = ""
        train = observations.get("train_model", {})
        pixels = fit_arguments(train).get("x_range") if isinstance(train, dict) else None
        if isinstance(pixels, list) and pixels[1] <= 1.0:
            advice = (
                " train_model scales the images before fit, but the model is later fed raw "
                "pictures (the test set, predict): the scaling belongs inside the model."
            )
        fail(
            f"A white image (all pixels 255) reaches the first Dense layer as values in "
            f"[{white[0]:g}, {white[1]:g}] and a black one as [{black[0]:g}, {black[1]:g}]: the "
            f"model created by create_model does not scale pixels to [0, 1].{advice}"
        )


# --- check_tensorflow_accuracy: retrained test accuracy ---------------------------------


@pytest.mark.cell("check_tensorflow_accuracy")
def test_tensorflow_accuracy(
    observations: dict, weights: dict[str, np.ndarray], test_data, accuracy_threshold
) -> None:
    if observations.get("accuracy") == "skipped":
        fail("Test accuracy was not measured: the probe ran without training epochs.")
    record = part(observations, "accuracy")
    manifest = record["layers"]
    try:
        training_images = load_fashion_mnist(download=False).x_train
        reference = np.asarray(record["training_predictions"])
        agreement = float(
            np.mean(predict(manifest, weights, training_images[: len(reference)]) == reference)
        )
        x_test, y_test = test_data
        test_predictions = predict(manifest, weights, x_test)
    except ValueError as error:
        fail(f"The grader cannot recompute your trained model's predictions: {error}")
    require(
        agreement >= FIDELITY_AGREEMENT,
        f"The grader's recomputation of your model agrees with its own predictions on only "
        f"{agreement:.0%} of the images: the model does something beyond its recorded Keras "
        "layers (custom layers or operations?).",
    )
    accuracy = float(np.mean(test_predictions == y_test))
    floor = accuracy_threshold("tensorflow")
    epochs = record["config"]["epochs"]
    require(
        accuracy >= floor,
        f"Retrained for {epochs} epochs on the training images with the best Adam config, your "
        f"model reaches {accuracy:.4f} test accuracy; the floor is {floor:.4f}. Check the "
        "other TensorFlow cells first: scaling, the loss pairing and the optimizer settings.",
    )
