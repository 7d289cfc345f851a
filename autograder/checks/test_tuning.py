"""Hidden checks of notebook 05 (hyperparameter tuning): the three search spaces.

The driver parsed each definition with the reader ``mlpkit sweep`` uses, in the
trusted process; here every range is compared with the original exercise's
(SEED_FACTS). The learning rate may be uniform (the original) or log-uniform,
as long as its range is 0.0001 to 0.1.
"""

from __future__ import annotations

import math

import pytest

from autograder.checks.feedback import fail, part, require

COMMON = {
    "epochs": (15, 50),
    "dense_1": (256, 512),
    "dense_2": (128, 256),
    "dense_3": (128, 256),
    "dense_4": (32, 128),
    "learning_rate": (0.0001, 0.1),
}
OWN = {
    "sgd": {"momentum": (0.0, 0.9)},
    "adam": {"beta_1": (0.9, 0.999), "beta_2": (0.99, 0.9999)},
    "rmsprop": {"momentum": (0.0, 0.9), "rho": (0.8, 0.999)},
}
BATCH_SIZES = [16, 32, 64, 128, 256]
INTEGER_KEYS = ("epochs", "dense_1", "dense_2", "dense_3", "dense_4")


def definition(measurements: dict, optimizer: str) -> dict:
    name = f"{optimizer}_sweep"
    record = part(measurements, "search_spaces")["sweeps"][name]
    state = record["state"]
    if state == "missing":
        fail(f"{name} was not defined: the search_spaces cell must bind it.")
    if state == "unreadable":
        fail(f"{name} is not plain data (dicts, lists, strings, numbers): {record['message']}")
    if state == "invalid":
        fail(f"{record['message']}. Check it with mlpkit.tuning.parse_sweep({name}).")
    return record


@pytest.mark.cell("check_search_spaces")
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_search_space_has_the_original_ranges(measurements, optimizer) -> None:
    record = definition(measurements, optimizer)
    name = f"{optimizer}_sweep"
    require(record["optimizer"] == optimizer, f"{name} must fix the optimizer to {optimizer!r}.")
    require(record["method"] == "bayes", f"{name}: the original ran a Bayesian search.")
    require(
        (record["metric"], record["goal"]) == ("val_loss", "minimize"),
        f"{name}: the search must minimise the validation loss.",
    )
    ranges = record["parameters"]
    expected = {**COMMON, **OWN[optimizer]}
    searched = {key for key in ranges if key != "optimizer"}
    wanted = set(expected) | {"batch_size"}
    require(
        searched == wanted,
        f"{name} searches {sorted(searched)}; the original searched exactly {sorted(wanted)} "
        f"for {optimizer}.",
    )
    require(
        sorted(ranges["batch_size"].get("values", [])) == BATCH_SIZES,
        f"{name}: batch_size takes one of the five original values.",
    )
    for key, (low, high) in expected.items():
        spec = ranges[key]
        require("low" in spec, f"{name}: {key} should be a range (min and max), not fixed values.")
        require(
            math.isclose(spec["low"], low, rel_tol=1e-9, abs_tol=1e-12)
            and math.isclose(spec["high"], high, rel_tol=1e-9, abs_tol=1e-12),
            f"{name}: the range of {key} differs from the original's.",
        )
    for key in INTEGER_KEYS:
        require(
            ranges[key]["kind"] in ("int_uniform", "q_uniform"),
            f"{name}: {key} is a whole number; draw it with int_uniform.",
        )
