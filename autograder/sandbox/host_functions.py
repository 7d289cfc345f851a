"""Host operations of notebooks 01, 04 and 05: call a plain function, read the sweeps.

``call`` calls the student's function on the driver's fresh inputs and returns
the tagged result; ``sweeps`` reads the three sweep definitions through the base
types (a ``dict`` subclass cannot show the driver something else) with a size
budget. The driver does every comparison.
"""

from __future__ import annotations

from typing import Any

from autograder.sandbox.host_support import (
    StudentError,
    call_student,
    encode_value,
    error_record,
    plain_data,
)

CALLABLE = {"exploration": "class_counts", "comparison": "generalisation_gap"}
SWEEP_NAMES = ("sgd_sweep", "adam_sweep", "rmsprop_sweep")
SWEEP_NODES = 20_000


def handlers(state: Any, kind: str) -> dict[str, Any]:
    def call(args: dict[str, Any], arrays: list) -> tuple[dict[str, Any], list]:
        """Call the notebook's function once per input; arrays travel as NumPy arrays."""
        results, returned = [], []
        for argument in args["inputs"]:
            value = arrays[argument["index"]] if "index" in argument else argument["value"]
            try:
                result = call_student(state.namespace, CALLABLE[kind], value, seconds=10)
                results.append({"value": encode_value(result, returned)})
            except StudentError as error:
                results.append({"raised": error.record})
        return {"results": results}, returned

    def sweeps(args: dict[str, Any], arrays: list) -> tuple[dict[str, Any], list]:
        found: dict[str, Any] = {}
        for name in SWEEP_NAMES:
            if name not in state.namespace:
                found[name] = {"missing": True}
                continue
            try:
                found[name] = {"value": plain_data(state.namespace[name], [SWEEP_NODES])}
            except Exception as error:  # noqa: BLE001 - a hostile object may raise anything
                found[name] = {"unreadable": error_record(error)}
        return {"sweeps": found}, []

    if kind == "tuning":
        return {"sweeps": sweeps}
    return {"call": call}
