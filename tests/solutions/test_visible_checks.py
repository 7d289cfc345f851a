"""The release notebooks' quick checks catch the usual mistakes, each with its own message.

Each scenario runs a release notebook with every stub filled by the solution's answer
and one answer replaced by a typical mistake (``tests/solutions/release_runner.py``),
top to bottom until the check that must catch it (skipping the other check cells it
does not need), and asserts that this check is the first cell to fail and that its
message points at the mistake. The reference answers
themselves must pass every check. One subprocess per framework runs all of its
scenarios (one framework per process, and the imports are paid once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.conftest import REPO_ROOT

TENSORFLOW = "02-tensorflow-mlp.ipynb"
PYTORCH = "03-pytorch-mlp.ipynb"
RUNNER_SECONDS = 900


@dataclass(frozen=True)
class Scenario:
    """A release notebook with one mistake, and the check that must catch it."""

    name: str
    notebook: str
    until: str
    replacements: dict[str, tuple[str, str]] = field(default_factory=dict)
    failing_cell: str | None = None
    message: str = ""
    only: tuple[str, ...] = ()
    preamble: str = ""

    @property
    def checks(self) -> list[str] | None:
        """The earlier check cells this scenario needs: none for a mistake (its target
        alone runs, which keeps CI time down), except where the target reuses an
        earlier check's objects; every check for the reference answers."""
        if self.failing_cell is None:
            return None
        return list(CHECK_DEPENDENCIES.get(self.failing_cell, ()))

    @property
    def process(self) -> str:
        """Which subprocess runs it: Keras never shares one with PyTorch."""
        return "tensorflow" if self.notebook == TENSORFLOW else "other"

    def spec(self) -> dict:
        return {
            "name": self.name,
            "notebook": self.notebook,
            "until": self.until,
            "replacements": {key: list(value) for key, value in self.replacements.items()},
            "only": list(self.only),
            "preamble": self.preamble,
            "checks": self.checks,
        }


CHECK_DEPENDENCIES = {
    # 03's evaluate and fit checks reuse the model, loaders and data check_train_epoch built.
    "check_evaluate": ("check_train_epoch",),
    "check_fit": ("check_train_epoch",),
}

DENSE_UNITS = {
    "create_model": (
        'config["dense_1"], activation="relu"),\n            keras.layers.Dense(config["dense_2"]',
        '485, activation="relu"),\n            keras.layers.Dense(176',
    )
}

