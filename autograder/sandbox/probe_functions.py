"""Probes of the small pure functions of notebooks 01 and 04 (no framework needed).

Each function is called on fixed inputs and its result converted to plain
numbers here, inside the sandbox; an object that merely claims to be equal to
anything cannot survive that conversion, and the grader compares the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autograder.sandbox.probe_support import describe_error
from mlpkit.notebook_code import load_cells

CALLS = {
    "exploration": ("class_counts", [[0, 3, 3, 9], [7, 7, 7, 1, 0]]),
    "comparison": (
        "generalisation_gap",
        [
            {"metrics": {"train_accuracy": 0.93, "val_accuracy": 0.89}},
            {"metrics": {"train_accuracy": 0.81, "val_accuracy": 0.86}},
        ],
    ),
}


def collect_kind(kind: str, notebook: Path, output_dir: Path) -> None:
    """Call the notebook's function on each fixed input; record numbers or the error."""
    function_name, inputs = CALLS[kind]
    observations: dict[str, object] = {"kind": kind, "function": function_name}
    try:
        # Only the function's own cell: notebook 04's set-up reads saved results.
        module = load_cells(notebook, [function_name], namespace={"np": np})
        function = getattr(module, function_name)
    except BaseException as exception:  # noqa: BLE001 - student code may raise anything
        observations["load"] = describe_error(exception)
        function = None
    results = []
    for argument in inputs:
        if function is None:
            break
        try:
            value = function(np.array(argument) if isinstance(argument, list) else argument)
            results.append({"value": np.asarray(value, dtype=float).tolist()})
        except BaseException as exception:  # noqa: BLE001
            results.append(describe_error(exception))
    observations["results"] = results
    (output_dir / "observations.json").write_text(json.dumps(observations))
