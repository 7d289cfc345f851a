"""Inside the sandbox: load the student's cells, call them, describe what they returned.

This module runs in the student host, next to the student's code, so nothing it
reports is trusted: the driver checks every answer (DESIGN.md). It only has to be
*correct* for honest code and must never let a student's error stop the host.
References to the builtins it relies on are taken at import time, before any
student cell runs, so a cell that rebinds ``builtins.isinstance`` or ``type``
does not change what the host reports.
"""

from __future__ import annotations

import builtins
import math
import signal
import traceback
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

_TYPE = builtins.type
_ISINSTANCE = builtins.isinstance
_LEN = builtins.len
_FLOAT = builtins.float
_INT = builtins.int
_STR = builtins.str
_DICT_ITEMS = dict.items
_LIST_ITER = list.__iter__
_TUPLE_ITER = tuple.__iter__
ERROR_LENGTH = 500
ARRAY_ELEMENTS = 20_000_000
SEQUENCE_ITEMS = 2_000
DEPTH = 12


class StudentError(Exception):
    """A student function (or cell) raised: carries the record the driver turns into feedback."""

    def __init__(self, record: dict[str, str]) -> None:
        super().__init__(record.get("message", ""))
        self.record = record


def error_record(error: BaseException, function: str | None = None) -> dict[str, str]:
    """``{"type", "message", "where", "function"}`` of an exception raised by student code."""
    message = _STR(error).strip()[:ERROR_LENGTH]
    record = {"type": _TYPE(error).__name__[:100], "message": message}
    if function:
        record["function"] = function
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if "cell:" in frame.filename
    ]
    if frames:
        record["where"] = (
            f"cell {frames[-1].filename.split('cell:', 1)[1]}, line {frames[-1].lineno}"
        )
    return record


@contextmanager
def alarm(seconds: float | None):
    """Raise ``TimeoutError`` after ``seconds`` (the driver's own deadline is the hard bound)."""
    if not seconds:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cell_code(source: str) -> str:
    """A cell's source without IPython magics and shell escapes (``%...``, ``!...``)."""
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def run_cells(
    sources: Sequence[tuple[str, str]], namespace: dict[str, Any], *, seconds: float
) -> dict[str, Any]:
    """Execute each ``(grade_id, source)`` in ``namespace``; ``{grade_id: "ok" | error record}``.

    One cell that raises does not stop the others: each later cell still sees
    what the earlier ones defined.
    """
    status: dict[str, Any] = {}
    for grade_id, source in sources:
        try:
            code = compile(cell_code(source), f"cell:{grade_id}", "exec")
            with alarm(seconds):
                exec(code, namespace)
            status[grade_id] = "ok"
        except BaseException as error:  # noqa: BLE001 - a cell may raise anything, SystemExit too
            status[grade_id] = error_record(error, function=grade_id)
    return status


def call_student(
    namespace: dict[str, Any], name: str, *arguments: Any, seconds: float | None = None
) -> Any:
    """Call the student's ``name`` with ``arguments``; a raise becomes :class:`StudentError`."""
    function = namespace.get(name)
    if function is None:
        raise StudentError(
            {"type": "NameError", "message": f"{name} is not defined", "function": name}
        )
    try:
        with alarm(seconds):
            return function(*arguments)
    except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
        raise StudentError(error_record(error, function=name)) from None


def to_numpy(value: Any) -> np.ndarray | None:
    """A NumPy copy of an array-like (NumPy, torch, TensorFlow), or ``None``."""
    if _ISINSTANCE(value, np.ndarray):
        return value
    module = _TYPE(value).__module__ or ""
    if module.startswith("torch"):
        return value.detach().cpu().numpy()
    if module.startswith(("tensorflow", "keras")) and hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return None


