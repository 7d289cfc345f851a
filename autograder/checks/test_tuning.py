"""Hidden checks of notebook 05 (hyperparameter tuning): the three search spaces.

The recorded definitions are parsed here with the same reader as ``mlpkit sweep``
and every range is compared with the original exercise's (SEED_FACTS). The
learning rate may be uniform (the original) or log-uniform (the better space),
as long as its range is 0.0001 to 0.1.
"""

from __future__ import annotations

import pytest

from mlpkit.tuning import parse_sweep

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


def _definition(observations: dict, optimizer: str):
    if "load" in observations:
        pytest.fail(f"The search_spaces cell could not run: {observations['load']['error']}")
    name = f"{optimizer}_sweep"
    record = observations.get("sweeps", {}).get(name)
    if record is None:
        pytest.fail(f"{name} was not recorded: the search_spaces cell did not define it.")
    if "error" in record:
        pytest.fail(f"{name} is not a plain dict of lists and numbers ({record['error']}).")
    try:
        return parse_sweep(record["value"], source=name)
    except ValueError as error:
        pytest.fail(f"{error}. Check it with mlpkit.tuning.parse_sweep({name}).")


@pytest.mark.cell("check_search_spaces")
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_search_space_has_the_original_ranges(observations, optimizer) -> None:
    definition = _definition(observations, optimizer)
    name = f"{optimizer}_sweep"
    assert definition.optimizer == optimizer, f"{name} must fix the optimizer to {optimizer!r}."
    assert definition.method == "bayes", f"{name}: the original ran a Bayesian search."
    assert (definition.metric, definition.goal) == ("val_loss", "minimize"), (
        f"{name}: the search must minimise the validation loss."
    )
    ranges = definition.describe()["parameters"]
    expected = {**COMMON, **OWN[optimizer]}
    searched = {key for key, spec in ranges.items() if key != "optimizer"}
    assert searched == set(expected) | {"batch_size"}, (
        f"{name} searches {sorted(searched)}; the original searched exactly "
        f"{sorted(set(expected) | {'batch_size'})} for {optimizer}."
    )
    assert sorted(ranges["batch_size"].get("values", [])) == BATCH_SIZES, (
        f"{name}: batch_size takes one of the five original values."
    )
    for key, (low, high) in expected.items():
        spec = ranges[key]
        assert "low" in spec, f"{name}: {key} should be a range (min and max), not fixed values."
        assert spec["low"] == pytest.approx(low) and spec["high"] == pytest.approx(high), (
            f"{name}: the range of {key} differs from the original's."
        )
    for key in INTEGER_KEYS:
        assert ranges[key]["kind"] in ("int_uniform", "q_uniform"), (
            f"{name}: {key} is a whole number; draw it with int_uniform."
        )
