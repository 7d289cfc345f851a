"""The PyTorch hidden checks fail exactly the cells a typical mistake deserves.

Each scenario is a sample submission built from the solution notebook with some
answer cells replaced. It goes through the real pipeline in subprocesses, as the
grader runs it: the probe (``python -m autograder.sandbox.probe pytorch ...``), then
pytest on ``autograder/checks/test_pytorch.py``. The set of failed cells must equal
the expected set. The reference trains one epoch and the release stubs try to;
the mistakes skip training (``--train-epochs 0``) and leave the accuracy cell out
of the comparison. All runs start together, from one module-scoped fixture.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from autograder.checks.conftest import load_thresholds
from autograder.checks.pytorch_model import forward, predict
from autograder.grade.samples import build_submission
from autograder.sandbox.probe_pytorch import MODEL_PROBES, probe_images
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

NOTEBOOK = "03-pytorch-mlp.ipynb"
RELEASE = REPO_ROOT / "assignments" / "mlp-fashion-mnist" / NOTEBOOK
ANSWER_CELLS = ("split_data", "create_model", "loss_fn", "make_optimizer")
ANSWER_CELLS += ("train_epoch", "evaluate", "fit")
ALL_CELLS = {f"check_{name}" for name in ANSWER_CELLS} | {"check_pytorch_accuracy"}
ONE_EPOCH_FLOOR = 0.80
ORIGINAL_RANGES = {"dense_1": (256, 512), "dense_2": (128, 256)}
ORIGINAL_RANGES |= {"dense_3": (128, 256), "dense_4": (32, 128)}
OUTPUT_LINE = "layers.append(nn.Linear(sizes[-1], 10))"
EVALUATE_THAT_TRAINS = '''
def evaluate(model, loader, loss_fn, device):
    """Return (mean loss, accuracy) of ``model`` on ``loader`` without changing it."""
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    total_loss, correct, count = 0.0, 0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        count += len(labels)
    return total_loss / count, correct / count
'''
SPLIT_THAT_SLICES = '''
def split_data(dataset, val_fraction=0.2, seed=42):
    """Return (train_subset, val_subset): a disjoint random split of ``dataset``."""
    val_size = int(round(len(dataset) * val_fraction))
    train_size = len(dataset) - val_size
    return (
        torch.utils.data.Subset(dataset, range(train_size)),
        torch.utils.data.Subset(dataset, range(train_size, len(dataset))),
    )
'''


def edited(grade_id: str, old: str, new: str) -> dict[str, str]:
    """The solution's cell with one fragment replaced (which must be there)."""
    source = solution_source(NOTEBOOK, grade_id)
    if old not in source:
        raise ValueError(f"{grade_id} of the solution no longer contains {old!r}")
    return {grade_id: source.replace(old, new)}


def output_layer(module: str) -> dict[str, str]:
    """create_model ending in ``module`` (for example ``nn.Softmax(dim=1)``)."""
    return edited("create_model", OUTPUT_LINE, f"{OUTPUT_LINE}\n    layers.append({module})")


def loss(expression: str) -> dict[str, str]:
    return edited("loss_fn", "nn.CrossEntropyLoss()", expression)


def scenarios() -> list[Scenario]:
    betas = '            betas=(config["beta_1"], config["beta_2"]),\n'
    return [
        Scenario(
            "softmax-with-nll",
            {**output_layer("nn.Softmax(dim=1)"), **loss("nn.NLLLoss()")},
            frozenset({"check_loss_fn"}),
        ),
        Scenario("double-softmax", output_layer("nn.Softmax(dim=1)"), frozenset({"check_loss_fn"})),
        Scenario(
            "logsoftmax-with-nll", {**output_layer("nn.LogSoftmax(dim=1)"), **loss("nn.NLLLoss()")}
        ),
        Scenario("logsoftmax-with-cross-entropy", output_layer("nn.LogSoftmax(dim=1)")),
        Scenario(
            "logsoftmax-over-the-batch",
            {**output_layer("nn.LogSoftmax(dim=0)"), **loss("nn.NLLLoss()")},
            frozenset({"check_create_model", "check_loss_fn"}),
        ),
        Scenario(
            "no-zero-grad",
            edited("train_epoch", "        optimizer.zero_grad()\n", ""),
            frozenset({"check_train_epoch"}),
        ),
        Scenario(
            "train-epoch-without-train-mode",
            edited("train_epoch", "    model.train()\n", ""),
            frozenset({"check_train_epoch"}),
        ),
        Scenario(
            "evaluate-tracks-gradients",
            edited("evaluate", "with torch.no_grad():", "if True:"),
            frozenset({"check_evaluate"}),
        ),
        Scenario(
            "evaluate-changes-weights",
            {"evaluate": EVALUATE_THAT_TRAINS},
            frozenset({"check_evaluate"}),
        ),
        Scenario(
            "split-not-random", {"split_data": SPLIT_THAT_SLICES}, frozenset({"check_split_data"})
        ),
        Scenario(
            "wrong-split-size",
            edited(
                "split_data",
                "[len(dataset) - val_size, val_size]",
                "[val_size, len(dataset) - val_size]",
            ),
            frozenset({"check_split_data"}),
        ),
        Scenario(
            "adam-ignores-betas",
            edited("make_optimizer", betas, ""),
            frozenset({"check_make_optimizer"}),
        ),
        Scenario(
            "wrong-hidden-units",
            edited("create_model", 'config["dense_2"]', 'config["dense_1"]'),
            frozenset({"check_create_model"}),
        ),
    ]