SCENARIOS = [
    # 01: data exploration
    Scenario("01 reference answers", "01-data-exploration.ipynb", "check_class_counts"),
    Scenario(
        "01 counts without minlength",
        "01-data-exploration.ipynb",
        "check_class_counts",
        {"class_counts": ("np.bincount(np.asarray(labels), minlength=10)", "np.bincount(labels)")},
        "check_class_counts",
        "Labels [2, 2] gave 3 counts: return all 10",
    ),
    # 02: Keras
    Scenario("02 reference answers", TENSORFLOW, "check_train_model"),
    Scenario(
        "02 softmax output with from_logits=False (valid)",
        TENSORFLOW,
        "check_compile_model",
        {
            "create_model": (
                "keras.layers.Dense(10),",
                'keras.layers.Dense(10, activation="softmax"),',
            ),
            "compile_model": ("from_logits=True", "from_logits=False"),
        },
    ),
    Scenario(
        "02 units not taken from config",
        TENSORFLOW,
        "check_create_model",
        DENSE_UNITS,
        "check_create_model",
        "must take their sizes from config['dense_1']",
    ),
    Scenario(
        "02 unscaled pixels",
        TENSORFLOW,
        "check_create_model",
        {"create_model": ("keras.layers.Rescaling(1.0 / 255),", "")},
        "check_create_model",
        "must scale them to [0, 1] itself",
    ),
    Scenario(
        "02 softmax output with from_logits=True",
        TENSORFLOW,
        "check_compile_model",
        {
            "create_model": (
                "keras.layers.Dense(10),",
                'keras.layers.Dense(10, activation="softmax"),',
            )
        },
        "check_compile_model",
        "Your model outputs probabilities, but on confident probabilities your loss gives",
    ),
    Scenario(
        "02 logits with from_logits=False",
        TENSORFLOW,
        "check_compile_model",
        {"compile_model": ("from_logits=True", "from_logits=False")},
        "check_compile_model",
        "it reads them as probabilities",
    ),
    Scenario(
        "02 optimizer ignores its config",
        TENSORFLOW,
        "check_compile_model",
        {"compile_model": ('momentum=config["momentum"]\n', "momentum=0.9\n")},
        "check_compile_model",
        "config['momentum'] = 0.345 but the optimizer's momentum is 0.9",
    ),
    Scenario(
        "02 a 10% validation split",
        TENSORFLOW,
        "check_train_model",
        {"train_model": ("validation_split=0.2", "validation_split=0.1")},
        "check_train_model",
        "Check validation_split and batch_size",
    ),
    Scenario(
        "02 validation on the first 20%",
        TENSORFLOW,
        "check_train_model",
        {
            "train_model": (
                "x_train,\n        y_train,\n",
                "x_train[len(x_train) // 5 :],\n        y_train[len(y_train) // 5 :],\n"
                "        validation_data=(x_train[: len(x_train) // 5], "
                "y_train[: len(y_train) // 5]),\n",
            )
        },
        "check_train_model",
        "validate on the last 20%",
    ),
    Scenario(
        "02 train_model scales the images again",
        TENSORFLOW,
        "check_train_model",
        {"train_model": ("x_train,\n        y_train,\n", "x_train / 255.0,\n        y_train,\n")},
        "check_train_model",
        "train_model scaled the images before fit",
    ),
    Scenario(
        "02 train_model compiles again",
        TENSORFLOW,
        "check_train_model",
        {
            "train_model": (
                "return model.fit(",
                'model.compile(optimizer="adam", loss=model.loss, metrics=["accuracy"])\n'
                "    return model.fit(",
            )
        },
        "check_train_model",
        "train_model compiled the model again",
    ),
    # 03: PyTorch
    Scenario("03 reference answers", PYTORCH, "check_fit"),
    Scenario(
        "03 LogSoftmax output with NLLLoss (valid)",
        PYTORCH,
        "check_fit",
        {
            "create_model": (
                "layers.append(nn.Linear(sizes[-1], 10))",
                "layers += [nn.Linear(sizes[-1], 10), nn.LogSoftmax(dim=1)]",
            ),
            "loss_fn": ("nn.CrossEntropyLoss()", "nn.NLLLoss()"),
        },
    ),
    Scenario(
        "03 split ignores val_fraction",
        PYTORCH,
        "check_split_data",
        {"split_data": ("len(dataset) * val_fraction", "len(dataset) * 0.2")},
        "check_split_data",
        "use val_fraction, not a fixed 20%",
    ),
    Scenario(
        "03 units not taken from config",
        PYTORCH,
        "check_create_model",
        {"create_model": ('config["dense_1"], config["dense_2"]', "485, 176")},
        "check_create_model",
        "the hidden sizes come from config['dense_1']",
    ),
    Scenario(
        "03 a hidden layer without ReLU",
        PYTORCH,
        "check_create_model",
        {
            "create_model": (
                "layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]",
                "layers += [nn.Linear(fan_in, fan_out)]",
            )
        },
        "check_create_model",
        "needs a ReLU after it",
    ),
    Scenario(
        "03 softmax output with NLLLoss",
        PYTORCH,
        "check_loss_fn",
        {
            "create_model": (
                "layers.append(nn.Linear(sizes[-1], 10))",
                "layers += [nn.Linear(sizes[-1], 10), nn.Softmax(dim=1)]",
            ),
            "loss_fn": ("nn.CrossEntropyLoss()", "nn.NLLLoss()"),
        },
        "check_loss_fn",
        "create_model ends in a softmax",
    ),
    Scenario(
        "03 logits with NLLLoss",
        PYTORCH,
        "check_loss_fn",
        {"loss_fn": ("nn.CrossEntropyLoss()", "nn.NLLLoss()")},
        "check_loss_fn",
        "Your model outputs logits; on confident logits loss_fn gives",
    ),
    Scenario(
        "03 missing zero_grad",
        PYTORCH,
        "check_train_epoch",
        {"train_epoch": ("        optimizer.zero_grad()\n", "")},
        "check_train_epoch",
        "Zero the gradients once per batch",
    ),
    Scenario(
        "03 missing step",
        PYTORCH,
        "check_train_epoch",
        {"train_epoch": ("        optimizer.step()\n", "")},
        "check_train_epoch",
        "train_epoch took 0 optimizer steps",
    ),
    Scenario(
        "03 train_epoch counts every batch as a full one",
        PYTORCH,
        "check_train_epoch",
        {
            "train_epoch": (
                "total_loss += loss.detach() * len(labels)",
                "total_loss += loss.detach() * 32",
            )
        },
        "check_train_epoch",
        "weight each batch by its size",
    ),
    Scenario(
        "03 evaluate without eval()",
        PYTORCH,
        "check_evaluate",
        {"evaluate": ("    model.eval()\n", "")},
        "check_evaluate",
        "evaluate ran the model in training mode",
    ),
    Scenario(
        "03 evaluate without no_grad",
        PYTORCH,
        "check_evaluate",
        {"evaluate": ("with torch.no_grad():", "if True:")},
        "check_evaluate",
        "evaluate tracked gradients",
    ),
    Scenario(
        "03 fit counts epochs from 0",
        PYTORCH,
        "check_fit",
        {"fit": ("range(1, epochs + 1)", "range(epochs)")},
        "check_fit",
        "count epochs from 1",
    ),
    Scenario(
        "03 fit records the training figures as validation",
        PYTORCH,
        "check_fit",
        {"fit": ("evaluate(model, val_loader,", "evaluate(model, train_loader,")},
        "check_fit",
        "record evaluate(model, val_loader, ...) each epoch",
    ),
    # 04 and 05: only the graded cells (04's set-up needs saved results)
    Scenario(
        "04 reference answer",
        "04-framework-comparison.ipynb",
        "",
        only=("generalisation_gap", "check_generalisation_gap"),
        preamble="import numpy as np\nimport mlpkit",
    ),
    Scenario(
        "04 gap the wrong way round",
        "04-framework-comparison.ipynb",
        "",
        {
            "generalisation_gap": (
                'metrics["train_accuracy"] - metrics["val_accuracy"]',
                'metrics["val_accuracy"] - metrics["train_accuracy"]',
            )
        },
        "check_generalisation_gap",
        "the gap is 0.04",
        only=("generalisation_gap", "check_generalisation_gap"),
        preamble="import numpy as np\nimport mlpkit",
    ),
    Scenario(
        "05 reference answers",
        "05-hyperparameter-tuning.ipynb",
        "",
        only=("setup", "search_spaces", "check_search_spaces"),
    ),
]


