"""The optimizers' update rules, in NumPy, as PyTorch and Keras define them.

The optimizer check gives the student's optimizer committed weights and a few
challenge gradients, and compares the weights it reaches with these rules under
the config's hyperparameters. When they differ, the same rules under other
readings (another optimizer, a framework default left in place of a config
value) name the mistake, and the reading found is what the grader's accuracy
retrain reproduces.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autograder.measure.maths import relative_error

STEP_TOLERANCE = 1e-3
HYPERPARAMETERS = {
    "sgd": ("learning_rate", "momentum"),
    "adam": ("learning_rate", "beta_1", "beta_2"),
    "rmsprop": ("learning_rate", "rho", "momentum"),
}
DEFAULTS = {
    "pytorch": {
        "sgd": {"learning_rate": 0.001, "momentum": 0.0},
        "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999},
        "rmsprop": {"learning_rate": 0.01, "rho": 0.99, "momentum": 0.0},
    },
    "tensorflow": {
        "sgd": {"learning_rate": 0.01, "momentum": 0.0},
        "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999},
        "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0},
    },
}
EPSILON = {"pytorch": 1e-8, "tensorflow": 1e-7}


@dataclass(frozen=True)
class OptimizerReading:
    """An optimizer and its hyperparameters (``defaults``: which ones were left at default)."""

    kind: str
    hyperparameters: dict[str, float]
    defaults: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "hyperparameters": self.hyperparameters}


def steps(
    framework: str,
    reading: OptimizerReading,
    parameters: Sequence[np.ndarray],
    gradients: Sequence[Sequence[np.ndarray]],
) -> list[list[np.ndarray]]:
    """The parameters after each step of ``reading`` applied to ``gradients`` (float64)."""
    values = [np.asarray(parameter, dtype=np.float64).copy() for parameter in parameters]
    first = [np.zeros_like(value) for value in values]
    second = [np.zeros_like(value) for value in values]
    hyper, epsilon = reading.hyperparameters, EPSILON[framework]
    history = []
    for step, gradient_set in enumerate(gradients, start=1):
        for index, gradient in enumerate(gradient_set):
            gradient = np.asarray(gradient, dtype=np.float64)
            update = _UPDATES[(framework, reading.kind)](
                gradient, first, second, index, step, hyper, epsilon
            )
            values[index] = values[index] - update
        history.append([value.copy() for value in values])
    return history


def _torch_sgd(gradient, first, second, index, step, hyper, epsilon):
    momentum = hyper["momentum"]
    if momentum:
        first[index] = gradient if step == 1 else momentum * first[index] + gradient
        return hyper["learning_rate"] * first[index]
    return hyper["learning_rate"] * gradient


def _torch_adam(gradient, first, second, index, step, hyper, epsilon):
    beta_1, beta_2 = hyper["beta_1"], hyper["beta_2"]
    first[index] = beta_1 * first[index] + (1 - beta_1) * gradient
    second[index] = beta_2 * second[index] + (1 - beta_2) * gradient**2
    denominator = np.sqrt(second[index]) / np.sqrt(1 - beta_2**step) + epsilon
    return hyper["learning_rate"] / (1 - beta_1**step) * first[index] / denominator


def _torch_rmsprop(gradient, first, second, index, step, hyper, epsilon):
    rho, momentum = hyper["rho"], hyper["momentum"]
    second[index] = rho * second[index] + (1 - rho) * gradient**2
    scaled = gradient / (np.sqrt(second[index]) + epsilon)
    if momentum:
        first[index] = momentum * first[index] + scaled
        return hyper["learning_rate"] * first[index]
    return hyper["learning_rate"] * scaled


def _keras_sgd(gradient, first, second, index, step, hyper, epsilon):
    momentum = hyper["momentum"]
    if momentum:
        first[index] = momentum * first[index] - hyper["learning_rate"] * gradient
        return -first[index]
    return hyper["learning_rate"] * gradient


def _keras_adam(gradient, first, second, index, step, hyper, epsilon):
    beta_1, beta_2 = hyper["beta_1"], hyper["beta_2"]
    rate = hyper["learning_rate"] * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    first[index] = first[index] + (gradient - first[index]) * (1 - beta_1)
    second[index] = second[index] + (gradient**2 - second[index]) * (1 - beta_2)
    return first[index] * rate / (np.sqrt(second[index]) + epsilon)


def _keras_rmsprop(gradient, first, second, index, step, hyper, epsilon):
    rho, momentum = hyper["rho"], hyper["momentum"]
    second[index] = rho * second[index] + (1 - rho) * gradient**2
    increment = hyper["learning_rate"] * gradient / np.sqrt(second[index] + epsilon)
    if momentum:
        first[index] = momentum * first[index] + increment
        return first[index]
    return increment


_UPDATES = {
    ("pytorch", "sgd"): _torch_sgd,
    ("pytorch", "adam"): _torch_adam,
    ("pytorch", "rmsprop"): _torch_rmsprop,
    ("tensorflow", "sgd"): _keras_sgd,
    ("tensorflow", "adam"): _keras_adam,
    ("tensorflow", "rmsprop"): _keras_rmsprop,
}


def candidate_readings(framework: str, config: dict) -> list[OptimizerReading]:
    """The config's optimizer first, then every optimizer with each value config-or-default."""
    candidates = []
    for kind in (
        config["optimizer"],
        *(name for name in HYPERPARAMETERS if name != config["optimizer"]),
    ):
        keys = HYPERPARAMETERS[kind]
        for choice in itertools.product((False, True), repeat=len(keys)):
            hyper = {
                key: float(DEFAULTS[framework][kind][key] if default else config[key])
                for key, default in zip(keys, choice, strict=True)
            }
            defaults = tuple(key for key, default in zip(keys, choice, strict=True) if default)
            candidates.append(OptimizerReading(kind, hyper, defaults))
    return candidates


def step_error(
    observed: Sequence[Sequence[np.ndarray]],
    expected: Sequence[Sequence[np.ndarray]],
    start: Sequence[np.ndarray],
) -> float:
    """Largest relative error of the updates (parameters minus their start) over all steps."""
    if len(observed) != len(expected):
        return float("inf")
    errors = [0.0]
    for observed_step, expected_step in zip(observed, expected, strict=True):
        if len(observed_step) != len(expected_step):
            return float("inf")
        for got, want, first in zip(observed_step, expected_step, start, strict=True):
            errors.append(relative_error(np.asarray(got) - first, want - first))
    return max(errors)


def identify_optimizer(
    framework: str,
    config: dict,
    parameters: Sequence[np.ndarray],
    gradients: Sequence[Sequence[np.ndarray]],
    observed: Sequence[Sequence[np.ndarray]],
) -> tuple[OptimizerReading | None, float]:
    """The first reading whose updates match ``observed`` (the config's own comes first)."""
    start = [np.asarray(parameter, dtype=np.float64) for parameter in parameters]
    best: tuple[OptimizerReading | None, float] = (None, float("inf"))
    for reading in candidate_readings(framework, config):
        error = step_error(observed, steps(framework, reading, start, gradients), start)
        if error <= STEP_TOLERANCE:
            return reading, error
        if error < best[1]:
            best = (None, error)
    return best
