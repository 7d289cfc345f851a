"""Measurements of notebooks 01 and 04: plain functions called on inputs drawn fresh each run.

The inputs are random (sizes, labels, accuracies) and chosen in the grader
process, so no fixed answer read from the grader's code can pass; the expected
value is computed here and every returned value is type-checked here: a ``str``
is not a float, and an object claiming to equal anything arrives as "other".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograder.measure.session import Session, StudentRaised
from autograder.measure.values import describe, number_value, sequence_values
from autograder.sandbox.driver import student_error

CASES = 5


def class_counts(session: Session) -> dict[str, Any]:
    """``class_counts`` on random labels: some classes absent (the last, the first), two dtypes."""
    generator = session.generator
    inputs, arrays, expected = [], [], []
    for case in range(CASES):
        # Case 0 never holds the last class and case 1 never the first, so an answer that
        # drops trailing or leading zero counts fails on every run, not only on some draws.
        pool = {0: np.arange(9), 1: np.arange(1, 10)}.get(case, np.arange(10))
        size = int(generator.integers(2, len(pool)))
        present = generator.choice(pool, size=size, replace=False)
        labels = generator.choice(present, size=int(generator.integers(1, 400)))
        labels = labels.astype(np.uint8 if case % 2 else np.int64)
        inputs.append({"index": len(arrays)})
        arrays.append(labels)
        expected.append(np.bincount(labels, minlength=10).tolist())
    answer = session.ask("call", {"inputs": inputs}, arrays)
    cases = []
    results = answer.value.items("results")
    for index, (result, wanted) in enumerate(zip(results, expected, strict=False)):
        if result.has("raised"):
            raise StudentRaised(student_error(result.raw("raised")))
        value = result.raw("value")
        counts = sequence_values(value, answer.arrays, integral=True)
        cases.append(
            {
                "correct": counts == wanted,
                "length": None if counts is None else len(counts),
                "returned": describe(value),
                "labels": len(arrays[index]),
            }
        )
    return {"cases": cases, "expected_cases": CASES}


def _accuracy_pair(generator: np.random.Generator, case: int) -> tuple[float, float]:
    """Train and validation accuracies at least 0.01 apart; case 0 overfits, case 1 underfits.

    So a gap of the wrong sign, or its absolute value, fails on every run.
    """
    while True:
        low, high = sorted(float(value) for value in generator.uniform(0.6, 0.99, 2).round(4))
        if high - low >= 0.01:
            break
    if case == 0 or (case > 1 and generator.random() < 0.5):
        return high, low
    return low, high


def generalisation_gap(session: Session) -> dict[str, Any]:
    """``generalisation_gap`` on saved-result dicts with random accuracies (gaps of both signs)."""
    generator = session.generator
    inputs, expected = [], []
    for case in range(CASES):
        train, val = _accuracy_pair(generator, case)
        losses = generator.uniform(0.2, 0.6, size=2).round(4)
        result = {
            "framework": str(generator.choice(["tensorflow", "pytorch"])),
            "metrics": {
                "train_accuracy": train,
                "val_accuracy": val,
                "train_loss": float(losses[0]),
                "val_loss": float(losses[1]),
                "test_accuracy": round(float(val - 0.01), 4),
                "test_loss": float(losses[1] + 0.02),
            },
            "history": {"accuracy": [train - 0.05, train], "val_accuracy": [val - 0.03, val]},
        }
        inputs.append({"value": result})
        expected.append(train - val)
    answer = session.ask("call", {"inputs": inputs})
    cases = []
    for result, wanted in zip(answer.value.items("results"), expected, strict=False):
        if result.has("raised"):
            raise StudentRaised(student_error(result.raw("raised")))
        value = result.raw("value")
        number = number_value(value, kinds=("float",))
        cases.append(
            {
                "correct": number is not None and math.isclose(number, wanted, abs_tol=1e-9),
                "is_float": number is not None,
                "returned": describe(value),
            }
        )
    return {"cases": cases, "expected_cases": CASES}