def _run(process: str, tmp_path_factory) -> dict[str, dict]:
    scenarios = [scenario.spec() for scenario in SCENARIOS if scenario.process == process]
    work = tmp_path_factory.mktemp(f"release-{process}")
    environment = {
        **os.environ,
        "MLPKIT_PROFILE": "class",
        "MLPKIT_RESULTS_DIR": str(work / "results"),
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(REPO_ROOT),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tests.solutions.release_runner"],
        input=json.dumps(scenarios),
        capture_output=True,
        text=True,
        cwd=work,
        env=environment,
        timeout=RUNNER_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    reports = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {report["name"]: report for report in reports}


@pytest.fixture(scope="module")
def tensorflow_reports(tmp_path_factory) -> dict[str, dict]:
    return _run("tensorflow", tmp_path_factory)


@pytest.fixture(scope="module")
def other_reports(tmp_path_factory) -> dict[str, dict]:
    return _run("other", tmp_path_factory)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_quick_check_catches_the_mistake(scenario: Scenario, request) -> None:
    reports = request.getfixturevalue(f"{scenario.process}_reports")
    report = reports[scenario.name]
    if scenario.failing_cell is None:
        assert report["failed_cell"] is None, (
            f"the reference answers fail {report['failed_cell']}: {report['message']}\n"
            f"{report.get('traceback', '')}"
        )
        return
    assert report["failed_cell"] == scenario.failing_cell, (
        f"expected {scenario.failing_cell} to fail first; got {report['failed_cell']} "
        f"({report['error']}: {report['message']})\n{report.get('traceback', '')}"
    )
    assert report["error"] == "AssertionError", report.get("traceback")
    assert scenario.message in report["message"], report["message"]
