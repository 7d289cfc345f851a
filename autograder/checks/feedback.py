"""What every hidden check shares: failing with feedback only, and reading measurements.

The driver (``autograder/measure``) records each part it measured as
``{"status": "ok", ...facts}``, or ``"raised"`` (a student function raised; the
record names it, with the cell and line), or ``"stopped"`` (the student's code
exited, crashed or ran out of time or memory while that part ran). These
helpers turn the last two into one feedback sentence that names the function
and where to look, never the answer, and fail without a traceback, so no check
code reaches the student's feedback.
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


def error_sentence(record: dict[str, Any]) -> str:
    """One sentence for a student error record (``type``, ``message``, ``where``, ``function``)."""
    function = record.get("function") or "your code"
    kind, message = record.get("type", "an error"), record.get("message", "")
    where = f" ({record['where']})" if record.get("where") else ""
    if kind == "NotImplementedError":
        return f"{function} is not implemented yet (it raises NotImplementedError)."
    if record.get("stage") == "load":
        if kind == "Stopped":
            return f"The cell {function} stopped the grader's run of your code: {message}."
        return (
            f"The cell {function} could not be run ({kind}: {message}){where}. Restart the kernel "
            "and run the notebook from the top to see the error."
        )
    detail = f"{kind}: {message}" if message else kind
    return (
        f"{function} raised {detail}{where}. Run its cell and the quick checks below it to "
        "see the full traceback."
    )


def part(measurements: dict, name: str) -> dict[str, Any]:
    """One measured part, or a failure saying which function raised what, or why it stopped."""
    record = measurements.get(name)
    if record is None:
        fail(f"The grader has no measurement of {name}: the run of your code stopped early.")
    status = record.get("status")
    if status == "raised":
        fail(error_sentence(record["error"]))
    if status == "stopped":
        fail(f"While the grader exercised {name}, {record['reason']}.")
    if status != "ok":
        fail(f"The grader could not examine {name} ({record.get('reason', status)}).")
    return record


def close(value: Any, expected: float, *, relative: float = 1e-4, absolute: float = 1e-4) -> bool:
    """Whether a measured number is ``expected`` up to float noise (None, NaN: never)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and math.isclose(value, expected, rel_tol=relative, abs_tol=absolute)
    )
