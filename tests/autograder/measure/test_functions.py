"""01's and 04's measurements: the drawn inputs catch a wrong answer on every run, not on some.

The student's function is answered in this process through the host's own
value encoding (no sandbox: what is under test is the driver's choice of inputs
and its verdict, which run in the trusted process).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.measure.functions import CASES, class_counts, generalisation_gap
from autograder.sandbox.driver import Answer
from autograder.sandbox.host_support import encode_value
from autograder.sandbox.protocol import Checked


def answered_by(function: Callable, seed: int) -> tuple[SimpleNamespace, list[np.ndarray]]:
    """A session whose ``call`` requests run ``function`` here; also returns the inputs sent."""
    sent: list[np.ndarray] = []

    def ask(operation: str, args: dict, arrays=(), **_) -> Answer:
        if operation != "call":
            raise ValueError(f"unexpected request {operation!r}")
        sent.extend(arrays)
        returned: list[np.ndarray] = []
        arguments = [
            arrays[item["index"]] if "index" in item else item["value"] for item in args["inputs"]
        ]
        results = [{"value": encode_value(function(argument), returned)} for argument in arguments]
        return Answer(Checked({"results": results}, returned), returned)

    return SimpleNamespace(generator=np.random.default_rng(seed), ask=ask), sent


def correct(labels):
    return np.bincount(labels, minlength=10)


def no_minlength(labels):
    return np.bincount(labels)


def leading_zeros_moved_to_the_end(labels):
    counts = np.bincount(labels, minlength=10)
    return np.roll(counts, -int(np.flatnonzero(counts)[0]))


def test_every_draw_holds_a_case_without_the_last_and_one_without_the_first_class() -> None:
    for seed in range(200):
        session, sent = answered_by(correct, seed)
        measured = class_counts(session)
        assert len(sent) == CASES == measured["expected_cases"]
        assert all(case["correct"] for case in measured["cases"])
        assert 9 not in sent[0] and 0 not in sent[1]
        assert {array.dtype for array in sent} == {np.dtype(np.uint8), np.dtype(np.int64)}


def gap(result):
    return result["metrics"]["train_accuracy"] - result["metrics"]["val_accuracy"]


def reversed_gap(result):
    return -gap(result)


def absolute_gap(result):
    return abs(gap(result))


def test_every_draw_holds_an_overfit_and_an_underfit_case() -> None:
    for seed in range(200):
        session, _ = answered_by(gap, seed)
        measured = generalisation_gap(session)
        assert all(case["correct"] and case["is_float"] for case in measured["cases"])
        assert len(measured["cases"]) == CASES


@pytest.mark.parametrize(
    ("measure", "wrong"),
    [
        (class_counts, no_minlength),
        (class_counts, leading_zeros_moved_to_the_end),
        (generalisation_gap, reversed_gap),
        (generalisation_gap, absolute_gap),
    ],
)
def test_a_wrong_answer_fails_on_every_draw(measure, wrong) -> None:
    for seed in range(200):
        session, _ = answered_by(wrong, seed)
        cases = measure(session)["cases"]
        assert not all(case["correct"] for case in cases), f"seed {seed} let {wrong.__name__} pass"
