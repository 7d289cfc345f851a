"""Reading the host's tagged return values in the trusted process (``host_support.encode_value``).

Every conversion happens here, never in the sandbox: ``number_value`` accepts a
tag of the allowed kinds only (a ``str`` that looks like a number is not one),
``sequence_values`` reads a list, tuple or array, and ``describe`` says in a few
words what came back, for feedback.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograder.sandbox.protocol import ProtocolError


def _tag(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("t"), str):
        raise ProtocolError("a returned value is not a tagged value")
    return value["t"]


def array_value(value: Any, arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The array a tagged ``array`` value refers to (None for other tags)."""
    if _tag(value) != "array":
        return None
    index = value.get("index")
    if type(index) is not int or not 0 <= index < len(arrays):
        raise ProtocolError("a returned array is missing")
    return arrays[index]


def number_value(
    value: Any, arrays: Sequence[np.ndarray] = (), *, kinds: Sequence[str] = ("float", "int")
) -> float | None:
    """A finite number of one of ``kinds`` (``"tensor"``: a one-element tensor too), else None."""
    tag = _tag(value)
    if tag in kinds and tag in ("float", "int"):
        number = value.get("v")
        if type(number) in (int, float) and math.isfinite(number):
            return float(number)
        return None
    if tag == "array" and "tensor" in kinds:
        array = array_value(value, arrays)
        if array is not None and array.size == 1 and array.dtype.kind == "f":
            number = float(array.reshape(-1)[0])
            return number if math.isfinite(number) else None
    return None


def sequence_values(
    value: Any, arrays: Sequence[np.ndarray], *, integral: bool = False
) -> list[float] | None:
    """The numbers of a returned list, tuple or 1-D array (None if it is not one)."""
    tag = _tag(value)
    if tag == "array":
        array = array_value(value, arrays)
        if array is None or array.ndim != 1:
            return None
        numbers = [float(item) for item in array.tolist()]
    elif tag in ("list", "tuple"):
        numbers = []
        for item in value.get("v", []):
            number = number_value(item)
            if number is None:
                return None
            numbers.append(number)
    else:
        return None
    if integral and not all(number == int(number) for number in numbers):
        return None
    return [int(number) for number in numbers] if integral else numbers


def describe(value: Any) -> str:
    """A short description of a returned value: ``float``, ``a list of 3``, ``a str``..."""
    try:
        tag = _tag(value)
    except ProtocolError:
        return "an unreadable value"
    if tag in ("list", "tuple"):
        return f"a {tag} of {len(value.get('v', []))}"
    if tag == "array":
        return f"an {value.get('source', 'array')}"
    if tag == "other":
        return f"a {str(value.get('type', 'object'))[:80]}"
    if tag == "none":
        return "None"
    return f"a {tag}"
