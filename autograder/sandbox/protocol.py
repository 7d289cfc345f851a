"""The one message format between the trusted driver and the sandboxed student host.

Both sides import this module (it needs only the standard library and NumPy). A
message is a length-prefixed JSON header followed by the raw bytes of the NumPy
arrays it lists::

    8 bytes   big-endian length of the header
    header    UTF-8 JSON object; "arrays": [{"dtype": "float32", "shape": [2, 10]}, ...]
    payload   each array's bytes, C order, in the order listed

Nothing is pickled, nothing is compressed and no file is read: the driver reads
the host's answers from a pipe with :func:`read_message`, which checks every size
*before* it allocates (header, each array, the whole message), accepts only the
plain dtypes below, and gives up at a deadline. Everything a host sends is
untrusted data; :class:`Checked` helpers turn its fields into Python values of
the expected type or raise :class:`ProtocolError`.
"""

from __future__ import annotations

import json
import math
import os
import select
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HEADER_LIMIT = 1 << 20  # 1 MiB of JSON per message
MESSAGE_LIMIT = 32 << 20  # 32 MiB of arrays per message (a model's weights take under 8)
ARRAY_DIMENSIONS = 4
DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")
LENGTH_BYTES = 8


class ProtocolError(ValueError):
    """A message broke the format: too big, malformed, of the wrong type, or late."""


@dataclass
class Message:
    """One decoded message: its JSON header (without "arrays") and its arrays."""

    header: dict[str, Any]
    arrays: list[np.ndarray] = field(default_factory=list)


def encode_message(header: dict[str, Any], arrays: Sequence[np.ndarray] = ()) -> bytes:
    """The bytes of one message (raises ``ProtocolError`` for an unsupported array)."""
    described, payloads = [], []
    for array in arrays:
        array = np.ascontiguousarray(array)
        if array.dtype.name not in DTYPES or array.ndim > ARRAY_DIMENSIONS:
            raise ProtocolError(f"cannot send an array of {array.dtype} with {array.ndim} axes")
        described.append({"dtype": array.dtype.name, "shape": list(array.shape)})
        payloads.append(array.tobytes())
    text = json.dumps(_finite({**header, "arrays": described}), allow_nan=False).encode()
    if len(text) > HEADER_LIMIT:
        raise ProtocolError(f"message header of {len(text)} bytes exceeds {HEADER_LIMIT}")
    return len(text).to_bytes(LENGTH_BYTES, "big") + text + b"".join(payloads)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its name ("nan", "inf", "-inf")."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a file descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_message(fd: int, header: dict[str, Any], arrays: Sequence[np.ndarray] = ()) -> None:
    """Write one whole message to a file descriptor."""
    write_all(fd, encode_message(header, arrays))


def _read_exactly(fd: int, count: int, deadline: float | None) -> bytes:
    chunks, remaining = [], count
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer before the deadline")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the channel was closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _array_size(description: Any) -> tuple[np.dtype, tuple[int, ...], int]:
    if not isinstance(description, dict):
        raise ProtocolError("an array description is not an object")
    dtype, shape = description.get("dtype"), description.get("shape")
    if dtype not in DTYPES:
        raise ProtocolError(f"array dtype {dtype!r} is not allowed")
    if (
        not isinstance(shape, list)
        or len(shape) > ARRAY_DIMENSIONS
        or not all(type(size) is int and 0 <= size <= MESSAGE_LIMIT for size in shape)
    ):
        raise ProtocolError(f"array shape {shape!r} is not allowed")
    elements = math.prod(shape)
    size = elements * np.dtype(dtype).itemsize
    if size > MESSAGE_LIMIT:
        raise ProtocolError(f"an array of {size} bytes exceeds {MESSAGE_LIMIT}")
    return np.dtype(dtype), tuple(shape), size


def read_message(fd: int, *, deadline: float | None = None) -> Message:
    """Read one message, checking each size before reading it (see the module docstring)."""
    length = int.from_bytes(_read_exactly(fd, LENGTH_BYTES, deadline), "big")
    if length > HEADER_LIMIT:
        raise ProtocolError(f"message header of {length} bytes exceeds {HEADER_LIMIT}")
    try:
        header = json.loads(_read_exactly(fd, length, deadline))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError(f"message header is not JSON ({error})") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays", []), list):
        raise ProtocolError("message header is not an object with an array list")
    sizes = [_array_size(description) for description in header.pop("arrays", [])]
    if sum(size for _, _, size in sizes) > MESSAGE_LIMIT:
        raise ProtocolError(f"message arrays exceed {MESSAGE_LIMIT} bytes")
    arrays = [
        np.frombuffer(_read_exactly(fd, size, deadline), dtype=dtype).reshape(shape).copy()
        for dtype, shape, size in sizes
    ]
    return Message(header, arrays)


# ---------------------------------------------------------------- checked access


class Checked:
    """Typed access to an untrusted JSON object: every getter validates or raises.

    ``Checked(answer).number("loss")`` is a finite ``float`` (JSON bool is not a
    number), ``.text("name", limit=...)`` a bounded ``str``, ``.array(...)`` one
    of the message's arrays with the dtype and shape asked for.
    """

    def __init__(self, value: Any, arrays: Sequence[np.ndarray] = (), *, where: str = "answer"):
        if not isinstance(value, dict):
            raise ProtocolError(f"{where} is not an object")
        self.value = value
        self.arrays = arrays
        self.where = where

    def has(self, key: str) -> bool:
        return key in self.value

    def raw(self, key: str) -> Any:
        if key not in self.value:
            raise ProtocolError(f"{self.where} lacks {key!r}")
        return self.value[key]

    def child(self, key: str) -> Checked:
        return Checked(self.raw(key), self.arrays, where=f"{self.where}.{key}")

    def items(self, key: str) -> list[Checked]:
        values = self.raw(key)
        if not isinstance(values, list) or len(values) > 10_000:
            raise ProtocolError(f"{self.where}.{key} is not a list")
        return [
            Checked(item, self.arrays, where=f"{self.where}.{key}[{index}]")
            for index, item in enumerate(values)
        ]

    def number(self, key: str) -> float:
        value = self.raw(key)
        if type(value) not in (int, float) or not math.isfinite(value):
            raise ProtocolError(f"{self.where}.{key} is not a finite number")
        return float(value)

    def integer(self, key: str, *, low: int = -(2**62), high: int = 2**62) -> int:
        value = self.raw(key)
        if type(value) is not int or not low <= value <= high:
            raise ProtocolError(f"{self.where}.{key} is not an integer in [{low}, {high}]")
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if type(value) is not bool:
            raise ProtocolError(f"{self.where}.{key} is not a boolean")
        return value

    def text(self, key: str, *, limit: int = 2000) -> str:
        value = self.raw(key)
        if type(value) is not str:
            raise ProtocolError(f"{self.where}.{key} is not a string")
        return value[:limit]

    def array(
        self, key: str, *, dtype: str | Sequence[str], shape: Sequence[int | None] | None = None
    ) -> np.ndarray:
        index = self.integer(key, low=0, high=len(self.arrays) - 1)
        array = self.arrays[index]
        allowed = (dtype,) if isinstance(dtype, str) else tuple(dtype)
        if array.dtype.name not in allowed:
            raise ProtocolError(f"{self.where}.{key} has dtype {array.dtype}, not {allowed}")
        if shape is not None and (
            array.ndim != len(shape)
            or any(
                want is not None and want != got
                for want, got in zip(shape, array.shape, strict=False)
            )
        ):
            raise ProtocolError(f"{self.where}.{key} has shape {array.shape}, not {tuple(shape)}")
        return array
