"""Hidden checks of the TensorFlow notebook: model, compile, training, retrained accuracy.

They judge ``autograder/measure/tensorflow*.py``'s measurements: the model by
what it computes on fresh uint8 images, the optimizer by its steps on challenge
gradients, the loss on challenge outputs, the metric against the grader's own
count, ``train_model`` by what the grader's linear model learned, and the
accuracy of the grader's retrain of the identified spec. Messages say what is
wrong and in which function, never how to write it.
"""

from __future__ import annotations

import pytest

from autograder.checks.architecture_feedback import problem_sentence
from autograder.checks.feedback import error_sentence, fail, part, require

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}


@pytest.mark.cell("check_create_model")
def test_create_model_computes_the_mlp_of_the_config(measurements: dict) -> None:
    for record in part(measurements, "create_model")["probes"].values():
        if "returned" in record:
            fail(f"create_model returned {record['returned']}, not a keras.Model.")
        for problem in record["problems"]:
            fail(problem_sentence(problem, "tensorflow"))
        require(record["matched"], "create_model's model differs from the task's MLP.")


def compiled(measurements: dict) -> dict:
    record = part(measurements, "compile_model")
    for optimizer in record["optimizers"].values():
        if "raised" in optimizer:
            fail(error_sentence(optimizer["raised"]))
    return record


@pytest.mark.cell("check_compile_model")
def test_compile_model_uses_the_config_optimizer(measurements: dict) -> None:
    for name, optimizer in compiled(measurements)["optimizers"].items():
        if optimizer["matched"]:
            continue
        reading = optimizer["reading"]
        if reading is None:
            fail(
                f"With config['optimizer'] = {name!r}, the compiled optimizer's steps match no "
                "SGD, Adam or RMSprop update with the config's hyperparameters (or Keras' "
                "defaults). Pass exactly the config's values."
            )
        if reading["kind"] != name:
            fail(
                f"For config['optimizer'] = {name!r}, compile_model gives the model an optimizer "
                f"that steps like {OPTIMIZERS[reading['kind']]}."
            )
        keys = ", ".join(optimizer["defaults"])
        fail(
            f"With optimizer {name!r}, {keys} keep Keras' default instead of the config's value. "
            f"Pass every hyperparameter that {name} uses from the config."
        )


def loss_problem(cases: list[dict]) -> str | None:
    """What is wrong with the compiled loss on outputs of one form (None: nothing)."""
    for case in cases:
        if case["value"] is None:
            return "The compiled loss does not give a number for integer labels and 10 outputs."
        if case["kind"] == case["correct_kind"]:
            continue
        if case["form"] == "softmax" and case["kind"] == "from_logits":
            return (
                "The model outputs probabilities (softmax), but the loss treats them as logits "
                "and applies softmax a second time. Make the loss match the output."
            )
        if case["form"] == "logits" and case["kind"] == "probabilities":
            return (
                "The model outputs logits (no softmax), but the loss reads them as "
                "probabilities. Make the loss match the output."
            )
        return (
            f"The model outputs {case['form']}; on such outputs whose cross-entropy is "
            f"{case['expected']:.4f} the compiled loss gives {case['value']:.4f}. The loss must "
            "be sparse categorical cross-entropy configured for what the output layer returns."
        )
    return None


@pytest.mark.cell("check_compile_model")
def test_compile_model_loss_matches_the_output_layer(measurements: dict) -> None:
    by_form: dict[str, list[dict]] = {}
    for case in compiled(measurements)["loss"]["cases"]:
        by_form.setdefault(case["form"], []).append(case)
    problems = [loss_problem(cases) for cases in by_form.values()]
    if None not in problems:  # the model's own form (or, when unknown, either) is right
        fail(problems[0])


@pytest.mark.cell("check_compile_model")
def test_compile_model_tracks_accuracy(measurements: dict) -> None:
    metric = compiled(measurements)["metric"]
    reported = metric["reported"]
    accuracy_keys = [key for key in reported if "acc" in key.lower()]
    require(
        accuracy_keys,
        f"evaluate() reports only {sorted(reported)}: compile_model does not ask for the "
        "accuracy metric.",
    )
    require(
        metric["matching"],
        f"The metric {accuracy_keys} reports {[reported[key] for key in accuracy_keys]} where "
        f"the fraction of correct predictions is {metric['expected_accuracy']:.4f}: use the "
        "accuracy metric for integer labels.",
    )


def training(measurements: dict) -> dict:
    return part(measurements, "train_model")["check"]


@pytest.mark.cell("check_train_model")
def test_train_model_returns_the_history(measurements: dict) -> None:
    record = training(measurements)
    require(
        record["returned_type"] == "History" and record["history_keys"],
        f"train_model returned a {record['returned_type']}, not the History that fit gives back.",
    )


@pytest.mark.cell("check_train_model")
def test_train_model_trains_the_compiled_model_as_given(measurements: dict) -> None:
    record = training(measurements)
    require(
        record["untouched_by_loss"],
        "train_model changed how the model is compiled (its loss or optimizer): it must train "
        "the model compile_model compiled, as it is.",
    )
    require(
        record["input_scale"] != 1 / 255,
        "train_model divides the images by 255 before training, but the model scales them "
        "itself: the pixels are scaled twice. Pass the images to fit as they are.",
    )


@pytest.mark.cell("check_train_model")
def test_train_model_holds_out_20_percent_for_validation(measurements: dict) -> None:
    record = training(measurements)
    trained, examples = record["trained_examples"], record["examples"]
    require(
        trained != examples,
        f"train_model trained on all {examples} images: hold out 20% for validation.",
    )
    require(
        abs(trained - record["expected_trained"]) <= 1,
        f"Of {examples} images, train_model trained on {trained} ({trained / examples:.0%}); "
        "holding out 20% for validation leaves 80%.",
    )


@pytest.mark.cell("check_train_model")
def test_train_model_uses_the_config_epochs_and_batch_size(measurements: dict) -> None:
    record = training(measurements)
    config = record["config"]
    require(
        record["epochs"] is not None,
        "train_model did not train in whole epochs of one batch size over the training images "
        "(or skipped some of them).",
    )
    require(
        record["epochs"] == config["epochs"],
        f"For config['epochs'] = {config['epochs']}, train_model trained {record['epochs']} "
        "epochs.",
    )
    require(
        record["batch_size"] == config["batch_size"],
        f"For config['batch_size'] = {config['batch_size']}, train_model trained in batches of "
        f"{record['batch_size']} (Keras' default is 32).",
    )


@pytest.mark.cell("check_tensorflow_accuracy")
def test_tensorflow_accuracy(measurements: dict) -> None:
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
        f"training images, as your create_model, compile_model and train_model do it), your "
        f"model reaches {accuracy:.4f} test accuracy; the floor is {floor:.4f}. Check the other "
        "TensorFlow cells first: scaling, the loss pairing and the optimizer settings.",
    )
