"""What every hidden check shares: failing with feedback only, and reading probe records.

A probe (``autograder/sandbox/probe_*.py``) records each part it exercised, or an
``{"error": ..., "function": ..., "stage": ..., "where": ...}`` record when the
student's code raised. These helpers turn such records into one feedback
sentence that names the function and where to look, never the answer, and fail
without a traceback, so no check code reaches the student's feedback.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

import pytest


def fail(message: str) -> NoReturn:
    """Fail with ``message`` only: no traceback or assertion rewrite that shows check code."""
    pytest.fail(message, pytrace=False)


def require(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message)


def raised(record: Any, name: str | None = None) -> str | None:
    """A feedback sentence when a probe record holds an error, else ``None``.

    ``name`` is the part being judged, used when the error is the grader's own
    (the part returned something it could not examine) rather than the student's.
    """
    if not isinstance(record, dict) or "error" not in record:
        return None
    where = f" ({record['where']})" if record.get("where") else ""
    function = record.get("function")
    if function and record.get("stage") == "load":
        return (
            f"{function} could not be loaded from its cell ({record['error']}). "
            "Restart the kernel and run the notebook from the top to see the error."
        )
    if function:
        if record["error"].split(":")[0] == "NotImplementedError":
            return f"{function} is not implemented yet (it raises NotImplementedError)."
        return (
            f"{function} raised {record['error']}{where}. Run its cell and the quick "
            "checks below it to see the full traceback."
        )
    if name:
        return f"The grader could not examine what {name} returned: {record['error']}{where}."
    return f"The grader could not examine your code: {record['error']}{where}."


def part(observations: dict, name: str) -> Any:
    """One probe part, or a failure saying which function raised what, or why it is missing."""
    if name not in observations:
        reason = observations.get("error") or "the run stopped early (time or memory limit?)"
        fail(f"No observations of {name} were recorded: {reason}")
    record = observations[name]
    message = raised(record, name)
    if message:
        fail(message)
    return record


def close(value: Any, expected: float, *, relative: float = 1e-4, absolute: float = 1e-4) -> bool:
    """Whether a recorded number is ``expected`` up to float noise (strings, NaN: never)."""
    return isinstance(value, (int, float)) and math.isclose(
        value, expected, rel_tol=relative, abs_tol=absolute
    )
