"""The TensorFlow hidden checks fail exactly the cells a typical mistake deserves.

Each scenario is a sample submission built from the solution notebook with some
answer cells replaced. It goes through the real pipeline in subprocesses, since
this test process imports PyTorch and Keras must live in a process of its own:
the probe (``python -m autograder.sandbox.probe tensorflow ...``), then pytest on
``autograder/checks/test_tensorflow.py``. The set of failed cells must equal the
expected set. Only the reference trains (one epoch); the others skip training
and leave the accuracy cell out of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from autograder.checks.conftest import load_thresholds
from autograder.checks.tensorflow_model import dense_blocks, predict
from autograder.grade.samples import build_submission
from mlpkit.data import load_fashion_mnist
from mlpkit.notebook_code import cell_sources
from tests.autograder.scenarios import (
    Scenario,
    failed_cells,
    probe_output,
    run_checks,
    run_probe,
    solution_source,
)
from tests.conftest import REPO_ROOT

NOTEBOOK = "02-tensorflow-mlp.ipynb"
RELEASE = REPO_ROOT / "assignments" / "mlp-fashion-mnist" / NOTEBOOK
ANSWER_CELLS = ("create_model", "compile_model", "train_model")
ALL_CELLS = {
    "check_create_model",
    "check_compile_model",
    "check_train_model",
    "check_tensorflow_accuracy",
}
ONE_EPOCH_FLOOR = 0.80


def edited(grade_id: str, pattern: str, new: str) -> str:
    """A cell of the solution with every match of ``pattern`` replaced (one must exist)."""
    changed, count = re.subn(pattern, new, solution_source(NOTEBOOK, grade_id))
    if count == 0:
        raise ValueError(f"{grade_id} of the solution no longer matches {pattern!r}")
    return changed


def output_and_loss(output: str, from_logits: bool) -> dict[str, str]:
    """create_model with a softmax or logits output, compile_model with a chosen loss.

    Spelled out, so the scenarios hold whichever valid pairing the solution uses.
    """
    activation = ', activation="softmax"' if output == "softmax" else ""
    loss = f"keras.losses.SparseCategoricalCrossentropy(from_logits={from_logits})"
    return {
        "create_model": edited(
            "create_model",
            r"keras\.layers\.Dense\(10\b[^\n]*",
            f"keras.layers.Dense(10{activation}),",
        ),
        "compile_model": edited("compile_model", r"loss=[^\n]*", f"loss={loss},"),
    }


def scenarios() -> list[Scenario]:
    compile_cell = "compile_model"
    sgd_without_momentum = edited(
        compile_cell,
        r"keras\.optimizers\.SGD\([^)]*\)",
        'keras.optimizers.SGD(learning_rate=config["learning_rate"])',
    )
    return [
        Scenario("reference", train_epochs=1),
        Scenario(
            "release",
            dict(cell_sources(RELEASE, ANSWER_CELLS)),
            frozenset(ALL_CELLS),
            train_epochs=1,
        ),
        Scenario("softmax-with-default-loss", output_and_loss("softmax", from_logits=False)),
        Scenario("logits-with-from-logits", output_and_loss("logits", from_logits=True)),
        Scenario(
            "logits-without-from-logits",
            output_and_loss("logits", from_logits=False),
            frozenset({"check_compile_model"}),
        ),
        Scenario(
            "double-softmax",
            output_and_loss("softmax", from_logits=True),
            frozenset({"check_compile_model"}),
        ),
        Scenario(
            "no-rescaling",
            {"create_model": edited("create_model", r"\s*keras\.layers\.Rescaling\([^)]*\),", "")},
            frozenset({"check_train_model"}),
        ),
        Scenario(
            "no-validation-split",
            {"train_model": edited("train_model", r"\s*validation_split=0\.2,", "")},
            frozenset({"check_train_model"}),
        ),
        Scenario(
            "sgd-ignores-momentum",
            {compile_cell: sgd_without_momentum},
            frozenset({"check_compile_model"}),
        ),
        Scenario(
            "adam-ignores-betas",
            {compile_cell: edited(compile_cell, r"\s*beta_[12]=config\[\"beta_[12]\"\],", "")},
            frozenset({"check_compile_model"}),
        ),
        Scenario(
            "wrong-hidden-units",
            {"create_model": edited("create_model", r'config\["dense_3"\]', 'config["dense_2"]')},
            frozenset({"check_create_model"}),
        ),
        Scenario(
            "train-model-syntax-error",
            {"train_model": edited("train_model", r"model\.fit\(", "model.fit((")},
            frozenset({"check_train_model"}),
        ),
    ]


def reference_accuracy(output_dir: Path) -> float:
    observations, weights = probe_output(output_dir)
    dataset = load_fashion_mnist(download=False)
    predictions = predict(observations["accuracy"]["layers"], weights, dataset.x_test)
    return float(np.mean(predictions == dataset.y_test))


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda scenario: scenario.name)
def test_each_scenario_fails_exactly_its_cells(scenario: Scenario, tmp_path: Path) -> None:
    notebook = build_submission(NOTEBOOK, scenario.name, scenario.replacements, tmp_path)
    output_dir = tmp_path / "probe"
    run_probe("tensorflow", notebook, output_dir, scenario.train_epochs)
    failures = run_checks("tensorflow", output_dir, tmp_path / "report.xml")
    failed = failed_cells("tensorflow", failures)
    expected = set(scenario.failing_cells)
    if scenario.name == "reference":
        accuracy = reference_accuracy(output_dir)
        assert accuracy >= ONE_EPOCH_FLOOR, f"one epoch of the reference reaches {accuracy:.4f}"
        floor = float(load_thresholds()["cpu"]["tensorflow"]["floor"])
        if accuracy < floor:  # a calibrated floor above what one epoch reaches
            expected.add("check_tensorflow_accuracy")
    if scenario.train_epochs == 0:
        failed.discard("check_tensorflow_accuracy")
    details = "\n".join(f"{name}: {message}" for name, message in sorted(failures.items()))
    assert failed == expected, details
    for message in failures.values():
        assert "BEGIN SOLUTION" not in message and "keras.layers." not in message


def test_numpy_forward_pass_matches_the_layers_and_rejects_unknown_ones() -> None:
    generator = np.random.default_rng(0)
    weights = {
        "dense0.kernel": generator.normal(size=(784, 6)),
        "dense0.bias": generator.normal(size=6),
        "dense1.kernel": generator.normal(size=(6, 10)),
        "dense1.bias": generator.normal(size=10),
    }
    manifest = [
        {"class": "InputLayer", "name": "input"},
        {"class": "Rescaling", "name": "rescaling", "scale": 1 / 255, "offset": 0.0},
        {"class": "Flatten", "name": "flatten"},
        {
            "class": "Dense",
            "name": "hidden",
            "units": 6,
            "activation": "linear",
            "weights": "dense0",
        },
        {
            "class": "ReLU",
            "name": "relu",
            "max_value": None,
            "negative_slope": 0.0,
            "threshold": 0.0,
        },
        {
            "class": "Dense",
            "name": "output",
            "units": 10,
            "activation": "softmax",
            "weights": "dense1",
        },
    ]
    images = generator.integers(0, 256, size=(5, 28, 28)).astype("uint8")
    hidden = np.maximum(
        images.reshape(5, -1) / 255 @ weights["dense0.kernel"] + weights["dense0.bias"], 0
    )
    expected = (hidden @ weights["dense1.kernel"] + weights["dense1.bias"]).argmax(axis=1)
    assert np.array_equal(predict(manifest, weights, images), expected)
    assert dense_blocks(manifest) == [(6, "relu"), (10, "softmax")]
    custom = [*manifest[:3], {"class": "TrueDivide", "name": "true_divide"}, *manifest[3:]]
    with pytest.raises(ValueError, match="TrueDivide cannot be reproduced"):
        predict(custom, weights, images)
    with pytest.raises(ValueError, match="activation 'gelu'"):
        predict([*manifest[:5], {**manifest[5], "activation": "gelu"}], weights, images)
