"""Hidden checks of the PyTorch notebook: judge the probe's observations.

Each test guards one nbgrader test cell (``@pytest.mark.cell``). The probe only
records; every verdict is taken here, in the trusted process: expected values come
from this module and the probe's constants, never from the observations, and test
accuracy is computed here from the returned weights. Messages say what is wrong and
in which function, never how to write it.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.feedback import close, fail, part, raised
from autograder.checks.pytorch_model import cross_entropy, output_kind, softmax
from autograder.sandbox.probe_pytorch import (
    MODEL_PROBES,
    OPTIMIZER_PROBES,
    loss_probe_inputs,
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
        fail(f"With config['optimizer'] = {name!r}: {message}")
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
                close(value, target, relative=1e-9, absolute=1e-9)
                for value, target in zip(values, wanted, strict=True)
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
