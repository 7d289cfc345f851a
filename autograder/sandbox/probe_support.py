"""What every probe shares: naming the student function at fault, and plain-JSON records.

Probes run student code and record observations; when a student function raises,
the record names the function, the stage (``load`` for a cell that failed to run,
``call`` for a call) and the notebook cell and line, so the checks can point the
student at the right place.
"""

from __future__ import annotations

import math
import traceback
from typing import Any

import numpy as np

ERROR_LENGTH = 500


class StudentCodeError(Exception):
    """An exception from a student function, or from loading its cell; names the function."""

    def __init__(self, function_name: str, error: BaseException, *, stage: str = "call") -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.function_name = function_name
        self.error = error
        self.stage = stage


def describe_error(error: BaseException) -> dict[str, str]:
    """The ``{"error": "Type: message"}`` record, plus the function and notebook line at fault."""
    culprit = error.error if isinstance(error, StudentCodeError) else error
    message = str(culprit).strip()
    text = f"{type(culprit).__name__}: {message}" if message else type(culprit).__name__
    record = {"error": text[:ERROR_LENGTH]}
    if isinstance(error, StudentCodeError):
        record.update(function=error.function_name, stage=error.stage)
    cells = [
        frame
        for frame in traceback.extract_tb(culprit.__traceback__)
        if ".ipynb:" in frame.filename
    ]
    if cells:
        record["where"] = f"cell {cells[-1].filename.rsplit(':', 1)[1]}, line {cells[-1].lineno}"
    return record


def jsonable(value: Any) -> Any:
    """Plain JSON from arrays, tensors and NumPy scalars; non-finite floats become strings.

    Strict JSON (``allow_nan=False``) keeps a diverged loss from being read back as
    a number by a check; anything else unknown is recorded by its (short) repr.
    """
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if hasattr(value, "numpy"):
        return jsonable(np.asarray(value.numpy()).tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)[:ERROR_LENGTH]
