"""Hidden checks of the PyTorch notebook's building blocks: split, model, loss, optimizer.

Each test guards one nbgrader test cell (``@pytest.mark.cell``) and judges the
driver's measurements (``autograder/measure/pytorch.py``): facts computed in
the trusted process from challenges drawn fresh for this run. Messages say what
is wrong and in which function, never how to write it.
"""

from __future__ import annotations

import pytest

from autograder.checks.architecture_feedback import problem_sentence
from autograder.checks.feedback import close, error_sentence, fail, part, require

OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}
TORCH_NAMES = {
    "learning_rate": "lr",
    "momentum": "momentum",
    "beta_1": "betas[0]",
    "beta_2": "betas[1]",
    "rho": "alpha",
}

# ---------------------------------------------------------------- split_data


def split(measurements: dict) -> dict:
    record = part(measurements, "split_data")
    if "returned" in record:
        fail(f"split_data returned {record['returned']}; return the pair (train, val).")
    if "unreadable" in record:
        fail(
            "split_data returned parts whose items the grader cannot index like a dataset "
            f"({record['unreadable']}); return two subsets of the dataset it is given."
        )
    return record


@pytest.mark.cell("check_split_data")
def test_split_data_sizes(measurements: dict) -> None:
    train_size, val_size = split(measurements)["sizes"]
    require(
        (train_size, val_size) != (12_000, 48_000),
        "split_data returned a 12,000-example part first and a 48,000-example part second: "
        "return (train, val), with val holding val_fraction of the examples.",
    )
    require(
        (train_size, val_size) == (48_000, 12_000),
        f"split_data(60,000 examples, val_fraction=0.2) returned parts of {train_size:,} and "
        f"{val_size:,} examples; expected (train, val) = (48,000, 12,000).",
    )


@pytest.mark.cell("check_split_data")
def test_split_data_follows_val_fraction(measurements: dict) -> None:
    small = split(measurements)["small"]
    train_size, val_size = small["sizes"]
    require(
        abs(val_size - small["expected_val"]) <= 1 and train_size + val_size == small["examples"],
        f"split_data({small['examples']:,} examples, val_fraction={small['val_fraction']}) "
        "returned "
        f"parts of {train_size} and {val_size}; the validation part (the second) must hold "
        "val_fraction of the examples, and the two parts all of them.",
    )


@pytest.mark.cell("check_split_data")
def test_split_data_is_disjoint(measurements: dict) -> None:
    record = split(measurements)
    require(
        record["in_range"]
        and record["overlap"] == 0
        and record["distinct"] == sum(record["sizes"]),
        f"split_data: {record['overlap']:,} examples are in both parts (or repeated within one): "
        "every example must land in exactly one part.",
    )


@pytest.mark.cell("check_split_data")
def test_split_data_is_random(measurements: dict) -> None:
    record = split(measurements)
    require(
        not record["val_is_last_part"] and not record["val_is_first_part"],
        "split_data: the validation part is a fixed slice of the dataset (its first or last "
        "20%); draw it at random.",
    )
    require(
        not record["val_is_evenly_spaced"],
        "split_data: the validation examples are evenly spaced (a stride); draw them at random.",
    )


@pytest.mark.cell("check_split_data")
def test_split_data_is_reproducible_from_the_seed(measurements: dict) -> None:
    record = split(measurements)
    require(
        record["same_seed_same_split"],
        "split_data: two calls with the same seed gave different splits. The random draw must "
        "depend on `seed` only, not on the global random state.",
    )
    require(
        record["other_seed_other_split"],
        "split_data: two different seeds gave the same split, so the seed argument is ignored.",
    )


# ---------------------------------------------------------------- create_model


@pytest.mark.cell("check_create_model")
def test_create_model_computes_the_mlp_of_the_config(measurements: dict) -> None:
    for record in part(measurements, "create_model")["probes"].values():
        if "returned" in record:
            fail(f"create_model returned {record['returned']}, not an nn.Module.")
        if "returned_outputs" in record:
            fail(f"create_model's model returned {record['returned_outputs']} instead of a tensor.")
        for problem in record["problems"]:
            fail(problem_sentence(problem, "pytorch"))
        require(record["matched"], "create_model's model differs from the task's MLP.")


