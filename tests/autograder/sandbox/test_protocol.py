"""The channel's message format: exact round trips, and every size checked before it is read."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from autograder.sandbox.protocol import (
    HEADER_LIMIT,
    MESSAGE_LIMIT,
    Checked,
    ProtocolError,
    encode_message,
    read_message,
    write_all,
)


def roundtrip(data: bytes, *, deadline: float | None = None):
    read_end, write_end = os.pipe()
    writer = threading.Thread(target=lambda: (write_all(write_end, data), os.close(write_end)))
    writer.start()
    try:
        return read_message(read_end, deadline=deadline)
    finally:
        writer.join()
        os.close(read_end)


def test_header_and_arrays_round_trip_exactly() -> None:
    arrays = [np.arange(12, dtype=np.float32).reshape(3, 4), np.array([1, 2], dtype=np.int64)]
    message = roundtrip(encode_message({"id": 7, "value": {"loss": float("nan")}}, arrays))
    assert message.header == {"id": 7, "value": {"loss": "nan"}}  # non-finite floats become names
    assert [array.dtype.name for array in message.arrays] == ["float32", "int64"]
    assert np.array_equal(message.arrays[0], arrays[0]) and message.arrays[0].flags.writeable


def test_object_arrays_are_refused_when_sent() -> None:
    with pytest.raises(ProtocolError, match="cannot send"):
        encode_message({}, [np.array([{"a": 1}], dtype=object)])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((HEADER_LIMIT + 1).to_bytes(8, "big"), "header of"),
        (b"\x00\x00\x00\x00\x00\x00\x00\x05[1,2", "not JSON|closed"),
        (b"\x00\x00\x00\x00\x00\x00\x00\x02[]", "not an object"),
    ],
)
def test_malformed_headers_are_refused(data: bytes, message: str) -> None:
    with pytest.raises((ProtocolError, EOFError), match=message):
        roundtrip(data)


def _header(arrays: list) -> bytes:
    import json

    text = json.dumps({"arrays": arrays}).encode()
    return len(text).to_bytes(8, "big") + text


@pytest.mark.parametrize(
    "arrays",
    [
        [{"dtype": "object", "shape": [1]}],
        [{"dtype": "float32", "shape": [MESSAGE_LIMIT, 2]}],
        [{"dtype": "float32", "shape": [-1]}],
        [{"dtype": "float32", "shape": [1, 1, 1, 1, 1]}],
        [{"dtype": "uint8", "shape": [MESSAGE_LIMIT // 2]}] * 3,
    ],
)
def test_array_sizes_and_types_are_checked_before_reading(arrays) -> None:
    with pytest.raises(ProtocolError):
        roundtrip(_header(arrays))


def test_a_silent_host_hits_the_deadline() -> None:
    import time

    read_end, write_end = os.pipe()
    try:
        with pytest.raises(TimeoutError):
            read_message(read_end, deadline=time.monotonic() + 0.2)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_checked_values_are_typed_in_the_trusted_process() -> None:
    checked = Checked({"loss": "0.5", "flag": 1, "count": True, "ok": 3, "index": 0}, [np.zeros(2)])
    with pytest.raises(ProtocolError, match="finite number"):
        checked.number("loss")  # a str is not a float
    with pytest.raises(ProtocolError, match="boolean"):
        checked.boolean("flag")
    with pytest.raises(ProtocolError, match="integer"):
        checked.integer("count")  # JSON true is not 1
    assert checked.integer("ok") == 3
    with pytest.raises(ProtocolError, match="dtype"):
        checked.array("index", dtype="int64")
    with pytest.raises(ProtocolError, match="lacks"):
        checked.raw("missing")