def encode_value(value: Any, arrays: list[np.ndarray], depth: int = 0) -> dict[str, Any]:
    """A tagged, plain-JSON description of a student's return value (types kept).

    ``{"t": "float", "v": 0.5}``, ``{"t": "int", ...}``, ``{"t": "array", "index": 3,
    "source": "tensor"}`` (the array travels in ``arrays``), ``{"t": "list", "v":
    [...]}``, ``{"t": "other", "type": "Foo"}``. NumPy scalars keep their kind
    (``np.float64`` is a float, ``np.int64`` an int); the driver decides what counts.
    """
    kind = _TYPE(value)
    if depth > DEPTH:
        return {"t": "other", "type": "too deeply nested"}
    if value is None:
        return {"t": "none"}
    if kind is bool or kind is np.bool_:
        return {"t": "bool", "v": bool(value)}
    if _ISINSTANCE(value, (int, np.integer)) and kind is not bool:
        number = _INT(value)
        return {"t": "int", "v": number if abs(number) < 2**62 else _STR(number)[:50]}
    if _ISINSTANCE(value, (float, np.floating)):
        number = _FLOAT(value)
        return {"t": "float", "v": number if math.isfinite(number) else _STR(number)}
    if kind is str:
        return {"t": "str", "v": value[:ERROR_LENGTH]}
    array = to_numpy(value)
    if array is not None:
        source = "ndarray" if _ISINSTANCE(value, np.ndarray) else "tensor"
        if array.size > ARRAY_ELEMENTS or array.dtype.kind not in "biuf":
            return {"t": "other", "type": f"{source} of {array.dtype}, {array.size} elements"}
        target = {"b": "bool", "i": "int64", "u": "int64", "f": "float64"}[array.dtype.kind]
        arrays.append(np.ascontiguousarray(array, dtype=target).reshape(array.shape[:4]))
        return {"t": "array", "index": _LEN(arrays) - 1, "source": source}
    if _ISINSTANCE(value, (list, tuple)):
        iterate = _LIST_ITER if _ISINSTANCE(value, list) else _TUPLE_ITER
        items = []
        for item in iterate(value):
            if _LEN(items) >= SEQUENCE_ITEMS:
                break
            items.append(encode_value(item, arrays, depth + 1))
        return {"t": "list" if _ISINSTANCE(value, list) else "tuple", "v": items}
    if _ISINSTANCE(value, dict):
        pairs = []
        for key, item in _DICT_ITEMS(value):
            if _LEN(pairs) >= SEQUENCE_ITEMS:
                break
            pairs.append([_STR(key)[:200], encode_value(item, arrays, depth + 1)])
        return {"t": "dict", "v": pairs}
    return {"t": "other", "type": kind.__name__[:200]}


def plain_data(value: Any, budget: list[int], depth: int = 0) -> Any:
    """A copy of nested dicts, lists, strings and numbers read through the base types.

    A ``dict`` subclass with its own ``items`` or ``__iter__`` is read with
    ``dict.items`` itself, so what the driver gets is what the object holds.
    ``budget`` holds the number of nodes still allowed; anything else is refused.
    """
    budget[0] -= 1
    if budget[0] < 0 or depth > DEPTH:
        raise ValueError("the value is too large or too deeply nested")
    if value is None or _TYPE(value) in (bool, int, float):
        if _TYPE(value) is float and not math.isfinite(value):
            raise ValueError(f"the value holds a non-finite number ({value})")
        return value
    if _ISINSTANCE(value, str):
        if _LEN(value) > 100_000:
            raise ValueError("a string in the value is longer than 100,000 characters")
        return _STR.__str__(value)
    if _ISINSTANCE(value, dict):
        return {_STR(key): plain_data(item, budget, depth + 1) for key, item in _DICT_ITEMS(value)}
    if _ISINSTANCE(value, (list, tuple)):
        iterate = _LIST_ITER if _ISINSTANCE(value, list) else _TUPLE_ITER
        return [plain_data(item, budget, depth + 1) for item in iterate(value)]
    raise ValueError(f"the value holds a {_TYPE(value).__name__}, not plain data")


Handler = Callable[[dict[str, Any], list[np.ndarray]], tuple[dict[str, Any], list[np.ndarray]]]