def accuracy_of(output_dir: Path) -> float:
    observations, weights = probe_output(output_dir)
    dataset = load_fashion_mnist(download=False)
    predictions = predict(observations["accuracy"]["manifest"], weights, dataset.x_test)
    return float(np.mean(predictions == dataset.y_test))


@dataclass(frozen=True)
class Run:
    """One sample submission after the probe and the checks: its output folder and failures."""

    output_dir: Path
    failures: dict[str, str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future[Run]]:
    """Every sample submission probed and checked, several at once.

    Each run is two subprocesses that spend most of their time importing, so
    running them side by side divides this module's time by about the core count.
    A test reads its own run's result, which re-raises that run's own failure.
    """
    folder = tmp_path_factory.mktemp("pytorch-submissions")
    release = Scenario("release", dict(cell_sources(RELEASE, ANSWER_CELLS)), train_epochs=1)
    every = [Scenario("reference", train_epochs=1), release, *scenarios()]

    def run(scenario: Scenario) -> Run:
        notebook = build_submission(NOTEBOOK, scenario.name, scenario.replacements, folder)
        output_dir = folder / scenario.name
        run_probe("pytorch", notebook, output_dir, scenario.train_epochs)
        return Run(output_dir, run_checks("pytorch", output_dir, folder / f"{scenario.name}.xml"))

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return {scenario.name: pool.submit(run, scenario) for scenario in every}


def test_reference_passes_every_check(runs: dict[str, Future[Run]]) -> None:
    reference = runs["reference"].result()
    accuracy = accuracy_of(reference.output_dir)
    assert accuracy >= ONE_EPOCH_FLOOR, f"one epoch of the reference reaches {accuracy:.4f}"
    expected = set()
    if accuracy < float(load_thresholds()["cpu"]["pytorch"]["floor"]):
        expected.add("check_pytorch_accuracy")  # a calibrated floor above one epoch's reach
    assert failed_cells("pytorch", reference.failures) == expected, reference.failures


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda scenario: scenario.name)
def test_each_scenario_fails_exactly_its_cells(
    scenario: Scenario, runs: dict[str, Future[Run]]
) -> None:
    failures = runs[scenario.name].result().failures
    failed = failed_cells("pytorch", failures)
    if scenario.train_epochs == 0:
        assert "check_pytorch_accuracy" in failed
        assert "not trained" in failures["test_pytorch_accuracy"]
        failed.discard("check_pytorch_accuracy")
    details = "\n".join(f"{name}: {message}" for name, message in sorted(failures.items()))
    assert failed == set(scenario.failing_cells), details
    for message in failures.values():
        assert "BEGIN SOLUTION" not in message and "nn.Linear(" not in message


def test_release_stubs_fail_every_cell_naming_the_function_and_the_error(
    runs: dict[str, Future[Run]],
) -> None:
    """The untouched release scores nothing, and the feedback says which function raised what.

    It is probed with one training epoch, so the accuracy run meets the stubs too.
    """
    failures = runs["release"].result().failures
    assert failed_cells("pytorch", failures) == ALL_CELLS, failures
    for function in ANSWER_CELLS:
        messages = [message for name, message in failures.items() if function in message]
        assert any("NotImplementedError" in message for message in messages), function
    assert "its cell raised NotImplementedError" in failures["test_loss_matches_the_model_output"]


def test_numpy_forward_pass_matches_torch_on_the_trained_reference(
    runs: dict[str, Future[Run]],
) -> None:
    output_dir = runs["reference"].result().output_dir
    observations, weights = probe_output(output_dir)
    outputs = forward(observations["accuracy"]["manifest"], weights, probe_images())
    np.testing.assert_allclose(outputs, observations["accuracy"]["fidelity_outputs"], atol=1e-4)


def test_numpy_forward_pass_reproduces_layers_and_rejects_unknown_ones() -> None:
    generator = np.random.default_rng(0)
    weights = {
        "layer0.weight": generator.normal(size=(6, 784)),
        "layer0.bias": generator.normal(size=6),
        "layer1.weight": generator.normal(size=(10, 6)),
        "layer1.bias": generator.normal(size=10),
    }
    linear = {"type": "Linear", "bias": True}
    layers = [
        {"type": "Flatten", "start_dim": 1, "end_dim": -1},
        {**linear, "in_features": 784, "out_features": 6, "parameters": "layer0"},
        {"type": "ReLU"},
        {**linear, "in_features": 6, "out_features": 10, "parameters": "layer1"},
        {"type": "LogSoftmax", "dim": 1},
    ]
    images = generator.integers(0, 256, size=(5, 28, 28)).astype("uint8")
    hidden = np.maximum(
        images.reshape(5, -1) / 255 @ weights["layer0.weight"].T + weights["layer0.bias"], 0
    )
    logits = hidden @ weights["layer1.weight"].T + weights["layer1.bias"]
    assert np.array_equal(predict({"layers": layers}, weights, images), logits.argmax(axis=1))
    log_probabilities = forward({"layers": layers}, weights, images)
    np.testing.assert_allclose(np.exp(log_probabilities).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="'BatchNorm1d' layer cannot be reproduced"):
        predict({"layers": [*layers[:2], {"type": "BatchNorm1d"}, *layers[2:]]}, weights, images)
    with pytest.raises(ValueError, match="dim=0"):
        predict({"layers": [*layers[:4], {"type": "Softmax", "dim": 0}]}, weights, images)
    with pytest.raises(ValueError, match="no layers"):
        predict({}, weights, images)


def test_probe_configs_lie_in_the_original_ranges() -> None:
    for units in MODEL_PROBES.values():
        for key, (low, high) in ORIGINAL_RANGES.items():
            assert low <= units[key] <= high, (key, units[key])
