"""Gradescope's ``results.json`` for one graded submission.

Follows Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level
``score`` and ``execution_time`` (seconds), and one entry in ``tests`` per
nbgrader test cell, with its ``score``, ``max_score``, the student-facing
feedback as ``output`` (never hidden test code) and a ``visibility``.
"""

from __future__ import annotations

from pathlib import Path

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def gradescope_results(result: dict, *, visibility: str = "visible") -> dict:
    """Gradescope's results object from one student's grading result."""
    if visibility not in VISIBILITIES:
        raise ValueError(
            f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}."
        )
    tests = []
    for notebook in result["notebooks"]:
        stem = Path(notebook["notebook"]).stem
        for cell in notebook["cells"]:
            passed = cell["points"] == cell["max_points"]
            tests.append(
                {
                    "name": f"{stem}: {cell['grade_id']}",
                    "score": cell["points"],
                    "max_score": cell["max_points"],
                    "status": "passed" if passed else "failed",
                    "output": "Hidden checks passed."
                    if passed
                    else "\n".join(f"- {message}" for message in dict.fromkeys(cell["feedback"])),
                    "visibility": visibility,
                }
            )
    return {
        "score": result["points"],
        "execution_time": round(result["seconds"]),
        "output": (
            f"Automatically graded: {result['points']:g} / {result['max_points']:g} points. "
            "Written answers are graded by hand."
        ),
        "visibility": visibility,
        "tests": tests,
    }
