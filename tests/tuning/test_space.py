"""Sweep files to optuna: every distribution, the metric, the method and early stopping."""

from __future__ import annotations

import math

import optuna
import pytest
import yaml

from mlpkit.tuning import load_sweep, make_pruner, make_sampler, parse_sweep
from tests.conftest import REPO_ROOT

SWEEPS_DIR = REPO_ROOT / "sweeps"
# SEED_FACTS: the original's ranges, identical for the three optimizers.
COMMON = {
    "epochs": (15, 50),
    "dense_1": (256, 512),
    "dense_2": (128, 256),
    "dense_3": (128, 256),
    "dense_4": (32, 128),
}
EXTRA = {
    "sgd": {"momentum": (0.0, 0.9)},
    "adam": {"beta_1": (0.9, 0.999), "beta_2": (0.99, 0.9999)},
    "rmsprop": {"momentum": (0.0, 0.9), "rho": (0.8, 0.999)},
}


def minimal(**parameters) -> dict:
    """A valid sweep document; ``parameters`` override or add entries."""
    base = {
        "optimizer": {"value": "adam"},
        "learning_rate": {"min": 0.001, "max": 0.01},
        "batch_size": {"values": [32, 64]},
        "epochs": {"value": 1},
        "dense_1": {"min": 8, "max": 16},
        "dense_2": {"value": 8},
        "dense_3": {"value": 8},
        "dense_4": {"value": 8},
    }
    return {
        "method": "random",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {**base, **parameters},
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
@pytest.mark.parametrize("variant", ["", "-loguniform"])
def test_course_sweep_files_hold_the_original_ranges(optimizer, variant) -> None:
    path = SWEEPS_DIR / f"{optimizer}{variant}.yaml"
    definition = load_sweep(path)
    document = yaml.safe_load(path.read_text())
    # What `wandb sweep` needs: the W&B keys, and a command that runs one trial.
    assert document["program"] == "mlpkit/tuning/wandb_trial.py"
    assert (REPO_ROOT / document["program"]).is_file()
    assert "mlpkit.tuning.wandb_trial" in document["command"]
    assert "${args}" in document["command"]
    assert (definition.method, definition.metric, definition.direction) == (
        "bayes",
        "val_loss",
        "minimize",
    )
    assert definition.run_cap == 50 and definition.optimizer == optimizer
    ranges = definition.describe()["parameters"]
    assert ranges["batch_size"]["values"] == [16, 32, 64, 128, 256]
    for name, (low, high) in {**COMMON, **EXTRA[optimizer]}.items():
        assert (ranges[name]["low"], ranges[name]["high"]) == (low, high), name
    learning_rate = ranges["learning_rate"]
    assert (learning_rate["low"], learning_rate["high"]) == (0.0001, 0.1)
    assert learning_rate["log"] is (variant == "-loguniform")
    assert set(ranges) == {"optimizer", "learning_rate", "batch_size", *COMMON, *EXTRA[optimizer]}
    assert isinstance(make_pruner(definition.early_terminate), optuna.pruners.HyperbandPruner)
    assert isinstance(make_sampler(definition, seed=0), optuna.samplers.GPSampler)


def test_every_distribution_samples_inside_its_range() -> None:
    definition = parse_sweep(
        minimal(
            learning_rate={"distribution": "log_uniform_values", "min": 0.0001, "max": 0.1},
            momentum={"distribution": "q_uniform", "min": 0.0, "max": 0.9, "q": 0.25},
            beta_1={"distribution": "uniform", "min": 0.9, "max": 0.99},
            rho={"distribution": "log_uniform", "min": math.log(0.5), "max": math.log(0.9)},
            beta_2={"distribution": "q_log_uniform_values", "min": 0.9, "max": 0.99, "q": 0.01},
            dense_1={"distribution": "int_uniform", "min": 8, "max": 16},
        )
    )
    kinds = {name: item.kind for name, item in definition.parameters.items()}
    assert kinds["dense_2"] == "constant" and kinds["batch_size"] == "categorical"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(40):
        trial = study.ask()
        config = definition.sample(trial)
        study.tell(trial, 0.0)
        assert 0.0001 <= config["learning_rate"] <= 0.1
        assert config["momentum"] in {0.0, 0.25, 0.5, 0.75}
        assert 0.9 <= config["beta_1"] <= 0.99 and 0.5 <= config["rho"] <= 0.9
        assert round(config["beta_2"] * 100) == pytest.approx(config["beta_2"] * 100)
        assert isinstance(config["dense_1"], int) and 8 <= config["dense_1"] <= 16
        assert config["batch_size"] in (32, 64) and config["dense_2"] == 8
    inferred = parse_sweep(minimal()).parameters
    assert inferred["dense_1"].kind == "int_uniform" and inferred["learning_rate"].kind == "uniform"


def test_methods_goals_and_hyperband_map_to_optuna() -> None:
    for method, sampler in (
        ("bayes", optuna.samplers.GPSampler),
        ("tpe", optuna.samplers.TPESampler),
        ("random", optuna.samplers.RandomSampler),
        ("grid", optuna.samplers.GridSampler),
    ):
        document = {**minimal(learning_rate={"values": [0.001, 0.01]}), "method": method}
        assert isinstance(make_sampler(parse_sweep(document), seed=1), sampler)
    maximise = parse_sweep({**minimal(), "metric": {"name": "val_accuracy", "goal": "maximize"}})
    assert maximise.direction == "maximize"
    pruner = make_pruner({"type": "hyperband", "min_iter": 2, "eta": 2})
    assert isinstance(pruner, optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner(None), optuna.pruners.NopPruner)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parameters": {"learning_rate": {"distribution": "beta", "min": 0, "max": 1}}}, "beta"),
        ({"parameters": {"dense_5": {"values": [8]}}}, "Unknown parameter 'dense_5'"),
        ({"parameters": {"learning_rate": {"min": 0.1, "max": 0.01}}}, "larger than max"),
        ({"metric": {"name": "validation_loss", "goal": "minimize"}}, "never logged"),
        ({"metric": {"name": "val_loss", "goal": "lowest"}}, "goal"),
        ({"method": "bohb"}, "method 'bohb'"),
        ({"run_cap": 0}, "run_cap"),
        ({"early_terminate": {"type": "median"}}, "early_terminate"),
        ({"learning_rate": 0.01}, "unknown top-level key"),
        ({"method": "grid"}, "finite"),
    ],
)
def test_bad_definitions_are_one_clear_error(change, message) -> None:
    document = minimal()
    for key, value in change.items():
        if key == "parameters":
            document["parameters"] = {**document["parameters"], **value}
        else:
            document[key] = value
    with pytest.raises(ValueError, match=message):
        parse_sweep(document, source="bad.yaml")


def test_missing_config_key_and_invalid_yaml(tmp_path) -> None:
    document = minimal()
    del document["parameters"]["dense_4"]
    with pytest.raises(ValueError, match="dense_4"):
        parse_sweep(document)
    broken = tmp_path / "broken.yaml"
    broken.write_text("method: bayes\nparameters: [unclosed\n")
    with pytest.raises(ValueError, match=r"broken\.yaml is not valid YAML"):
        load_sweep(broken)
    with pytest.raises(ValueError, match="does not exist"):
        load_sweep(tmp_path / "absent.yaml")