# ---------------------------------------------------------------- loss_fn


def loss_mistake(case: dict) -> str:
    form, kind = case["form"], case["kind"]
    if kind and kind.endswith("_sum"):
        return "loss_fn sums over the batch; the loss is the mean over the batch."
    if form == "softmax" and kind == "nll":
        return (
            "The model ends in a softmax, so its outputs are probabilities, and loss_fn treats "
            "them as log-probabilities: the loss becomes -p instead of -log p (bounded, with "
            "vanishing gradients). Make the output layer and the loss match."
        )
    if form == "softmax" and kind == "cross_entropy":
        return (
            "The model ends in a softmax and loss_fn applies another softmax to its outputs "
            "(a double softmax). Make the output layer and the loss match."
        )
    if form == "logits" and kind == "nll":
        return (
            "The model outputs raw logits, but loss_fn treats them as log-probabilities. Make "
            "the output layer and the loss match."
        )
    return (
        f"On outputs in the model's own form ({form}), loss_fn gives {case['value']:.4f} where "
        f"their cross-entropy is {case['expected']:.4f}. Does the loss match what the model "
        "outputs?"
    )


@pytest.mark.cell("check_loss_fn")
def test_loss_matches_the_model_output(measurements: dict) -> None:
    record = part(measurements, "loss_fn")
    by_form: dict[str, list[dict]] = {}
    for case in record["cases"]:
        by_form.setdefault(case["form"], []).append(case)
    messages = []
    for cases in by_form.values():
        problem = None
        for case in cases:
            if case["value"] is None:
                problem = f"loss_fn returned {case['returned']}, not a loss (a one-element tensor)."
            elif not close(case["value"], case["expected"], relative=1e-4, absolute=1e-5):
                problem = loss_mistake(case)
            elif case["gradient"] is None:
                problem = (
                    "loss_fn's value carries no gradient back to the model's outputs, so "
                    "training cannot learn from it (is it turned into a plain number?)."
                )
            elif case["gradient"] > 1e-3:
                problem = "loss_fn's gradient is not the gradient of the loss value it reports."
            if problem:
                break
        if problem is None:
            return  # the model's own form (or, when unknown, one accepted pairing) is right
        messages.append(problem)
    fail(messages[0])


# ---------------------------------------------------------------- make_optimizer


def optimizer_record(measurements: dict, name: str) -> dict:
    record = part(measurements, "make_optimizer")["optimizers"][name]
    if "raised" in record:
        fail(f"With config['optimizer'] = {name!r}: {error_sentence(record['raised'])}")
    if "returned" in record:
        fail(
            f"make_optimizer returned {record['returned']} for {name!r}, not a torch.optim "
            "optimizer."
        )
    return record


@pytest.mark.cell("check_make_optimizer")
@pytest.mark.parametrize("name", sorted(OPTIMIZER_CLASSES))
def test_make_optimizer_steps_like_the_config(measurements: dict, name: str) -> None:
    record = optimizer_record(measurements, name)
    if record["matched"]:
        return
    reading = record["reading"]
    if reading is None:
        if any(record["unchanged_parameters"]):
            fail(
                f"make_optimizer ({name}): some parameters of the model it is given are never "
                "updated; the optimizer must cover model.parameters()."
            )
        fail(
            f"make_optimizer ({name}): its steps match no SGD, Adam or RMSprop update with the "
            "config's hyperparameters (or PyTorch's defaults). Pass exactly the config's values."
        )
    if reading["kind"] != name:
        fail(
            f"make_optimizer: config['optimizer'] = {name!r} gave an optimizer that steps like "
            f"torch.optim.{OPTIMIZER_CLASSES[reading['kind']]}, not {OPTIMIZER_CLASSES[name]}."
        )
    left = ", ".join(f"{TORCH_NAMES[key]} (config[{key!r}])" for key in record["defaults"])
    fail(f"make_optimizer ({name}): {left} keep PyTorch's default instead of the config's value.")
